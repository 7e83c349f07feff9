package submit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"netsmith/internal/dbtest"
	"netsmith/internal/fleet"
	"netsmith/internal/ledger"
	"netsmith/internal/netcfg"
	"netsmith/internal/queue"
	"netsmith/internal/store"
	"netsmith/internal/submit"
)

// who submits for one department, as the API's authentication does; a
// non-nil refuse is its admission's answer.
type who struct {
	department string
	refuse     error
}

func (w who) Attribute(j *netcfg.Job, department string) error {
	j.Department, j.Owner = w.department, "tester"
	if department != "" {
		j.Department = department
	}
	return nil
}

func (w who) Admit(context.Context) error { return w.refuse }

// cost is what each test's Estimate reserves per job.
const cost = 60

// open returns a submission service on a queue (without workers) on a
// fresh database at url.
func open(t *testing.T, url string, cfg submit.Config) (*submit.Service, *store.DB) {
	t.Helper()
	db := dbtest.Open(t, url)
	q, err := queue.New(db, queue.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(q.Close)
	est := func(*netcfg.JobRequest) (int64, error) { return cost, nil }
	return submit.New(cfg, submit.Deps{Queue: q, Ledger: ledger.New(db, nil), Estimate: est}), db
}

func request(hostname string) *netcfg.JobRequest {
	return &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "An access switch.",
		Device: &netcfg.Device{Hostname: hostname, Platform: "cisco_xe"}}
}

func parseFleet(t *testing.T, hostnames ...string) *fleet.Fleet {
	t.Helper()
	data := "version: 1\ngroups:\n  acc: {role: access, platform: cisco_xe, requirements: An access switch.}\ndevices:\n"
	for _, h := range hostnames {
		data += "  - {hostname: " + h + ", group: acc}\n"
	}
	f, err := fleet.Parse("fleet.yaml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// count returns the rows of one of netsmith's tables.
func count(t *testing.T, db *store.DB, table string) int64 {
	t.Helper()
	var n int64
	if err := db.Conn().QueryRow(t.Context(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// reserved is what department's jobs hold of its daily budget.
func reserved(t *testing.T, db *store.DB, department string) int64 {
	t.Helper()
	l := ledger.New(db, nil)
	b, err := l.Budget(t.Context(), department)
	if err != nil {
		t.Fatal(err)
	}
	us, err := l.Usage(t.Context(), department, b, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range us {
		if u.Period == "day" {
			return u.ReservedNUSD
		}
	}
	t.Fatalf("no daily usage for %s: %+v", department, us)
	return 0
}

// TestValidationNamesField: a bad request is refused before anything is
// stored, with an error that names the field; a fleet's names the device.
func TestValidationNamesField(t *testing.T) {
	t.Parallel()
	s := submit.New(submit.Config{}, submit.Deps{}) // never reaches the queue
	for _, tt := range []struct {
		name  string
		req   *netcfg.JobRequest
		field string
	}{
		{"no kind", &netcfg.JobRequest{}, "kind"},
		{"no device", &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "x"}, "device"},
		{"bad hostname", &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "x",
			Device: &netcfg.Device{Hostname: "-bad", Platform: "cisco_xe"}}, "device.hostname"},
		{"bad platform", &netcfg.JobRequest{Kind: netcfg.KindGenerate, Requirements: "x",
			Device: &netcfg.Device{Hostname: "sw1", Platform: "toaster"}}, "device.platform"},
		{"no requirements", &netcfg.JobRequest{Kind: netcfg.KindGenerate,
			Device: &netcfg.Device{Hostname: "sw1", Platform: "cisco_xe"}}, "requirements"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := s.Job(t.Context(), who{department: "a"}, submit.Job{Request: tt.req})
			var fe *netcfg.FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field {
				t.Errorf("Job() error = %v, want a field error on %q", err, tt.field)
			}
		})
	}

	// The estimate refuses a device's request: the error names the device.
	tooLong := &netcfg.FieldError{Field: "requirements", Msg: "the prompt is over the limit"}
	s = submit.New(submit.Config{}, submit.Deps{Estimate: func(r *netcfg.JobRequest) (int64, error) {
		if r.Device.Hostname == "sw2" {
			return 0, tooLong
		}
		return cost, nil
	}})
	_, err := s.Fleet(t.Context(), who{department: "a"}, "f", parseFleet(t, "sw1", "sw2"), false, "")
	var fe *netcfg.FieldError
	if !errors.As(err, &fe) || fe.Field != "device sw2: requirements" {
		t.Errorf("Fleet() error = %v, want a field error on device sw2's requirements", err)
	}
}

// TestIdempotency: a key reused with the same request returns the first
// job and reserves nothing more; with another request it is a conflict.
func TestIdempotency(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		s, db := open(t, url, submit.Config{})
		ctx := t.Context()
		if err := ledger.New(db, nil).PutBudget(ctx, &netcfg.Budget{Department: "a", DailyNUSD: 1000}); err != nil {
			t.Fatal(err)
		}
		in := submit.Job{Request: request("sw1"), IdempotencyKey: "k1"}
		first, dup, err := s.Job(ctx, who{department: "a"}, in)
		if err != nil || dup {
			t.Fatalf("first submission: dup=%t err=%v", dup, err)
		}
		again, dup, err := s.Job(ctx, who{department: "a"}, submit.Job{Request: request("sw1"), IdempotencyKey: "k1"})
		if err != nil || !dup || again.ID != first.ID {
			t.Fatalf("same key and request: job %v dup=%t err=%v, want job %s dup=true", again, dup, err, first.ID)
		}
		_, _, err = s.Job(ctx, who{department: "a"}, submit.Job{Request: request("sw2"), IdempotencyKey: "k1"})
		if !errors.Is(err, netcfg.ErrConflict) {
			t.Fatalf("same key, other request: err = %v, want netcfg.ErrConflict", err)
		}
		if n := count(t, db, "netsmith_job"); n != 1 {
			t.Errorf("%d jobs stored, want 1", n)
		}
		if r := reserved(t, db, "a"); r != cost {
			t.Errorf("reserved %d, want one job's %d", r, cost)
		}
	})
}

// TestBudgetRefusal: a submission the budget cannot cover is refused with
// a BudgetError and leaves nothing behind: no job, no batch, no
// reservation, no slot.
func TestBudgetRefusal(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		s, db := open(t, url, submit.Config{})
		ctx := t.Context()
		if err := ledger.New(db, nil).PutBudget(ctx, &netcfg.Budget{Department: "a", DailyNUSD: 100}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Job(ctx, who{department: "a"}, submit.Job{Request: request("sw1")}); err != nil {
			t.Fatalf("first job, within the budget: %v", err)
		}
		var be *netcfg.BudgetError
		_, _, err := s.Job(ctx, who{department: "a"}, submit.Job{Request: request("sw2")})
		if !errors.As(err, &be) || be.Department != "a" || be.EstimateNUSD != cost {
			t.Fatalf("second job: err = %v, want a BudgetError for department a, estimate %d", err, cost)
		}
		// A fleet of two needs 120 where 40 remain: refused after its
		// batch row was written in the same transaction.
		if _, err := s.Fleet(ctx, who{department: "a"}, "f", parseFleet(t, "sw3", "sw4"), false, ""); !errors.As(err, &be) {
			t.Fatalf("fleet: err = %v, want a BudgetError", err)
		}
		for table, want := range map[string]int64{"netsmith_job": 1, "netsmith_batch": 0} {
			if n := count(t, db, table); n != want {
				t.Errorf("%s has %d rows, want %d", table, n, want)
			}
		}
		if r := reserved(t, db, "a"); r != cost {
			t.Errorf("reserved %d, want the first job's %d only", r, cost)
		}
	})
}

