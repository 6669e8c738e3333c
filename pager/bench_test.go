package pager

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"vmsim/vm/arch"
)

// zipfTrace returns n accesses over pages pages with Zipf(alpha) popularity
// (inverse CDF by binary search; alpha = 1 is allowed), 10% writes, page
// numbers scattered so that ids are not pre-sorted by popularity.
func zipfTrace(n, pages int, alpha float64, seed uint64) *Trace {
	cdf := make([]float64, pages)
	sum := 0.0
	for k := range pages {
		sum += 1 / math.Pow(float64(k+1), alpha)
		cdf[k] = sum
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	perm := rng.Perm(pages)
	b := NewBuilder(fmt.Sprintf("zipf-%v", alpha))
	b.Grow(n)
	for range n {
		k, _ := slices.BinarySearch(cdf, rng.Float64()*sum)
		b.Add(arch.PageNum(perm[min(k, pages-1)])*4096, rng.IntN(10) == 0)
	}
	return b.Trace()
}

// benchTrace is the 10 M-access trace, or 100,000 accesses in -short mode
// (CI runs each benchmark once, to keep it working).
var benchTrace = sync.OnceValue(func() *Trace {
	if testing.Short() {
		return zipfTrace(100_000, 10_000, 1.0, 1)
	}
	return zipfTrace(10_000_000, 1_000_000, 1.0, 1)
})

// BenchmarkSim measures simulation throughput per policy on a 10 M-access
// Zipf(1.0) trace over 1 M pages held in memory (the setting of the
// research simulators' figures in MEASURED.md), at 1,000 and 100,000 frames.
func BenchmarkSim(b *testing.B) {
	tr := benchTrace()
	tr.NextUses()
	for _, frames := range []int{1000, 100_000} {
		for _, name := range Policies() {
			b.Run(fmt.Sprintf("policy=%s/frames=%d", name, frames), func(b *testing.B) {
				cfg := Config{Policy: name, Frames: frames}
				var res Result
				for b.Loop() {
					var err error
					if res, err = Simulate(context.Background(), tr, cfg, nil); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(tr.Len())*float64(b.N)/b.Elapsed().Seconds(), "accesses/s")
				b.ReportMetric(0, "ns/op")
				b.ReportMetric(res.MissRatio(), "miss-ratio")
			})
		}
	}
}
