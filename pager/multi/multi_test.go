package multi_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/multi"
	"vmsim/pager/pagertest"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// drifting returns n accesses over pages pages, a fraction writes of them
// writes, from a working set that drifts, with sparse page numbers.
func drifting(name string, seed uint64, n, pages int, writes float64) *pager.Trace {
	rng := rand.New(rand.NewPCG(seed, 21))
	b := pager.NewBuilder(name)
	base := 0
	for range n {
		if rng.IntN(80) == 0 {
			base = rng.IntN(pages)
		}
		p := (base + int(rng.ExpFloat64()*3)) % pages
		if rng.IntN(9) == 0 {
			p = rng.IntN(pages)
		}
		b.Add(arch.PageNum(p)<<12|7, rng.Float64() < writes)
	}
	return b.Trace()
}

// parse builds a trace from "1 2 3w ..." (w marks a write).
func parse(name, s string) *pager.Trace {
	b := pager.NewBuilder(name)
	var page uint64
	for _, tok := range splitSpaces(s) {
		w := tok[len(tok)-1] == 'w'
		if w {
			tok = tok[:len(tok)-1]
		}
		fmt.Sscan(tok, &page)
		b.Add(arch.PageNum(page), w)
	}
	return b.Trace()
}

func splitSpaces(s string) []string {
	var out []string
	cur := ""
	for _, c := range s + " " {
		if c == ' ' {
			if cur != "" {
				out = append(out, cur)
			}
			cur = ""
			continue
		}
		cur += string(c)
	}
	return out
}

// seeds returns n, or fewer in -short mode (the race detector's run).
func seeds(n uint64) uint64 {
	if testing.Short() {
		return max(1, n/4)
	}
	return n
}

// long returns n accesses, a third in -short mode.
func long(n int) int {
	if testing.Short() {
		return n / 3
	}
	return n
}

// recorders wraps every policy of a run in a pagertest.Recorder: by
// process, and -1 for the global pager.
type recorders map[int]*pagertest.Recorder

func (r recorders) wrap(proc int, p pager.Policy) pager.Policy {
	rec := pagertest.Record(p)
	r[proc] = rec
	return rec
}

// replayed returns what replay tells the policy, and the counts, for one
// trace alone.
func replayed(t *testing.T, tr *pager.Trace, policy string, frames int, opts pager.Options) ([]pagertest.Event, pager.Stats) {
	t.Helper()
	pol, err := pager.NewPolicy(policy, opts)
	require.NoError(t, err)
	rec := pagertest.Record(pol)
	p, err := pager.New(rec, frames, nil)
	require.NoError(t, err)
	require.NoError(t, p.Replay(context.Background(), tr.Source(0, pager.NeedsNext(policy))))
	return rec.Events, p.Stats()
}

// untilRemovals splits a record at its first release: the releases of a
// process that ends come last.
func untilRemovals(t *testing.T, events []pagertest.Event) ([]pagertest.Event, int) {
	t.Helper()
	i := slices.IndexFunc(events, func(e pagertest.Event) bool { return e.Op == pagertest.Remove })
	if i < 0 {
		return events, 0
	}
	for _, e := range events[i:] {
		require.Equal(t, pagertest.Remove, e.Op, "only releases after the first one")
	}
	return events[:i], len(events) - i
}

// TestGlobalWithOneProcessIsReplay: one process under global replacement
// is replay: the policy is told exactly what replay tells it, access by
// access, and the counts are replay's; at its end the process's pages are
// released.
func TestGlobalWithOneProcessIsReplay(t *testing.T) {
	tr := drifting("one", 1, long(4000), 90, 0.3)
	for _, policy := range pager.Policies() {
		for _, frames := range []int{1, 5, 30, 200} {
			t.Run(fmt.Sprintf("%s/frames=%d", policy, frames), func(t *testing.T) {
				opts := pager.Options{Seed: 3}
				want, wantStats := replayed(t, tr, policy, frames, opts)
				recs := recorders{}
				res, err := multi.Run(context.Background(), []*pager.Trace{tr}, multi.Config{Policy: policy, PolicyOptions: opts, Frames: frames, Quantum: 7}, &multi.RunOptions{WrapPolicy: recs.wrap})
				require.NoError(t, err)
				got, released := untilRemovals(t, recs[-1].Events)
				require.Equal(t, want, got)
				assert.Equal(t, wantStats, res.Procs[0].Stats)
				assert.Equal(t, min(frames, tr.Distinct()), released, "the resident pages are released at the end")
				assert.Zero(t, res.Procs[0].EvictedByOthers)
			})
		}
	}
}

