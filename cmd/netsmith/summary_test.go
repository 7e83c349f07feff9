package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"netsmith/internal/llm"
	"netsmith/internal/llm/sim"
	"netsmith/internal/prompt"
)

// readSummary reads DIR/summary.json.
func readSummary(t *testing.T, dir string) Summary {
	t.Helper()
	var sum Summary
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// hardCodeMarker in an intent's requirements makes hardCodingUpstream write
// the example device's hostname into that intent's templates.
const hardCodeMarker = "HARDCODE-HOSTNAME"

// templateAsConfigMarker in an intent's requirements makes
// hardCodingUpstream answer that intent's config prompts with a template.
const templateAsConfigMarker = "TEMPLATE-AS-CONFIG"

// nulConfigMarker makes hardCodingUpstream answer the intent's config
// prompts with a config holding a NUL byte, which verify cannot parse.
const nulConfigMarker = "NUL-IN-CONFIG"

// hardCodingUpstream is an Anthropic Messages endpoint that answers like
// sim, except that a template asked for an intent whose requirements hold
// hardCodeMarker has the example's hostname written in instead of the
// variable: a template the proof must refuse, every try. calls counts the
// answers.
func hardCodingUpstream(t *testing.T, calls *atomic.Int64) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/messages" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Model    string `json:"model"`
			Messages []struct {
				Role    string          `json:"role"`
				Content json.RawMessage `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req llm.Request
		for _, m := range body.Messages {
			var text string
			if json.Unmarshal(m.Content, &text) != nil {
				var blocks []struct{ Text string }
				_ = json.Unmarshal(m.Content, &blocks)
				for _, b := range blocks {
					text += b.Text
				}
			}
			req.Messages = append(req.Messages, llm.Message{Role: m.Role, Content: text})
		}
		answer := sim.Answer(req)
		spec, ok := prompt.Parse(req.Messages[len(req.Messages)-1].Content)
		if ok && spec.Task == prompt.TaskTemplate && strings.Contains(spec.Requirements, hardCodeMarker) {
			host, _ := spec.Vars["hostname"].(string)
			answer = strings.NewReplacer("{{.hostname}}", host, "{{$.hostname}}", host).Replace(answer)
		}
		if ok && spec.Task == prompt.TaskConfig && strings.Contains(spec.Requirements, templateAsConfigMarker) {
			answer = "```\nhostname {{.hostname}}\n{{range .ntp_servers}}ntp server {{.}}\n{{end}}```\n"
		}
		if ok && spec.Task == prompt.TaskConfig && strings.Contains(spec.Requirements, nulConfigMarker) {
			answer = "```\nhostname " + spec.Hostname + "\x00\n```\n"
		}
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"id": "msg_test", "type": "message", "role": "assistant", "model": body.Model,
			"content":     []map[string]string{{"type": "text", "text": answer}},
			"stop_reason": "end_turn",
			"usage":       map[string]int64{"input_tokens": 100 + int64(len(answer)%7), "output_tokens": sim.CountTokens(answer)},
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

const rejectingFleet = `version: 1
defaults:
  platform: cisco_xe
  vars:
    ntp_servers: [10.0.0.11]
    enable_secret: "vault:lab/enable"
groups:
  good:
    role: access
    requirements: Layer-2 access switch, SSH only.
  bad:
    role: distribution
    requirements: Distribution switch, SSH only. ` + hardCodeMarker + `
devices:
  - {hostname: acc1, group: good, vars: {mgmt_ip: 10.1.0.11/24}}
  - {hostname: acc2, group: good, vars: {mgmt_ip: 10.1.0.12/24}}
  - {hostname: acc3, group: good, vars: {mgmt_ip: 10.1.0.13/24}}
  - {hostname: dist1, group: bad, vars: {mgmt_ip: 10.1.0.21/24}}
  - {hostname: dist2, group: bad, vars: {mgmt_ip: 10.1.0.22/24}}
  - {hostname: dist3, group: bad, vars: {mgmt_ip: 10.1.0.23/24}}
`

// TestBatchSummaryEqualsLedger: in a batch where one intent's template is
// refused, summary.json counts every model call and token the ledger holds
// for the batch (the refused template's tries too), names the refused
// intent with the proof's reason, and each of its devices' results carries
// that reason.
func TestBatchSummaryEqualsLedger(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	up := hardCodingUpstream(t, &calls)
	dir := t.TempDir()
	fleetPath := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(fleetPath, []byte(rejectingFleet), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	dbURL := "sqlite://" + filepath.Join(dir, "b.db")
	env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": up.URL}
	var stdout, stderr syncBuffer
	code := run(context.Background(), []string{"batch", fleetPath, "--out", out, "--db", dbURL, "--poll-interval", "100ms"},
		func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
	if code != 0 {
		t.Fatalf("batch exited %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	sum := readSummary(t, out)

	ledgerCalls := checkLedger(t, dbURL, &sum)
	// good: one template call; bad: two refused tries, then one call per device.
	if want := int64(1 + 2 + 3); ledgerCalls != want || calls.Load() != want {
		t.Errorf("ledger holds %d calls and the upstream answered %d, want %d", ledgerCalls, calls.Load(), want)
	}
	if sum.Fallbacks != 3 {
		t.Errorf("summary: %d fallbacks, want 3", sum.Fallbacks)
	}

	const reason = `hard-codes "dist1" (value of hostname)`
	if got := sum.TemplatesRejected; len(got) != 1 || !strings.HasPrefix(got["distribution/cisco_xe"], `hard-codes "dist`) {
		t.Errorf("summary: templates_rejected %v, want distribution/cisco_xe with the proof's reason (like %s)", got, reason)
	}
	if !strings.Contains(stderr.String(), "rejected 1") {
		t.Errorf("the progress lines do not count the rejected template:\n%s", stderr.String())
	}
	db := openStore(t, dbURL)
	rows, err := db.ReadConn().Query(t.Context(), `SELECT r.body FROM netsmith_result r JOIN netsmith_job j ON j.id = r.job_id
		WHERE j.batch_id = $1 AND r.cache = 'fallback'`, sum.Batch)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			t.Fatal(err)
		}
		var res struct {
			Hostname       string `json:"hostname"`
			FallbackReason string `json:"fallback_reason"`
		}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(res.FallbackReason, `template rejected: hard-codes "dist`) {
			t.Errorf("%s: fallback reason %q, want the proof's", res.Hostname, res.FallbackReason)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Errorf("%d fallback results, want 3", n)
	}
}

