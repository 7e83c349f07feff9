package httpapi_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"strings"
	"testing"

	"netsmith/internal/diff"
	"netsmith/internal/generate"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
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

// tarGz makes a tar.gz holding files (name → content).
func tarGz(t *testing.T, files ...[2]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f[0], Mode: 0o644, Size: int64(len(f[1]))}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(f[1])); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := gz.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBatchDrift posts a batch's running configs: one as generated, one
// edited, one binary, one absent, and the counts and remediation say so;
// a bad archive is a 400 naming what is wrong.
func TestBatchDrift(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 1)
	c := httpapi.NewClient(srv.URL, srv.Client(), "")
	ctx := t.Context()
	fleet := "hostname,role,platform,requirements\nsw1,access,cisco_xe,access switch\nsw2,access,cisco_xe,access switch\nsw3,access,cisco_xe,access switch\nsw4,access,cisco_xe,access switch\n"
	b, err := c.SubmitFleet(ctx, httpapi.SubmitOptions{Name: "f.csv", Format: "csv"}, []byte(fleet))
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := store.ListBatchJobs(ctx, q.DB.Conn(), b.ID, "", 10)
	if err != nil || len(jobs) != 4 {
		t.Fatalf("%d jobs, %v", len(jobs), err)
	}
	for _, j := range jobs {
		if v, err := c.Wait(ctx, j.ID, nil); err != nil || v.Status != netcfg.StateSucceeded {
			t.Fatalf("job %s = %+v, %v", j.ID, v, err)
		}
	}
	configs := map[string]string{}
	if err := c.BatchResults(ctx, b.ID, func(br *httpapi.BatchResult) error {
		var res generate.Result
		if err := json.Unmarshal(br.Result, &res); err != nil {
			return err
		}
		configs[br.Hostname] = res.Config
		return nil
	}); err != nil || len(configs) != 4 {
		t.Fatalf("results: %d configs, %v", len(configs), err)
	}
	archive := tarGz(t,
		[2]string{"running/sw1.cfg", configs["sw1"]},
		[2]string{"sw2.conf", configs["sw2"] + "ip host drift 192.0.2.1\n"},
		[2]string{"sw3", "hostname sw3\x00\n"},
		[2]string{"._sw1.cfg", "resource fork"})
	dr, err := c.BatchDrift(ctx, b.ID, archive)
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, d := range dr.Devices {
		status[d.Hostname] = d.Status
	}
	want := map[string]string{"sw1": diff.InSync, "sw2": diff.Drifted, "sw3": diff.Failed, "sw4": diff.Missing}
	if !maps.Equal(status, want) || dr.InSync != 1 || dr.Drifted != 1 || dr.Missing != 1 || dr.Errors != 1 || dr.BatchID != b.ID {
		t.Fatalf("drift = %+v, statuses %v; want %v", dr, status, want)
	}
	for _, d := range dr.Devices {
		if d.Hostname == "sw2" && (d.Result == nil || d.Result.Text() != "no ip host drift 192.0.2.1\n") {
			t.Errorf("sw2 remediation = %+v", d.Result)
		}
	}

	url := srv.URL + "/v1/batches/" + b.ID + "/drift"
	for _, bad := range []struct {
		name  string
		body  []byte
		code  int
		inMsg string
	}{
		{"not gzip", []byte("hostname sw1\n"), 400, "tar.gz"},
		{"no configs", tarGz(t), 400, "no running config"},
		{"twice", tarGz(t, [2]string{"sw1.cfg", "x"}, [2]string{"a/sw1.txt", "y"}), 400, "body.a/sw1.txt"},
		{"bad name", tarGz(t, [2]string{"sw 1.cfg", "x"}), 400, "body.sw 1.cfg"},
	} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bad.body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != bad.code || !strings.Contains(string(body), bad.inMsg) {
			t.Errorf("%s: %d %s; want %d naming %q", bad.name, resp.StatusCode, body, bad.code, bad.inMsg)
		}
	}
	if _, err := c.BatchDrift(ctx, "no-such-batch", archive); !isStatus(err, http.StatusNotFound) {
		t.Errorf("unknown batch: %v, want 404", err)
	}
}
