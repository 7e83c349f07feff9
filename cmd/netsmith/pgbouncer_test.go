package main

import (
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/httpapi"
	"netsmith/internal/llm/fakeanthropic"
	"netsmith/internal/llm/llmtest"
	"netsmith/internal/netcfg"
)

// TestPgBouncerFourReplicas is the multi-machine shape through a real
// PgBouncer in transaction mode: 2 API and 2 worker processes of the built
// binary, all started at once on an empty database with ?pgbouncer=true,
// run 300 jobs of 300 intents against the fake Anthropic upstream. Every
// job succeeds, is stored once, called upstream once and charged once, and
// both API and both worker processes take part.
func TestPgBouncerFourReplicas(t *testing.T) {
	t.Parallel()
	const n = 300
	url := dbtest.PgBouncer(t)
	up := llmtest.NewServer(t, fakeanthropic.Config{Latency: 20 * time.Millisecond})
	env := map[string]string{"ANTHROPIC_API_KEY": "test-key", "ANTHROPIC_BASE_URL": up.URL}
	common := []string{"--db", url, "--poll-interval", "200ms"}
	var procs []*proc
	for _, role := range []string{"api", "api", "worker", "worker"} {
		procs = append(procs, launchProcess(t, env, append([]string{"--role", role, "--concurrency", "20"}, common...)...))
	}
	for _, p := range procs {
		p.await(t)
	}
	for _, p := range procs {
		resp, err := http.Get("http://" + p.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/readyz of pid %d: %s; want 200", p.cmd.Process.Pid, resp.Status)
		}
	}
	apis, workers := procs[:2], procs[2:]

	ids := make([]string, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < n; i += 4 {
				c := apis[i%2].client()
				resp, err := c.Submit(t.Context(), &httpapi.SubmitRequest{JobRequest: netcfg.JobRequest{
					Kind:         netcfg.KindGenerate,
					Device:       &netcfg.Device{Hostname: fmt.Sprintf("pgb-%04d", i), Platform: netcfg.AristaEOS, Role: "leaf"},
					Requirements: fmt.Sprintf("EVPN leaf, eBGP to two spines, VLAN %d", 100+i),
				}})
				if err != nil {
					errs <- fmt.Errorf("submit %d to api %d: %w", i, i%2, err)
					continue
				}
				ids[i] = resp.ID
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	jobs := waitAll(t, apis[0].client(), ids, 4*time.Minute)
	checkExactlyOnce(t, url, jobs)

	var ledgerRows, ledgerJobs, unpriced int64
	if err := openStore(t, url).Conn().QueryRow(t.Context(),
		`SELECT count(*), count(DISTINCT job_id), count(*) FILTER (WHERE cost_nusd <= 0) FROM netsmith_ledger`).
		Scan(&ledgerRows, &ledgerJobs, &unpriced); err != nil {
		t.Fatal(err)
	}
	if ledgerRows != n || ledgerJobs != n || unpriced != 0 {
		t.Errorf("ledger: %d rows for %d jobs, %d without cost; want %d priced rows, one per job", ledgerRows, ledgerJobs, unpriced, n)
	}
	if st := up.Fake.Stats(); st.Succeeded != n {
		t.Errorf("upstream answered %d calls; want %d, one per job", st.Succeeded, n)
	}
	w1, w2 := succeededBy(t, workers[0]), succeededBy(t, workers[1])
	if w1+w2 != n || w1 == 0 || w2 == 0 {
		t.Errorf("workers completed %d and %d jobs; want %d in all, shared by both", w1, w2, n)
	}
	t.Logf("%d jobs through PgBouncer: workers ran %d and %d", n, w1, w2)
	checkClusterGauges(t, procs, 2)
}