// TestFleet: a fleet's batch row and every device's job are written
// together, and a refused admission writes none of them.
func TestFleet(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, url string) {
		s, db := open(t, url, submit.Config{MaxQueue: 5})
		ctx := t.Context()
		if err := ledger.New(db, nil).PutBudget(ctx, &netcfg.Budget{Department: "a", DailyNUSD: 1000}); err != nil {
			t.Fatal(err)
		}
		full := errors.New("rate limited")
		if _, err := s.Fleet(ctx, who{department: "a", refuse: full}, "f", parseFleet(t, "sw1", "sw2"), false, ""); !errors.Is(err, full) {
			t.Fatalf("refused admission: err = %v, want %v", err, full)
		}
		var tl *submit.TooLargeError
		if _, err := s.Fleet(ctx, who{department: "a"}, "f", parseFleet(t, "s1", "s2", "s3", "s4", "s5", "s6"), false, ""); !errors.As(err, &tl) {
			t.Fatalf("fleet larger than the queue: err = %v, want a TooLargeError", err)
		}
		if n := count(t, db, "netsmith_batch") + count(t, db, "netsmith_job"); n != 0 {
			t.Fatalf("refused fleets left %d rows", n)
		}

		b, err := s.Fleet(ctx, who{department: "a"}, "f", parseFleet(t, "sw1", "sw2", "sw3"), false, "")
		if err != nil {
			t.Fatal(err)
		}
		if b.Department != "a" || b.Devices != 3 || b.Intents != 1 {
			t.Errorf("batch %+v, want department a, 3 devices, 1 intent", b)
		}
		st, err := db.GetBatch(ctx, b.ID, true)
		if err != nil {
			t.Fatal(err)
		}
		if st.States[netcfg.StateQueued] != 3 {
			t.Errorf("batch states %v, want 3 queued", st.States)
		}
		jobs, err := db.ListBatchJobs(ctx, b.ID, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		hosts := map[string]bool{}
		for _, j := range jobs {
			var req netcfg.JobRequest
			if err := json.Unmarshal(j.Request, &req); err != nil {
				t.Fatal(err)
			}
			hosts[req.Device.Hostname] = j.Department == "a" && j.Kind == netcfg.KindGenerate
		}
		if len(hosts) != 3 || !hosts["sw1"] || !hosts["sw2"] || !hosts["sw3"] {
			t.Errorf("batch jobs by hostname (department a, generate): %v", hosts)
		}
		if r := reserved(t, db, "a"); r != 3*cost {
			t.Errorf("reserved %d, want %d (the cache is off: one call per device)", r, 3*cost)
		}
	})
}
