package store_test

import (
	"fmt"
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/netcfg"
	"netsmith/internal/store"
)

// TestJobVersions reads the versions of a few jobs, of one of each
// statement shape (63 = 32+16+8+4+2+1) and of more than one full
// statement's worth, with unknown ids among them: each existing job is
// reported as GetJob reads it, a changed job with its new version, and
// unknown ids not at all.
func TestJobVersions(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, url string) {
		ctx := t.Context()
		c := openConn(t, url)
		var ids []string
		for i := range 70 {
			ids = append(ids, insertJob(t, c, fmt.Sprintf("v%02d", i), nil).ID)
		}
		if ok, err := store.MarkState(ctx, c, "v03", netcfg.StateRunning, "", 2, noon, noon.Add(1500)); !ok || err != nil {
			t.Fatalf("MarkState = %v, %v", ok, err)
		}
		for _, tt := range []struct {
			ask  []string
			want int // versions: the known ids
		}{
			{[]string{"v03", "nope"}, 1},
			{ids[:63], 63},
			{append(append([]string{}, ids...), "nope", "nada"), len(ids)},
		} {
			got, err := store.JobVersions(ctx, c, tt.ask)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.want {
				t.Errorf("%d versions for %d ids, want %d", len(got), len(tt.ask), tt.want)
			}
			for _, id := range tt.ask {
				j, err := store.GetJob(ctx, c, id)
				if err == netcfg.ErrNotFound {
					if _, ok := got[id]; ok {
						t.Errorf("a version for unknown job %s", id)
					}
					continue
				}
				if err != nil {
					t.Fatal(err)
				}
				if got[id] != netcfg.VersionOf(j) {
					t.Errorf("%s: version %+v, want %+v", id, got[id], netcfg.VersionOf(j))
				}
			}
		}
		if v := netcfg.VersionOf(mustGet(t, c, "v03")); v.State != netcfg.StateRunning || v.Attempts != 2 {
			t.Errorf("v03 version %+v, want running, attempt 2", v)
		}
	})
}

func mustGet(t *testing.T, c store.Conn, id string) *netcfg.Job {
	t.Helper()
	j, err := store.GetJob(t.Context(), c, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}
