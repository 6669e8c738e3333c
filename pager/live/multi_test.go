package live

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/multi"
	"vmsim/pager/pagertest"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// recorders keeps a recorder of every policy of a run: by process, -1 for
// the global pager.
type recorders map[int]*pagertest.Recorder

func (r recorders) wrap(proc int, p pager.Policy) pager.Policy {
	rec := pagertest.Record(p)
	r[proc] = rec
	return rec
}

// sizes returns the distinct pages of each trace.
func sizes(trs []*pager.Trace) []int {
	var out []int
	for _, tr := range trs {
		out = append(out, tr.Distinct())
	}
	return out
}

// runReal runs cfg on real memory with mech, and returns the result, the
// recorders and the regions' user faults per process.
func runReal(t *testing.T, trs []*pager.Trace, cfg multi.Config, mech Mechanism, events func(*Regions) func(multi.Event)) (*multi.Result, recorders, []uint64) {
	t.Helper()
	regions, err := NewRegions(sizes(trs), cfg.Frames, &Options{Mechanism: mech})
	vmtest.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	defer func() { require.NoError(t, regions.Close()) }()
	recs := recorders{}
	opts := &multi.RunOptions{Memory: regions, WrapPolicy: recs.wrap}
	if events != nil {
		opts.Events = events(regions)
	}
	res, err := multi.Run(context.Background(), trs, cfg, opts)
	require.NoError(t, err)
	var uf []uint64
	for k := range trs {
		uf = append(uf, regions.UserFaults(k))
	}
	return res, recs, uf
}

// TestMultiRealAgreesWithSimulation extends invariant I1 to many
// processes: with each process on its own region, all drawing frames from
// one budget, every mechanism, scope and load control gives the
// simulation's counts and tells every policy exactly what the simulation
// tells it, call by call; every fault and protection fault of each process
// was really caught in user space on its region; and the regions never
// hold more pages than the frames.
func TestMultiRealAgreesWithSimulation(t *testing.T) {
	trs := []*pager.Trace{
		randomTrace(1, 700, 25, 0.3),
		randomTrace(2, 500, 40, 0.2),
		randomTrace(3, 900, 15, 0.4),
	}
	policies := pager.Policies()
	if testing.Short() {
		policies = []string{"fifo", "lru", "clock", "wsclock", "opt", "arc", "s3fifo"}
	}
	settings := []multi.Config{
		{Scope: multi.Global},
		{Scope: multi.Global, Control: multi.WorkingSet, Tau: 40},
		{Scope: multi.Local, Allocation: multi.Proportional},
		{Scope: multi.Local, Control: multi.WorkingSet, Tau: 40},
		{Scope: multi.Local, Control: multi.PFF, PFFWindow: 50, PFFUpper: 0.2, PFFLower: 0.05},
	}
	ps := int64(arch.SystemPageSize())
	for _, mech := range mechanisms {
		for _, set := range settings {
			for _, policy := range policies {
				cfg := set
				cfg.Policy, cfg.Frames, cfg.Quantum, cfg.PolicyOptions = policy, 24, 30, pager.Options{Seed: 9}
				t.Run(fmt.Sprintf("%v/%v/%v/%s", mech, cfg.Scope, cfg.Control, policy), func(t *testing.T) {
					simRecs := recorders{}
					sim, err := multi.Run(context.Background(), trs, cfg, &multi.RunOptions{WrapPolicy: simRecs.wrap})
					require.NoError(t, err)
					over := 0
					real, realRecs, uf := runReal(t, trs, cfg, mech, func(r *Regions) func(multi.Event) {
						n := 0
						return func(multi.Event) {
							if n++; n%40 != 0 {
								return
							}
							b, err := r.Allocated()
							if err == nil && b > int64(cfg.Frames)*ps {
								over++
							}
						}
					})
					assert.Zero(t, over, "the regions held more pages than the frames")
					require.Equal(t, len(simRecs), len(realRecs))
					for k, rec := range simRecs {
						require.Equal(t, rec.Events, realRecs[k].Events, "pager %d", k)
					}
					assert.Equal(t, sim.Procs, real.Procs)
					assert.Equal(t, sim.Elapsed, real.Elapsed)
					for k, st := range real.Procs {
						assert.Equal(t, st.Faults+st.ProtectionFaults, uf[k], "process %d: each fault was caught on its region", k)
					}
					if cfg.Control != multi.None {
						assert.Greater(t, real.Total.Released+real.Total.Evictions, uint64(0))
					}
				})
			}
		}
	}
}

// TestRegionsSeeDisagreement: an access that faults where the pager holds
// the page (a grant taken back behind its back) stops the run with an
// error naming the process and the access.
func TestRegionsSeeDisagreement(t *testing.T) {
	trs := []*pager.Trace{randomTrace(1, 200, 10, 0), randomTrace(2, 200, 10, 0)}
	regions, err := NewRegions(sizes(trs), 20, nil)
	vmtest.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	defer regions.Close()
	taken := false
	events := func(ev multi.Event) {
		if ev.Kind == multi.Access && ev.Proc == 1 && ev.Index == 100 && !taken {
			// Every page of process 1 is resident by now: revoke them all.
			rg := regions.procs[1].lp.region
			require.NoError(t, rg.Protect(0, rg.Pages(), arch.ProtNone))
			taken = true
		}
	}
	_, err = multi.Run(context.Background(), trs, multi.Config{Policy: "lru", Frames: 20, Quantum: 10}, &multi.RunOptions{Memory: regions, Events: events})
	require.True(t, taken)
	require.ErrorIs(t, err, multi.ErrDisagree)
	assert.Contains(t, err.Error(), "process 1")
	assert.Contains(t, err.Error(), "real memory faulted but the pager says hit")
}

func TestNewRegionsErrors(t *testing.T) {
	swap, err := pager.NewSwapStore(t.TempDir(), arch.SystemPageSize())
	require.NoError(t, err)
	defer swap.Close()
	_, err = NewRegions([]int{3}, 2, &Options{Store: swap})
	assert.Error(t, err, "one store cannot serve several regions")
	_, err = NewRegions([]int{3}, 0, nil)
	assert.ErrorIs(t, err, pager.ErrFrames)
	_, err = NewRegions([]int{1_000_000, 1_000_000}, 1_000_000, &Options{Mechanism: Mprotect})
	assert.ErrorIs(t, err, vm.ErrMapLimit)
	_, err = NewRegions([]int{3}, 2, &Options{Mechanism: Mechanism(99)})
	assert.ErrorIs(t, err, ErrUnknownMechanism)
}
