package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"netsmith/internal/httpapi"
	"netsmith/internal/netcfg"
)

// TestListJobs: GET /v1/jobs pages through jobs newest first by cursor,
// filters by state and batch, and shows a user key its department's jobs
// only.
func TestListJobs(t *testing.T) {
	t.Parallel()
	srv, q := newServer(t, httpapi.Config{}, 0)
	admin := addKey(t, q, netcfg.Key{Name: "root", Department: "ops", Role: netcfg.RoleAdmin})
	alice := addKey(t, q, netcfg.Key{Name: "alice", Department: "a", Role: netcfg.RoleUser})
	bob := addKey(t, q, netcfg.Key{Name: "bob", Department: "b", Role: netcfg.RoleUser})
	var aJobs []string
	for range 5 {
		aJobs = append(aJobs, submitAs(t, srv.URL, alice, validJob))
	}
	bJob := submitAs(t, srv.URL, bob, validJob)
	canceled := aJobs[2]
	if resp, body := callJSON(t, http.MethodDelete, srv.URL+"/v1/jobs/"+canceled, alice, ""); resp.StatusCode != 200 {
		t.Fatalf("cancel: %d %v", resp.StatusCode, body)
	}

	c := httpapi.NewClient(srv.URL, srv.Client(), alice)
	var got []string
	cursor, pages := "", 0
	for {
		page, err := c.Jobs(t.Context(), url.Values{"limit": {"2"}, "cursor": {cursor}})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, j := range page.Jobs {
			got = append(got, j.ID)
			if j.Result != nil {
				t.Errorf("job %s listed with its result", j.ID)
			}
		}
		if cursor = page.NextCursor; cursor == "" || pages > 10 {
			break
		}
	}
	want := slices.Clone(aJobs)
	slices.Sort(want)
	sorted := slices.Clone(got)
	slices.Sort(sorted)
	if !slices.Equal(sorted, want) || pages != 3 {
		t.Errorf("alice's pages of 2: %v in %d pages; want her 5 jobs (%v), each once, in 3 pages", got, pages, aJobs)
	}

	for _, tt := range []struct {
		name, key string
		query     url.Values
		want      []string
	}{
		{"state filter", alice, url.Values{"state": {string(netcfg.StateCanceled)}}, []string{canceled}},
		{"another department's view", bob, nil, []string{bJob}},
		{"user cannot widen to another department", bob, url.Values{"department": {"a"}}, []string{bJob}},
		{"admin sees all", admin, nil, append(slices.Clone(aJobs), bJob)},
		{"admin picks a department", admin, url.Values{"department": {"b"}}, []string{bJob}},
		{"batch filter", admin, url.Values{"batch": {"no-such-batch"}}, nil},
	} {
		page, err := httpapi.NewClient(srv.URL, srv.Client(), tt.key).Jobs(t.Context(), tt.query)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		var ids []string
		for _, j := range page.Jobs {
			ids = append(ids, j.ID)
		}
		slices.Sort(ids)
		w := slices.Clone(tt.want)
		slices.Sort(w)
		if !slices.Equal(ids, w) || page.NextCursor != "" {
			t.Errorf("%s: %v (next %q), want %v", tt.name, ids, page.NextCursor, w)
		}
	}

	for _, bad := range []string{"state=done", "limit=0", "limit=5000", "cursor=%25%25"} {
		resp, body := callJSON(t, http.MethodGet, srv.URL+"/v1/jobs?"+bad, alice, "")
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(errorOf(body)["message"].(string), strings.SplitN(bad, "=", 2)[0]) {
			t.Errorf("GET /v1/jobs?%s = %d %v, want 400 naming the parameter", bad, resp.StatusCode, body)
		}
	}
}
