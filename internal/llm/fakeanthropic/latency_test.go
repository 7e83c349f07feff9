package fakeanthropic

import (
	"math"
	"testing"
	"time"
)

func TestLatencyDistributions(t *testing.T) {
	t.Parallel()
	const n = 20000
	tests := []struct {
		name           string
		cfg            Config
		outTokens      int64
		lo, hi         time.Duration // every draw within
		mean, sd       time.Duration // of the draws
		meanTol, sdTol time.Duration
	}{
		{"fixed", Config{Latency: 100 * time.Millisecond}, 0, 100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond, 0, 0, 0},
		{"fixed per token", Config{Latency: 50 * time.Millisecond, PerOutputToken: time.Millisecond}, 10, 60 * time.Millisecond, 60 * time.Millisecond, 60 * time.Millisecond, 0, 0, 0},
		{"uniform by default with jitter", Config{Latency: 100 * time.Millisecond, Jitter: 20 * time.Millisecond}, 0,
			80 * time.Millisecond, 120 * time.Millisecond, 100 * time.Millisecond, 11547 * time.Microsecond, time.Millisecond, time.Millisecond},
		{"normal", Config{Latency: 500 * time.Millisecond, Jitter: 100 * time.Millisecond, Distribution: Normal}, 0,
			0, time.Second, 500 * time.Millisecond, 100 * time.Millisecond, 3 * time.Millisecond, 3 * time.Millisecond},
		{"normal never negative", Config{Latency: 10 * time.Millisecond, Jitter: 100 * time.Millisecond, Distribution: Normal}, 0,
			0, time.Second, 0, 0, time.Second, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.cfg.Seed = 3
			s := New(tt.cfg, nil)
			var sum, sumSq float64
			s.mu.Lock()
			for range n {
				d := s.latency(tt.outTokens)
				if d < tt.lo || d > tt.hi {
					t.Fatalf("draw %s outside [%s, %s]", d, tt.lo, tt.hi)
				}
				sum += float64(d)
				sumSq += float64(d) * float64(d)
			}
			s.mu.Unlock()
			mean := sum / n
			sd := math.Sqrt(max(sumSq/n-mean*mean, 0))
			if math.Abs(mean-float64(tt.mean)) > float64(tt.meanTol) || math.Abs(sd-float64(tt.sd)) > float64(tt.sdTol) {
				t.Errorf("mean %s sd %s, want %s ± %s and %s ± %s", time.Duration(mean), time.Duration(sd), tt.mean, tt.meanTol, tt.sd, tt.sdTol)
			}
		})
	}
}