// TestLocalFixedIsIndependentReplays: with local replacement and a fixed
// allocation, each process is replay of its own trace with its share,
// access by access, however the scheduler interleaves them; the shares are
// those of the allocation rule, summing to the frames.
func TestLocalFixedIsIndependentReplays(t *testing.T) {
	trs := []*pager.Trace{
		drifting("a", 1, long(3000), 40, 0.3),
		drifting("b", 2, long(2000), 120, 0.2),
		drifting("c", 3, long(4000), 70, 0.4),
	}
	for _, alloc := range []multi.Allocation{multi.Equal, multi.Proportional} {
		for _, policy := range pager.Policies() {
			for _, frames := range []int{3, 10, 64} {
				t.Run(fmt.Sprintf("%v/%s/frames=%d", alloc, policy, frames), func(t *testing.T) {
					recs := recorders{}
					cfg := multi.Config{Policy: policy, Frames: frames, Scope: multi.Local, Allocation: alloc, Quantum: 50}
					res, err := multi.Run(context.Background(), trs, cfg, &multi.RunOptions{WrapPolicy: recs.wrap})
					require.NoError(t, err)
					sum := 0
					for k, tr := range trs {
						share := res.Procs[k].Frames
						sum += share
						require.GreaterOrEqual(t, share, 1)
						if alloc == multi.Equal {
							assert.Equal(t, frames/3+btoi(k < frames%3), share, "process %d's equal share", k)
						}
						want, wantStats := replayed(t, tr, policy, share, pager.Options{})
						got, _ := untilRemovals(t, recs[k].Events)
						require.Equal(t, want, got, "process %d with %d frames", k, share)
						assert.Equal(t, wantStats, res.Procs[k].Stats, "process %d", k)
						assert.Zero(t, res.Procs[k].EvictedByOthers)
					}
					assert.Equal(t, frames, sum)
				})
			}
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loops returns processes that each loop over pages pages, n accesses.
func loops(n int, pages ...int) []*pager.Trace {
	var out []*pager.Trace
	for k, p := range pages {
		b := pager.NewBuilder(fmt.Sprintf("loop%d", k))
		for i := range n {
			b.Add(arch.PageNum(i%p), i%5 == 0)
		}
		out = append(out, b.Trace())
	}
	return out
}

// TestWorkingSetsFit: with the working-set control, at every access the
// working sets of the processes in memory, measured independently with
// traces.WorkingSet on the accesses as they ran, sum to at most the frames
// (or one process is alone in memory); and the control had to act.
func TestWorkingSetsFit(t *testing.T) {
	workloads := map[string][]*pager.Trace{
		"drifting": {drifting("a", 1, long(6000), 60, 0.3), drifting("b", 2, long(5000), 200, 0.2), drifting("c", 3, long(7000), 90, 0.3), drifting("d", 4, long(4000), 50, 0.1)},
		"loops":    loops(long(5000), 12, 30, 7, 25),
	}
	var taken uint64
	t.Cleanup(func() {
		assert.Greater(t, taken, uint64(0), "local scope took frames from processes that held more than their working sets")
	})
	for name, trs := range workloads {
		for _, scope := range []multi.Scope{multi.Global, multi.Local} {
			for _, policy := range []string{"lru", "fifo", "clock", "opt", "arc"} {
				for _, frames := range []int{16, 40} {
					for _, tau := range []int{10, 200} {
						t.Run(fmt.Sprintf("%s/%v/%s/frames=%d/tau=%d", name, scope, policy, frames, tau), func(t *testing.T) {
							meters := make([]*traces.WorkingSet, len(trs))
							ws := make([]int, len(trs))
							in := make([]bool, len(trs))
							for k := range trs {
								meters[k] = traces.NewWorkingSet(tau)
								in[k] = true
							}
							checked := 0
							events := func(ev multi.Event) {
								switch ev.Kind {
								case multi.Suspend, multi.Exit:
									in[ev.Proc] = false
								case multi.Resume:
									in[ev.Proc] = true
								case multi.Access:
									ws[ev.Proc] = meters[ev.Proc].Access(ev.Page)
									if ev.WorkingSet != ws[ev.Proc] {
										t.Fatalf("process %d access %d: the run measured W = %d, traces.WorkingSet %d", ev.Proc, ev.Index, ev.WorkingSet, ws[ev.Proc])
									}
									sum, n := 0, 0
									for k := range trs {
										if in[k] {
											sum += ws[k]
											n++
										}
									}
									if sum > frames && n > 1 {
										t.Fatalf("process %d access %d: %d processes in memory with working sets of %d pages in all, over %d frames", ev.Proc, ev.Index, n, sum, frames)
									}
									checked++
								}
							}
							cfg := multi.Config{Policy: policy, Frames: frames, Scope: scope, Control: multi.WorkingSet, Tau: tau, Quantum: 100}
							res, err := multi.Run(context.Background(), trs, cfg, &multi.RunOptions{Events: events})
							require.NoError(t, err)
							total := 0
							for _, tr := range trs {
								total += tr.Len()
							}
							assert.Equal(t, total, checked, "every access was checked")
							assert.Equal(t, uint64(total), res.Total.Accesses)
							if tau == 200 {
								assert.Greater(t, res.Total.Suspensions, uint64(0), "the working sets did not all fit: the control acted")
							}
							if scope == multi.Local {
								taken += res.Total.EvictedByOthers
							}
						})
					}
				}
			}
		}
	}
}

// TestEnoughFramesOnlyColdFaults: with frames for every page of every
// process, each process faults once per page and nothing is evicted,
// released or suspended, whatever the scope and control (the fixed local
// allocation proportional, so that each share holds its process).
func TestEnoughFramesOnlyColdFaults(t *testing.T) {
	trs := []*pager.Trace{drifting("a", 1, 3000, 40, 0.3), drifting("b", 2, 2000, 120, 0.2), loops(3000, 17)[0]}
	total := 0
	for _, tr := range trs {
		total += tr.Distinct()
	}
	for _, scope := range []multi.Scope{multi.Global, multi.Local} {
		for _, control := range []multi.Control{multi.None, multi.WorkingSet} {
			for _, policy := range pager.Policies() {
				t.Run(fmt.Sprintf("%v/%v/%s", scope, control, policy), func(t *testing.T) {
					cfg := multi.Config{Policy: policy, Frames: total, Scope: scope, Allocation: multi.Proportional, Control: control, Tau: 50, Quantum: 30}
					res, err := multi.Run(context.Background(), trs, cfg, nil)
					require.NoError(t, err)
					for k, tr := range trs {
						st := res.Procs[k]
						assert.Equal(t, uint64(tr.Distinct()), st.Faults, "process %d: cold faults only", k)
						assert.Zero(t, st.Evictions+st.Released+st.Suspensions, "process %d", k)
					}
				})
			}
		}
	}
}

// TestTimeAccounts: every process's time is spent running, waiting for
// the paging device, waiting for the processor or suspended, to the
// nanosecond; the processor runs accesses only; the device serves each
// fault once; the timeline holds every access and fault; what one process
// took another lost.
func TestTimeAccounts(t *testing.T) {
	trs := []*pager.Trace{drifting("a", 1, 6000, 60, 0.3), drifting("b", 2, 5000, 200, 0.2), drifting("c", 3, 7000, 90, 0.3)}
	for _, cfg := range []multi.Config{
		{Scope: multi.Global},
		{Scope: multi.Global, Control: multi.WorkingSet, Tau: 300},
		{Scope: multi.Local},
		{Scope: multi.Local, Allocation: multi.Proportional, Control: multi.WorkingSet, Tau: 300},
		{Scope: multi.Local, Control: multi.PFF},
	} {
		cfg.Policy, cfg.Frames = "lru", 50
		t.Run(fmt.Sprintf("%v/%v", cfg.Scope, cfg.Control), func(t *testing.T) {
			res, err := multi.Run(context.Background(), trs, cfg, nil)
			require.NoError(t, err)
			var stole, lost uint64
			for k, st := range res.Procs {
				assert.Equal(t, st.Finish, st.Run+st.PageWait+st.Ready+st.Suspended, "process %d", k)
				assert.Equal(t, time.Duration(trs[k].Len())*multi.DefaultAccessTime, st.Run, "process %d", k)
				assert.LessOrEqual(t, st.Finish, res.Elapsed)
				stole += st.Stole
				lost += st.EvictedByOthers
			}
			assert.Equal(t, stole, lost)
			assert.Equal(t, time.Duration(res.Total.Faults)*multi.DefaultFaultTime, res.DeviceBusy)
			assert.InDelta(t, float64(res.Total.Run)/float64(res.Elapsed), res.Utilisation(), 1e-12)
			var acc, faults uint64
			tl := res.Timeline
			for i := range tl.Len() {
				for k := range trs {
					a, f := tl.At(i, k)
					acc += a
					faults += f
				}
			}
			assert.Equal(t, res.Total.Accesses, acc)
			assert.Equal(t, res.Total.Faults, faults)
			assert.LessOrEqual(t, tl.Len(), 200)
			assert.GreaterOrEqual(t, time.Duration(tl.Len())*tl.Width, res.Elapsed, "the timeline covers the run")
			assert.Less(t, time.Duration(tl.Len()-1)*tl.Width, res.Elapsed, "and ends with it")
		})
	}
}

// TestContextStopsTheRun: a run stops at the next quantum once its context
// is done, with its error and the counts so far.
func TestContextStopsTheRun(t *testing.T) {
	trs := loops(100_000, 50, 60)
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	events := func(ev multi.Event) {
		if n++; n == 2500 {
			cancel()
		}
	}
	res, err := multi.Run(ctx, trs, multi.Config{Policy: "lru", Frames: 60, Quantum: 1000}, &multi.RunOptions{Events: events})
	require.ErrorIs(t, err, context.Canceled)
	require.NotNil(t, res)
	assert.Less(t, res.Total.Accesses, uint64(2500+1000), "stopped within a quantum")
	assert.GreaterOrEqual(t, res.Total.Accesses, uint64(2500))
}

func TestConfigErrors(t *testing.T) {
	trs := loops(10, 3, 3, 3)
	for _, tt := range []struct {
		name string
		cfg  multi.Config
		want error
	}{
		{"pff needs local scope", multi.Config{Policy: "lru", Frames: 9, Control: multi.PFF}, multi.ErrConfig},
		{"local needs a frame per process", multi.Config{Policy: "lru", Frames: 2, Scope: multi.Local}, multi.ErrConfig},
		{"unknown policy", multi.Config{Policy: "lrux", Frames: 9}, pager.ErrUnknownPolicy},
		{"no frame", multi.Config{Policy: "lru"}, pager.ErrFrames},
		{"thresholds the wrong way", multi.Config{Policy: "lru", Frames: 9, Scope: multi.Local, Control: multi.PFF, PFFLower: 0.5, PFFUpper: 0.1}, multi.ErrConfig},
		{"negative quantum", multi.Config{Policy: "lru", Frames: 9, Quantum: -1}, multi.ErrConfig},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := multi.Run(context.Background(), trs, tt.cfg, nil)
			assert.ErrorIs(t, err, tt.want)
		})
	}
	_, err := multi.Run(context.Background(), nil, multi.Config{Policy: "lru", Frames: 3}, nil)
	assert.ErrorIs(t, err, multi.ErrConfig, "no process")
	_, err = multi.Run(context.Background(), trs, multi.Config{Policy: "lru", Frames: 2, Scope: multi.Local, Control: multi.WorkingSet}, nil)
	assert.NoError(t, err, "the working-set control allocates by working sets: fewer frames than processes is fine")
	assert.False(t, errors.Is(err, multi.ErrConfig))
}
