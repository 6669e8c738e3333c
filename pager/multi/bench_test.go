package multi_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"vmsim/pager"
	"vmsim/pager/multi"
)

// benchTraces returns k processes of n accesses each, 200,000 (20,000 in
// -short mode, as CI runs each benchmark once).
func benchTraces(k int) []*pager.Trace {
	n := 200_000
	if testing.Short() {
		n = 20_000
	}
	var out []*pager.Trace
	for i := range k {
		out = append(out, drifting(fmt.Sprintf("p%d", i), uint64(i+1), n, 2000, 0.2))
	}
	return out
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkOverhead measures what the many-process engine costs per access
// beyond plain replay of the same traces: each iteration replays every
// process's trace alone (pager.Pager.Replay, batched), then again one
// access at a time (Pager.Access, the step the engine calls), then runs
// them all through multi.Run, interleaved so that all three see the same
// machine; the ratio of the medians is reported (multi/replay, and
// multi/access for the engine's own share), with each one's ns/access.
func BenchmarkOverhead(b *testing.B) {
	for _, bc := range []struct {
		procs int
		cfg   multi.Config
	}{
		{1, multi.Config{Scope: multi.Global}},
		{4, multi.Config{Scope: multi.Local}},
		{4, multi.Config{Scope: multi.Local, Control: multi.WorkingSet, Tau: 1000}},
	} {
		for _, policy := range []string{"lru", "clock"} {
			cfg := bc.cfg
			cfg.Policy, cfg.Frames = policy, 400*bc.procs
			b.Run(fmt.Sprintf("policy=%s/scope=%v/control=%v/procs=%d", policy, cfg.Scope, cfg.Control, bc.procs), func(b *testing.B) {
				trs := benchTraces(bc.procs)
				accesses := 0
				for _, tr := range trs {
					accesses += tr.Len()
				}
				share := cfg.Frames / bc.procs
				newPager := func() *pager.Pager {
					pol, err := pager.NewPolicy(policy, pager.Options{})
					if err != nil {
						b.Fatal(err)
					}
					p, err := pager.New(pol, share, nil)
					if err != nil {
						b.Fatal(err)
					}
					return p
				}
				var replays, steps, runs []time.Duration
				b.ReportAllocs()
				for b.Loop() {
					t0 := time.Now()
					for _, tr := range trs {
						if err := newPager().Replay(context.Background(), tr.Source(0, false)); err != nil {
							b.Fatal(err)
						}
					}
					t1 := time.Now()
					for _, tr := range trs {
						p := newPager()
						for i := range tr.Len() {
							id, w := tr.At(i)
							if _, err := p.Access(pager.Ref{Page: id, Write: w, Time: uint64(i)}); err != nil {
								b.Fatal(err)
							}
						}
					}
					t2 := time.Now()
					if _, err := multi.Run(context.Background(), trs, cfg, nil); err != nil {
						b.Fatal(err)
					}
					t3 := time.Now()
					replays, steps, runs = append(replays, t1.Sub(t0)), append(steps, t2.Sub(t1)), append(runs, t3.Sub(t2))
				}
				r, a, m := median(replays), median(steps), median(runs)
				b.ReportMetric(float64(m)/float64(r), "multi/replay")
				b.ReportMetric(float64(m)/float64(a), "multi/access")
				b.ReportMetric(float64(r)/float64(accesses), "replay-ns/access")
				b.ReportMetric(float64(a)/float64(accesses), "access-ns/access")
				b.ReportMetric(float64(m)/float64(accesses), "multi-ns/access")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}
