package diff

import (
	"math/rand/v2"
	"testing"
	"time"

	"netsmith/internal/netcfg"
)

// BenchmarkDiff10k diffs 10,000 device pairs: each corpus config (every
// platform) against a copy with one to six random edits, parsing both and
// computing the remediation and the structured diff, as netsmith diff
// --dir does per device. One op is all 10,000 pairs.
func BenchmarkDiff10k(b *testing.B) {
	const devices = 10_000
	d := defaultDiffer(b)
	type pair struct {
		platform          netcfg.Platform
		running, intended string
	}
	pairs := make([]pair, devices)
	size := 0
	for i := range pairs {
		c := corpusCases[i%len(corpusCases)]
		running := readCorpus(b, c.file)
		rng := rand.New(rand.NewPCG(uint64(i), 7))
		pairs[i] = pair{c.platform, running, randomEdit(b, d, c.platform, running, rng, 1+rng.IntN(6))}
		size += len(pairs[i].running) + len(pairs[i].intended)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	drifted := 0
	for b.Loop() {
		drifted = 0
		for _, p := range pairs {
			res, err := d.DiffText(p.platform, p.running, p.intended)
			if err != nil {
				b.Fatal(err)
			}
			if !res.Empty() {
				drifted++
			}
		}
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(devices*b.N)/sec, "devices/s")
	b.ReportMetric(float64(size*b.N)/sec/1e6, "MB/s")
	b.ReportMetric(float64(drifted), "drifted/op")
}
