package live

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/pagertest"
	"vmsim/vm/arch"
)

// newRecorded is newLive with a policy that records what it is told.
func newRecorded(t testing.TB, pages int, cfg pager.Config, mech Mechanism) (*Pager, *pagertest.Recorder) {
	t.Helper()
	pol, err := pager.NewPolicy(cfg.Policy, cfg.Options)
	require.NoError(t, err)
	rec := pagertest.Record(pol)
	lp, err := New(pages, rec, cfg.Frames, &Options{Mechanism: mech})
	skipIfNotSupported(t, err)
	t.Cleanup(func() { lp.Close() })
	return lp, rec
}

// TestRealTellsThePolicyWhatSimulationDoes: invariant I1 access by access.
// On real memory the policy hears of the same hits and loads, in the same
// order, and chooses the same victims as in simulation, for every policy
// and mechanism: the counts agree because the decisions do.
func TestRealTellsThePolicyWhatSimulationDoes(t *testing.T) {
	tr := randomTrace(5, 800, 40, 0.3)
	for _, mech := range mechanisms {
		for _, policy := range pager.Policies() {
			cfg := pager.Config{Policy: policy, Frames: 7, Options: pager.Options{Seed: 3}}
			t.Run(fmt.Sprintf("%s/%s", mech, policy), func(t *testing.T) {
				pol, err := pager.NewPolicy(policy, cfg.Options)
				require.NoError(t, err)
				simRec := pagertest.Record(pol)
				sim, err := pager.New(simRec, cfg.Frames, nil)
				require.NoError(t, err)
				require.NoError(t, sim.Replay(context.Background(), tr.Source(0, pager.NeedsNext(policy))))

				lp, rec := newRecorded(t, tr.Distinct(), cfg, mech)
				real, err := lp.Replay(context.Background(), replaySource(tr, lp))
				require.NoError(t, err)
				assert.Equal(t, sim.Stats(), real.Stats)
				assert.Equal(t, simRec.Victims(), rec.Victims(), "the same victims")
				assert.Equal(t, simRec.Events, rec.Events, "the same calls, in order")
			})
		}
	}
}

// revoke takes access to page p away behind the core's back, as a bug in
// a mechanism would.
func revoke(t testing.TB, lp *Pager, p arch.PageNum) {
	var err error
	switch lp.mech {
	case Mprotect:
		err = lp.region.Protect(p, 1, arch.ProtNone)
	case Remap:
		err = lp.region.Reserve(p, 1)
	case Uffd:
		err = lp.region.Drop(p, 1)
	}
	if err != nil {
		t.Errorf("revoking page %d: %v", p, err)
	}
}

// TestReplayStopsAtALostGrant: when real memory loses a grant that the core
// made (the access faults again after its fault was resolved), Replay
// stops at once with ErrInconsistent naming the access and its page, and
// the core has counted nothing twice: the regression of a replay that
// counted 7 accesses of a 6-access trace and returned nil.
func TestReplayStopsAtALostGrant(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			b := pager.NewBuilder("six")
			for _, p := range []arch.PageNum{1, 2, 3, 1, 2, 3} {
				b.Add(p, false)
			}
			tr := b.Trace()
			lp := newLive(t, tr.Distinct(), "fifo", 3, &Options{Mechanism: mech})
			faults := 0
			lp.afterFault = func(p arch.PageNum) {
				faults++
				if faults == 2 { // access 1, page id 1: lose its grant
					revoke(t, lp, p)
				}
			}
			st, err := lp.Replay(context.Background(), replaySource(tr, lp))
			require.ErrorIs(t, err, ErrInconsistent)
			assert.ErrorContains(t, err, "replay access 1 to page 1 faulted again")
			assert.Equal(t, uint64(2), st.Accesses, "accesses 0 and 1, each once")
			assert.Equal(t, uint64(2), st.Faults)
			assert.Equal(t, uint64(3), st.UserFaults, "the second fault of access 1 was caught, not handed to the core")
		})
	}
}

