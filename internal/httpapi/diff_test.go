package httpapi_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// TestJobDiff posts running configs against a finished job's config:
// the config itself is in sync, an edited one gets the remediation that
// undoes the edit, and bad input is a 400 naming the field.
func TestJobDiff(t *testing.T) {
	t.Parallel()
	srv, _ := newServer(t, httpapi.Config{}, 1)
	c := httpapi.NewClient(srv.URL, srv.Client(), "")
	sub, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
		Kind: netcfg.KindGenerate, Device: &netcfg.Device{Hostname: "sw1", Platform: netcfg.CiscoXE}, Requirements: "access switch",
	}})
	if err != nil {
		t.Fatal(err)
	}
	final, err := c.Wait(t.Context(), sub.ID, nil)
	if err != nil || final.Status != netcfg.StateSucceeded {
		t.Fatalf("job = %+v, %v; want succeeded", final, err)
	}
	var res generate.Result
	if err := json.Unmarshal(final.Result, &res); err != nil || !strings.HasPrefix(res.Config, "hostname ") {
		t.Fatalf("job config = %q (%v), want one that starts with its hostname", res.Config, err)
	}
	hostLine, _, _ := strings.Cut(res.Config, "\n")
	url := srv.URL + "/v1/jobs/" + sub.ID + "/diff"
	body := func(running string) string {
		b, _ := json.Marshal(httpapi.DiffRequest{Running: running})
		return string(b)
	}

	resp, out := post(t, url, body(res.Config))
	if resp.StatusCode != http.StatusOK || out["in_sync"] != true || len(out["remediation"].([]any)) != 0 {
		t.Fatalf("the job's own config: %d %v; want 200, in sync", resp.StatusCode, out)
	}
	drifted := strings.Replace(res.Config, hostLine, hostLine+"-old", 1) + "ip host drift 192.0.2.1\n"
	resp, out = post(t, url, body(drifted))
	rem, _ := out["remediation"].([]any)
	if resp.StatusCode != http.StatusOK || out["in_sync"] != false || out["job_id"] != sub.ID || out["platform"] != "cisco_xe" ||
		!containsAll(rem, hostLine, "no ip host drift 192.0.2.1") {
		t.Fatalf("drifted config: %d %v; want the hostname back and the extra line negated", resp.StatusCode, out)
	}

	queued, _ := newServer(t, httpapi.Config{}, 0)
	_, qsub := post(t, queued.URL+"/v1/jobs", validJob)
	bad := []struct {
		name, url, body string
		code            int
		inMsg           string
	}{
		{"no running", url, `{}`, 400, "running"},
		{"NUL", url, body("hostname a\x00"), 400, "running"},
		{"bad platform", url, `{"running":"hostname a","platform":"cisco_asa"}`, 400, "platform"},
		{"unknown field", url, `{"runing":"x"}`, 400, "runing"},
		{"junos against ios", url, body("set system host-name sw1\nset interfaces ge-0/0/0 unit 0\n"), 400, "running"},
		{"no such job", srv.URL + "/v1/jobs/nope/diff", body("hostname a"), 404, "no such job"},
		{"queued job", queued.URL + "/v1/jobs/" + qsub["id"].(string) + "/diff", body("hostname a"), 409, "no config"},
	}
	for _, b := range bad {
		resp, out := post(t, b.url, b.body)
		e, _ := out["error"].(map[string]any)
		msg, _ := e["message"].(string)
		if resp.StatusCode != b.code || !strings.Contains(msg, b.inMsg) {
			t.Errorf("%s: %d %v; want %d with %q", b.name, resp.StatusCode, out, b.code, b.inMsg)
		}
	}
}

func containsAll(lines []any, want ...string) bool {
	for _, w := range want {
		found := false
		for _, l := range lines {
			if l == w {
				found = true
			}
		}
		if !found {
			return false
		}
	}
	return true
}
