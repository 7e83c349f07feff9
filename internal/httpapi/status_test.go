package httpapi_test

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestStatusFromMemoryScoped: a finished job's status is served from memory
// (the status cache's hits grow, its misses do not) with the body a
// database read gives, and another department's key still gets the 404 of
// a missing job on both status routes.
func TestStatusFromMemoryScoped(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		srv, q := newServerOn(t, url, httpapi.Config{}, 1, nil)
		userA := addKey(t, q, store.Key{Name: "alice", Department: "a", Role: store.RoleUser})
		userB := addKey(t, q, store.Key{Name: "bob", Department: "b", Role: store.RoleUser})
		id := submitAs(t, srv.URL, userA, validJob)

		deadline := time.Now().Add(30 * time.Second)
		for {
			resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/jobs/"+id, userA, "")
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("GET job as alice = %d %v", resp.StatusCode, body)
			}
			if body["status"] == string(netcfg.StateSucceeded) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("job still %v after 30s", body["status"])
			}
		}

		before := statusReads(t, srv.URL)
		_, first := call(t, http.MethodGet, srv.URL+"/v1/jobs/"+id, userA, "")
		_, legacy := call(t, http.MethodGet, srv.URL+"/api/job-status/"+id, userA, "")
		for range 10 {
			for _, path := range []string{"/v1/jobs/", "/api/job-status/"} {
				resp, got := call(t, http.MethodGet, srv.URL+path+id, userB, "")
				_, missing := call(t, http.MethodGet, srv.URL+path+"no-such-job", userB, "")
				if resp.StatusCode != http.StatusNotFound || string(got) != string(missing) {
					t.Fatalf("GET %s as department b = %d %s; want the 404 of a missing job %s", path+id, resp.StatusCode, got, missing)
				}
			}
			if _, got := call(t, http.MethodGet, srv.URL+"/v1/jobs/"+id, userA, ""); string(got) != string(first) {
				t.Fatalf("GET job again = %s, want %s", got, first)
			}
			if _, got := call(t, http.MethodGet, srv.URL+"/api/job-status/"+id, userA, ""); string(got) != string(legacy) {
				t.Fatalf("GET legacy status again = %s, want %s", got, legacy)
			}
		}
		after := statusReads(t, srv.URL)
		// Each of the 42 reads of the job's id is a hit; the misses are
		// the 20 reads of the missing job only.
		if hits := after["hit_final"] - before["hit_final"]; hits != 42 {
			t.Errorf("status reads of the finished job from memory: %v, want 42", hits)
		}
		if misses := after["miss"] - before["miss"]; misses != 20 {
			t.Errorf("status reads from the database: %v, want the 20 of the missing job", misses)
		}

		// What memory serves is what the database holds: the list,
		// read from the database, has the same view but for the result
		// (lists leave it out), which is the stored one.
		var list httpapi.JobList
		_, b := call(t, http.MethodGet, srv.URL+"/v1/jobs", userA, "")
		if err := json.Unmarshal(b, &list); err != nil || len(list.Jobs) != 1 {
			t.Fatalf("GET /v1/jobs = %s (%v), want one job", b, err)
		}
		fromDB, _ := json.Marshal(list.Jobs[0])
		var cached httpapi.JobView
		if err := json.Unmarshal(first, &cached); err != nil {
			t.Fatal(err)
		}
		j, err := q.Get(t.Context(), id)
		if err != nil || j.Result == nil || string(cached.Result) != string(j.Result.Body) {
			t.Errorf("result served from memory %s, stored %v (%v)", cached.Result, j, err)
		}
		cached.Result = nil
		fromMemory, _ := json.Marshal(&cached)
		if string(fromMemory) != string(fromDB) {
			t.Errorf("job served from memory:\n%s\nread from the database:\n%s", fromMemory, fromDB)
		}
	})
}

// statusReads reads netsmith_status_reads_total by result from /metrics.
func statusReads(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `netsmith_status_reads_total{result="`)
		if !ok {
			continue
		}
		name, v, _ := strings.Cut(rest, `"} `)
		out[name], _ = strconv.ParseFloat(v, 64)
	}
	return out
}
