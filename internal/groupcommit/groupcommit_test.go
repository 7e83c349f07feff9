package groupcommit

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestGroupCommitter checks that writes arriving while a group commits
// share the next group, that one bad write fails only itself, and that
// after close each write commits on its own.
func TestGroupCommitter(t *testing.T) {
	var (
		mu      sync.Mutex
		groups  [][]int
		entered = make(chan struct{})
		release = make(chan struct{})
	)
	bad := errors.New("bad write")
	g := New(1, 8, 0, func(_ context.Context, vs []int) error {
		if vs[0] == 0 {
			close(entered)
			<-release // hold the first group while the others queue
		}
		mu.Lock()
		groups = append(groups, slices.Clone(vs))
		mu.Unlock()
		if slices.Contains(vs, 13) {
			return bad
		}
		return nil
	})
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- g.Do(ctx, 0) }()
	<-entered // the committer holds the first group
	var (
		wg      sync.WaitGroup
		started atomic.Int32
	)
	errs := make([]error, 20)
	for i := 1; i < 20; i++ {
		wg.Go(func() {
			started.Add(1)
			errs[i] = g.Do(ctx, i)
		})
	}
	// Let the 19 writers reach the channel, then release the first group.
	for started.Load() < 19 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if err := <-first; err != nil {
		t.Fatalf("first write: %v", err)
	}
	for i := 1; i < 20; i++ {
		if want := error(nil); i == 13 {
			if !errors.Is(errs[i], bad) {
				t.Errorf("write 13: %v, want its own error", errs[i])
			}
		} else if errs[i] != want {
			t.Errorf("write %d: %v, want nil", i, errs[i])
		}
	}
	mu.Lock()
	seen := map[int]int{}
	biggest := 0
	for _, grp := range groups {
		if len(grp) > 8 {
			t.Errorf("group of %d, max 8: %v", len(grp), grp)
		}
		biggest = max(biggest, len(grp))
		if len(grp) == 1 || !slices.Contains(grp, 13) {
			for _, v := range grp {
				seen[v]++
			}
		}
	}
	mu.Unlock()
	for i := 1; i < 20; i++ {
		if seen[i] != 1 {
			t.Errorf("write %d committed %d times, want 1", i, seen[i])
		}
	}
	if biggest < 8 {
		t.Errorf("largest group %d: the 19 waiting writes should have filled groups of 8 (%v)", biggest, groups)
	}

	g.Close()
	if err := g.Do(ctx, 42); err != nil {
		t.Fatalf("write after close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if last := groups[len(groups)-1]; !slices.Equal(last, []int{42}) {
		t.Errorf("write after close committed as %v, want alone", last)
	}
}

// TestExtraAt checks that with ExtraAt(k) the extra goroutines stay out
// while fewer than k writes wait, even with the first goroutine busy, and
// take a group once k wait; and that writes one at a time never wake them.
func TestExtraAt(t *testing.T) {
	const k = 4
	var (
		mu      sync.Mutex
		groups  [][]int
		entered = make(chan struct{})
		release = make(chan struct{})
		other   = make(chan []int, 8)
	)
	g := New(3, 16, 0, func(_ context.Context, vs []int) error {
		if vs[0] == 0 {
			close(entered)
			<-release // the first goroutine stays busy with this group
		} else {
			select {
			case other <- slices.Clone(vs):
			default: // the test reads only the first
			}
		}
		mu.Lock()
		groups = append(groups, slices.Clone(vs))
		mu.Unlock()
		return nil
	}, ExtraAt(k))
	defer g.Close()
	ctx := context.Background()
	first := make(chan error, 1)
	go func() { first <- g.Do(ctx, 0) }()
	<-entered

	var wg sync.WaitGroup
	for i := 1; i < k; i++ {
		wg.Go(func() { _ = g.Do(ctx, i) })
	}
	for g.waiting.Load() < k-1 {
		time.Sleep(time.Millisecond)
	}
	// k-1 writes wait and two goroutines are idle: neither may take them.
	time.Sleep(20 * time.Millisecond)
	select {
	case vs := <-other:
		t.Fatalf("an extra goroutine took %v with %d writes waiting, want none below %d", vs, k-1, k)
	default:
	}
	// The k-th write wakes one, which takes the waiting writes as a group.
	wg.Go(func() { _ = g.Do(ctx, k) })
	vs := <-other
	slices.Sort(vs)
	if len(vs) < 2 {
		t.Errorf("extra group %v: want the waiting writes together", vs)
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if g.Extra() == 0 {
		t.Errorf("Extra() = 0 after an extra goroutine committed %v", vs)
	}
	mu.Lock()
	seen := map[int]int{}
	for _, grp := range groups {
		for _, v := range grp {
			seen[v]++
		}
	}
	mu.Unlock()
	for i := 0; i <= k; i++ {
		if seen[i] != 1 {
			t.Errorf("write %d committed %d times, want 1", i, seen[i])
		}
	}

	// One write at a time: the first goroutine takes them all.
	before := g.Extra()
	for i := range 50 {
		if err := g.Do(ctx, 100+i); err != nil {
			t.Fatal(err)
		}
	}
	if n := g.Extra() - before; n != 0 {
		t.Errorf("%d groups of writes made one at a time went to extra goroutines, want 0", n)
	}
}
