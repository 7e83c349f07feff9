package cache

import (
	"context"
	"time"

	"netsmith/internal/store"
)

// DefaultLeaseTTL is how long a template lease lasts unless renewed: a
// holder renews it every third of that while its fill runs, so a process
// that dies mid-fill (SIGKILL, a lost machine) holds the intent's other
// devices back for at most this long, not for the length of a model call.
const DefaultLeaseTTL = 10 * time.Second

// holdLease renews this process's lease on key every third of LeaseTTL
// until the returned stop is called (stop waits for the renewer to end).
// A failed renewal is tried again on the next tick: a lease lost meanwhile
// only means that FillTemplate finds it taken, which fill already handles.
func (c *Cache) holdLease(ctx context.Context, key string) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(c.cfg.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				held, err := store.RenewTemplateLease(ctx, c.cfg.LeaseConn, key, c.cfg.Owner, c.cfg.Clock().Add(c.cfg.LeaseTTL))
				if err == nil && !held {
					return
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}