// TestBatchResolveSecrets: with --resolve-secrets a batch writes env: and
// file: references as the secrets, a literal hash verbatim either way, and
// a reference that does not resolve fails its device, naming it, with no
// file written.
func TestBatchResolveSecrets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const hash = "$6$rounds=5000$saltsalt$0123456789abcdefABCDEF"
	snmpFile := filepath.Join(dir, "snmp")
	if err := os.WriteFile(snmpFile, []byte("c0mmunity\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	fleetYAML := `version: 1
defaults:
  platform: arista_eos
  vars:
    enable_secret: "` + hash + `"
    admin_secret: "env:NS_ADMIN"
    snmp_community: "file:` + snmpFile + `"
groups:
  leaves:
    role: leaf
    requirements: Leaf switch, SSH only.
devices:
  - {hostname: leaf1, group: leaves, vars: {mgmt_ip: 10.1.0.11/24}}
  - {hostname: leaf2, group: leaves, vars: {mgmt_ip: 10.1.0.12/24}}
  - {hostname: leaf3, group: leaves, vars: {mgmt_ip: 10.1.0.13/24, admin_secret: "env:NS_UNSET"}}
`
	fleetPath := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(fleetPath, []byte(fleetYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"NS_ADMIN": "$6$admin$hash"}
	for _, resolve := range []bool{false, true} {
		out := filepath.Join(dir, fmt.Sprintf("out-%t", resolve))
		args := []string{"batch", fleetPath, "--out", out, "--db", "sqlite://" + filepath.Join(dir, "b.db"), "--poll-interval", "100ms"}
		if resolve {
			args = append(args, "--resolve-secrets")
		}
		var stdout, stderr syncBuffer
		code := run(context.Background(), args, func(k string) string { return env[k] }, strings.NewReader(""), &stdout, &stderr)
		wantCode := 0
		if resolve {
			wantCode = 1
		}
		if code != wantCode {
			t.Fatalf("resolve %t: batch exited %d, want %d\nstdout:\n%s\nstderr:\n%s", resolve, code, wantCode, stdout.String(), stderr.String())
		}
		for _, host := range []string{"leaf1", "leaf2"} {
			b, err := os.ReadFile(filepath.Join(out, host+".cfg"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := string(b)
			want := []string{"enable password sha512 " + hash + "\n", " secret sha512 <env:NS_ADMIN>\n", "<file:" + snmpFile + ">"}
			if resolve {
				want = []string{"enable password sha512 " + hash + "\n", " secret sha512 $6$admin$hash\n", "community c0mmunity "}
			}
			for _, w := range want {
				if !strings.Contains(cfg, w) {
					t.Errorf("resolve %t: %s lacks %q:\n%s", resolve, host, w, cfg)
				}
			}
		}
		_, err := os.Stat(filepath.Join(out, "leaf3.cfg"))
		if resolve != os.IsNotExist(err) {
			t.Errorf("resolve %t: leaf3.cfg: %v", resolve, err)
		}
		if resolve && !strings.Contains(stdout.String(), "FAILED leaf3: secret env:NS_UNSET: environment variable not set") {
			t.Errorf("the failure does not name leaf3 and its reference:\n%s", stdout.String())
		}
	}
}

// checkLedger fails the test unless sum's model calls and tokens are the
// ledger's rows for its batch, and returns the ledger's count of calls.
func checkLedger(t *testing.T, dbURL string, sum *Summary) int64 {
	t.Helper()
	var calls, in, out int64
	db := openStore(t, dbURL)
	if err := db.ReadConn().QueryRow(t.Context(), `SELECT count(*), COALESCE(sum(input_tokens), 0), COALESCE(sum(output_tokens), 0)
		FROM netsmith_ledger WHERE batch_id = $1 AND kind <> 'cache_hit'`, sum.Batch).Scan(&calls, &in, &out); err != nil {
		t.Fatal(err)
	}
	if sum.LLMCalls != calls || sum.Tokens.Input != in || sum.Tokens.Output != out {
		t.Errorf("summary: %d calls, %d/%d tokens; ledger: %d calls, %d/%d tokens",
			sum.LLMCalls, sum.Tokens.Input, sum.Tokens.Output, calls, in, out)
	}
	return calls
}