// TestReplayStopsAtAMissingFault: an access that should fault but does not
// (its page is accessible behind the core's back) stops Replay too.
func TestReplayStopsAtAMissingFault(t *testing.T) {
	b := pager.NewBuilder("four")
	for _, p := range []arch.PageNum{1, 2, 1, 3} {
		b.Add(p, false)
	}
	tr := b.Trace()
	lp := newLive(t, tr.Distinct(), "fifo", 3, &Options{Mechanism: Mprotect})
	lp.afterFault = func(p arch.PageNum) {
		if p == 1 { // after page 1's fault, open page 2 before its access
			require.NoError(t, lp.region.Protect(2, 1, arch.ProtRead))
		}
	}
	st, err := lp.Replay(context.Background(), replaySource(tr, lp))
	require.ErrorIs(t, err, ErrInconsistent)
	assert.ErrorContains(t, err, "replay access 3 to page 2 (write false) did not fault")
	assert.Equal(t, uint64(3), st.Accesses)
}

// TestAccessorsDuringReplay: ReadAt and WriteAt may fault while a Replay
// runs: each fault carries its own access, so neither takes the other's,
// and the replay tells a page that another goroutine evicted from a lost
// grant. No inconsistency is reported, every access is counted (one that
// faulted again after an eviction overtook it counts again, as documented),
// and no data is lost (run under the race detector).
func TestAccessorsDuringReplay(t *testing.T) {
	const replayPages, extra, accesses = 40, 40, 4000
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			tr := randomTrace(11, 20_000, replayPages, 0.3)
			lp := newLive(t, replayPages+extra, "clock", 6, &Options{Mechanism: mech})
			var wg sync.WaitGroup
			errs := make(chan error, 2)
			wg.Go(func() {
				for i := range accesses {
					p := arch.PageNum(replayPages + i%extra)
					if err := lp.WriteAt(p, 8, stamp(p, uint64(i))); err != nil {
						errs <- err
						return
					}
				}
			})
			var replayed Stats
			wg.Go(func() {
				var err error
				replayed, err = lp.Replay(context.Background(), replaySource(tr, lp))
				if err != nil {
					errs <- err
				}
			})
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			st := lp.Stats()
			want := uint64(tr.Len() + accesses)
			assert.GreaterOrEqual(t, st.Accesses, want, "every access counted")
			assert.LessOrEqual(t, st.Accesses-want, st.UserFaults, "only accesses that faulted again count twice")
			assert.Equal(t, st.Accesses, st.Hits+st.Faults)
			assert.LessOrEqual(t, replayed.Accesses, st.Accesses)
			buf := make([]byte, 16)
			for i := accesses - extra; i < accesses; i++ {
				p := arch.PageNum(replayPages + i%extra)
				require.NoError(t, lp.ReadAt(p, 8, buf))
				assert.Equal(t, stamp(p, uint64(i)), buf, "page %d keeps its last write", p)
			}
		})
	}
}

// TestParallelRealReplaysOfOneTrace: several Pagers replay one trace at
// once (opt computes its next uses once, for all): each agrees with
// simulation.
func TestParallelRealReplaysOfOneTrace(t *testing.T) {
	tr := randomTrace(12, 3000, 50, 0.3)
	want := map[string]pager.Stats{}
	for _, policy := range []string{"opt", "lru", "sieve"} {
		r, err := pager.Simulate(context.Background(), randomTrace(12, 3000, 50, 0.3), pager.Config{Policy: policy, Frames: 9}, nil)
		require.NoError(t, err)
		want[policy] = r.Stats
	}
	for _, mech := range mechanisms {
		for _, policy := range []string{"opt", "lru", "sieve"} {
			t.Run(fmt.Sprintf("%s/%s", mech, policy), func(t *testing.T) {
				t.Parallel()
				lp := newLive(t, tr.Distinct(), policy, 9, &Options{Mechanism: mech})
				st, err := lp.Replay(context.Background(), replaySource(tr, lp))
				require.NoError(t, err)
				assert.Equal(t, want[policy], st.Stats)
			})
		}
	}
}

// TestReplayStopsWhenCancelled: a cancelled context stops Replay at the
// next batch, with the counts of the accesses done.
func TestReplayStopsWhenCancelled(t *testing.T) {
	tr := randomTrace(13, 10_000, 30, 0.2)
	lp := newLive(t, tr.Distinct(), "lru", 5, nil)
	ctx, cancel := context.WithCancel(context.Background())
	src := &cancelling{Source: tr.Source(1000, false), after: 3, cancel: cancel}
	st, err := lp.Replay(ctx, src)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(3000), st.Accesses)
}

type cancelling struct {
	pager.Source
	after  int
	cancel func()
}

func (c *cancelling) Next() (*pager.Batch, error) {
	b, err := c.Source.Next()
	c.after--
	if c.after == 0 {
		c.cancel()
	}
	return b, err
}
