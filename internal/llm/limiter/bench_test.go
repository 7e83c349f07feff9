package limiter

import (
	"testing"

	"netsmith/internal/dbtest"
	"netsmith/internal/llm"
)

// BenchmarkAcquire measures the limiter's own cost per call, with limits
// that never hold a call back: "unlimited" only checks for a pause (one
// SELECT), "limited" runs the GCRA UPDATE, "settle" adds the Settle that
// gives back unused output tokens, "parallel" contends for the row.
func BenchmarkAcquire(b *testing.B) {
	high := Limits{RPM: 1 << 40, InputTPM: 1 << 50, OutputTPM: 1 << 50}
	for name, url := range map[string]func(testing.TB) string{"sqlite": dbtest.SQLite, "postgres": dbtest.Postgres} {
		b.Run(name, func(b *testing.B) {
			d := pools(b, url(b), 1)[0]
			b.Run("unlimited", func(b *testing.B) {
				l := newLimiter(b, d, Config{Model: "unlimited"})
				for b.Loop() {
					if _, err := l.Acquire(b.Context(), 1000, 1000); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("limited", func(b *testing.B) {
				l := newLimiter(b, d, Config{Model: "limited", Limits: high})
				for b.Loop() {
					if _, err := l.Acquire(b.Context(), 1000, 1000); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("settle", func(b *testing.B) {
				// 0.01 µs a token: high enough never to wait, low enough
				// for the refund to reach the database.
				l := newLimiter(b, d, Config{Model: "settle", Limits: Limits{RPM: 1 << 40, InputTPM: 6e9, OutputTPM: 6e9}})
				for b.Loop() {
					r, err := l.Acquire(b.Context(), 1000, 1000)
					if err != nil {
						b.Fatal(err)
					}
					if err := r.Settle(b.Context(), llm.Usage{InputTokens: 900, OutputTokens: 10}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("parallel", func(b *testing.B) {
				l := newLimiter(b, d, Config{Model: "parallel", Limits: high})
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Acquire(b.Context(), 1000, 1000); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		})
	}
}
