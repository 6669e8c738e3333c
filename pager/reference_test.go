package pager

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// referenceRun is the simulation loop as it was before every mode went
// through one step function (Pager.run): the rules written a second time,
// with no Backend. It is kept here, and only here, as the baseline of
// BenchmarkStepFunction, so that the cost of having one step function is
// measured in one process, on one trace in memory, interleaved, rather
// than across builds whose memory layouts differ.
func referenceRun(p *Pager, b *Batch) {
	if b.ids > len(p.state) {
		p.state = growTo(p.state, max(b.ids, 2*len(p.state)), 0)
	}
	state, pol, next := p.state, p.policy, b.Next
	used, frames := p.used, p.frames
	var s Stats
	for i, id := range b.Pages {
		r := Ref{Page: id, Write: b.Writes[i], Time: b.Start + uint64(i)}
		if next != nil {
			r.Next = next[i]
		}
		if r.Write {
			s.Writes++
		}
		st := state[id]
		if st&resident != 0 {
			if r.Write && st&dirty == 0 {
				state[id] = st | dirty
				s.ProtectionFaults++
			}
			pol.Hit(r)
			s.Hits++
			continue
		}
		if used >= frames {
			v := pol.Evict(r)
			if state[v]&dirty != 0 {
				s.Writebacks++
			}
			state[v] = 0
			used--
			s.Evictions++
		}
		st = resident
		if r.Write {
			st |= dirty
		}
		state[id] = st
		used++
		pol.Insert(r)
		s.Faults++
	}
	s.Accesses = uint64(len(b.Pages))
	s.Reads = s.Accesses - s.Writes
	p.used = used
	p.stats.Add(s)
}

// TestReferenceRunAgrees keeps the baseline honest: it counts what the
// step function counts.
func TestReferenceRunAgrees(t *testing.T) {
	tr := randomTrace(6, 5000, 80, 0.3)
	for _, name := range Policies() {
		for _, frames := range []int{1, 7, 80} {
			a, b := mustPager(t, name, frames), mustPager(t, name, frames)
			src := tr.Source(777, NeedsNext(name))
			for {
				batch, err := src.Next()
				if err != nil {
					break
				}
				if _, err := a.run(batch); err != nil {
					t.Fatal(err)
				}
				referenceRun(b, batch)
			}
			if a.Stats() != b.Stats() {
				t.Fatalf("%s/%d: step %+v, reference %+v", name, frames, a.Stats(), b.Stats())
			}
		}
	}
}

func mustPager(tb testing.TB, name string, frames int) *Pager {
	tb.Helper()
	pol, err := NewPolicy(name, Options{Seed: 1})
	if err != nil {
		tb.Fatal(err)
	}
	p, err := New(pol, frames, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return p
}

// BenchmarkStepFunction measures the one step function against the
// reference loop it replaced: each iteration replays the benchmark trace
// through both, in turn, on fresh pagers, and the step/reference ratio of
// their medians is reported (below 1.05 is within the 5% the one step
// function may cost). Run with -benchtime Nx for N pairs.
func BenchmarkStepFunction(b *testing.B) {
	tr := benchTrace()
	tr.NextUses()
	for _, frames := range []int{1000, 100_000} {
		for _, name := range Policies() {
			b.Run(fmt.Sprintf("policy=%s/frames=%d", name, frames), func(b *testing.B) {
				var step, ref []time.Duration
				withNext := NeedsNext(name)
				replay := func(fn func(*Pager, *Batch)) time.Duration {
					p := mustPager(b, name, frames)
					src := tr.Source(0, withNext)
					start := time.Now()
					for {
						batch, err := src.Next()
						if err != nil {
							break
						}
						fn(p, batch)
					}
					return time.Since(start)
				}
				for i := 0; b.Loop(); i++ {
					// Alternate which goes first, so that neither always
					// runs on a warmer cache.
					s := func() { step = append(step, replay(func(p *Pager, b *Batch) { p.run(b) })) }
					r := func() { ref = append(ref, replay(referenceRun)) }
					if i%2 == 0 {
						s()
						r()
					} else {
						r()
						s()
					}
				}
				ms, mr := median(step), median(ref)
				b.ReportMetric(float64(tr.Len())/ms.Seconds(), "accesses/s")
				b.ReportMetric(float64(tr.Len())/mr.Seconds(), "ref-accesses/s")
				b.ReportMetric(ms.Seconds()/mr.Seconds(), "step/ref")
				b.ReportMetric(0, "ns/op")
			})
		}
	}
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
