package live

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

var mechanisms = []Mechanism{Mprotect, Remap, Uffd}

// skipIfNotSupported skips on an error that wraps vm.ErrNotSupported (a
// mechanism this kernel lacks), naming what is missing; any other error
// fails.
func skipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	vmtest.SkipIfNotSupported(tb, err)
	require.NoError(tb, err)
}

func newLive(t testing.TB, pages int, policy string, frames int, opts *Options) *Pager {
	t.Helper()
	pol, err := pager.NewPolicy(policy, pager.Options{Seed: 42})
	require.NoError(t, err)
	lp, err := New(pages, pol, frames, opts)
	skipIfNotSupported(t, err)
	t.Cleanup(func() { lp.Close() })
	return lp
}

// randomTrace returns n accesses over pages pages with some locality and a
// fraction of writes.
func randomTrace(seed uint64, n, pages int, writes float64) *pager.Trace {
	rng := rand.New(rand.NewPCG(seed, 1))
	b := pager.NewBuilder(fmt.Sprintf("random-%d", seed))
	base := 0
	for range n {
		if rng.IntN(40) == 0 {
			base = rng.IntN(pages)
		}
		p := (base + int(rng.ExpFloat64()*2.5)) % pages
		if rng.IntN(8) == 0 {
			p = rng.IntN(pages)
		}
		b.Add(arch.PageNum(p)<<20|0xabc, rng.Float64() < writes) // sparse page numbers
	}
	return b.Trace()
}

// TestSimAndRealAgree is invariant I1: the same trace, policy, frames and
// seed give the same counts in simulation and on real memory, with both
// mechanisms; and every fault and protection fault of real mode was really
// caught in user space.
func TestSimAndRealAgree(t *testing.T) {
	traces := 3
	if testing.Short() {
		traces = 1
	}
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			for seed := range uint64(traces) {
				tr := randomTrace(seed, 600, 30, 0.3)
				for _, frames := range []int{1, 4, 11} {
					for _, policy := range pager.Policies() {
						name := fmt.Sprintf("seed=%d/frames=%d/%s", seed, frames, policy)
						opts := pager.Options{Seed: seed + 1}
						sim, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: policy, Frames: frames, Options: opts}, nil)
						require.NoError(t, err)
						pol, err := pager.NewPolicy(policy, opts)
						require.NoError(t, err)
						lp, err := New(tr.Distinct(), pol, frames, &Options{Mechanism: mech})
						skipIfNotSupported(t, err)
						real, err := lp.Replay(context.Background(), replaySource(tr, lp))
						require.NoError(t, err, name)
						assert.Equal(t, sim.Stats, real.Stats, name)
						assert.Equal(t, real.Faults+real.ProtectionFaults, real.UserFaults, "%s: each fault was caught in user space", name)
						require.NoError(t, lp.Close())
					}
				}
			}
		})
	}
}

func TestTextbookStringsInRealMode(t *testing.T) {
	const belady, textbook = "1 2 3 4 1 2 5 1 2 3 4 5", "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1"
	for _, tc := range []struct {
		name   string
		trace  string
		policy string
		frames int
		faults uint64
	}{
		{"belady", belady, "fifo", 3, 9},
		{"belady", belady, "fifo", 4, 10},
		{"textbook", textbook, "fifo", 3, 15},
		{"textbook", textbook, "lru", 3, 12},
		{"textbook", textbook, "opt", 3, 9},
	} {
		for _, mech := range mechanisms {
			t.Run(fmt.Sprintf("%s/%s/frames=%d/%s", tc.name, tc.policy, tc.frames, mech), func(t *testing.T) {
				b := pager.NewBuilder("textbook")
				var n uint64
				for _, f := range splitFields(tc.trace) {
					fmt.Sscan(f, &n)
					b.Add(arch.PageNum(n), false)
				}
				tr := b.Trace()
				lp := newLive(t, tr.Distinct(), tc.policy, tc.frames, &Options{Mechanism: mech})
				st, err := lp.Replay(context.Background(), replaySource(tr, lp))
				require.NoError(t, err)
				assert.Equal(t, tc.faults, st.Faults)
				assert.Equal(t, tc.faults, st.UserFaults, "every fault is a real, caught fault")
			})
		}
	}
}

func splitFields(s string) []string {
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

// stamp is what a page holds: its number and a version.
func stamp(p arch.PageNum, v uint64) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, uint64(p))
	binary.LittleEndian.PutUint64(b[8:], v)
	return b
}

// TestNothingLost is invariant I3: 8 goroutines do random reads and writes
// over 256 pages with 4 frames; at the end every page holds exactly its
// last write, and every read saw a stamp of its own page.
func TestNothingLost(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			lp := newLive(t, 256, "clock", 4, &Options{Mechanism: mech})
			checkNothingLost(t, lp, 256, i3Accesses, nil)
		})
	}
}

// checkNothingLost runs the I3 workload; expected, if not nil, is called
// with every access error and says whether it was expected (then the access
// is retried, as a caller of a failing store would).
func checkNothingLost(t *testing.T, lp *Pager, pages, accesses int, expected func(error) bool) {
	t.Helper()
	const workers = 8
	last := make([]uint64, pages) // last version written, under locks[p]
	locks := make([]sync.Mutex, pages)
	var version atomic.Uint64
	errs := make(chan error, workers)
	var retried atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 9))
			buf := make([]byte, 16)
			for range accesses / workers {
				p := arch.PageNum(rng.IntN(pages))
				if rng.IntN(3) == 0 {
					locks[p].Lock()
					v := version.Add(1)
					var err error
					for {
						err = lp.WriteAt(p, 0, stamp(p, v))
						if err == nil || expected == nil || !expected(err) {
							break
						}
						retried.Add(1)
					}
					if err == nil {
						last[p] = v
					}
					locks[p].Unlock()
					if err != nil {
						errs <- err
						return
					}
					continue
				}
				var err error
				for {
					err = lp.ReadAt(p, 0, buf)
					if err == nil || expected == nil || !expected(err) {
						break
					}
					retried.Add(1)
				}
				if err != nil {
					errs <- err
					return
				}
				got := binary.LittleEndian.Uint64(buf)
				if v := binary.LittleEndian.Uint64(buf[8:]); v != 0 && got != uint64(p) {
					errs <- fmt.Errorf("page %d holds a stamp of page %d", p, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	buf := make([]byte, 16)
	for p := range pages {
		err := lp.ReadAt(arch.PageNum(p), 0, buf)
		for err != nil && expected != nil && expected(err) {
			err = lp.ReadAt(arch.PageNum(p), 0, buf)
		}
		require.NoError(t, err)
		want := make([]byte, 16)
		if last[p] != 0 {
			want = stamp(arch.PageNum(p), last[p])
		}
		assert.Equal(t, want, buf, "page %d", p)
	}
	st := lp.Stats()
	assert.LessOrEqual(t, lp.Used(), 4)
	assert.Greater(t, st.Writebacks, uint64(0))
	if expected != nil {
		assert.Greater(t, retried.Load(), int64(0), "the failing store was hit")
	}
	err := lp.Sync()
	for err != nil && expected != nil && expected(err) {
		err = lp.Sync()
	}
	require.NoError(t, err)
}

// failingStore fails every n-th write.
type failingStore struct {
	pager.Store
	n      int64
	writes atomic.Int64
}

var errInjected = errors.New("injected store failure")

func (s *failingStore) WritePage(p arch.PageNum, buf []byte) error {
	if s.writes.Add(1)%s.n == 0 {
		return errInjected
	}
	return s.Store.WritePage(p, buf)
}

func TestStoreFailureLosesNothing(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			swap, err := pager.NewSwapStore(t.TempDir(), arch.SystemPageSize())
			require.NoError(t, err)
			defer swap.Close()
			fs := &failingStore{Store: swap, n: 7}
			lp := newLive(t, 64, "lru", 4, &Options{Mechanism: mech, Store: fs})
			checkNothingLost(t, lp, 64, i3Accesses/10, func(err error) bool { return errors.Is(err, errInjected) })
		})
	}
}

func TestFrameBudgetBoundedByMapLimit(t *testing.T) {
	limit, err := vm.MapLimit()
	require.NoError(t, err)
	pol, _ := pager.NewPolicy("lru", pager.Options{})
	_, err = New(1_000_000, pol, limit, nil)
	require.ErrorIs(t, err, vm.ErrMapLimit)
	assert.Contains(t, err.Error(), "vm.max_map_count")
	for _, mech := range []Mechanism{Mprotect, Remap} {
		_, err = New(1_000_000, pol, 200_000, &Options{Mechanism: mech})
		assert.ErrorIs(t, err, vm.ErrMapLimit, "%v splits areas page by page", mech)
	}
	for _, mech := range mechanisms {
		_, err = New(10, pol, 0, &Options{Mechanism: mech})
		assert.ErrorIs(t, err, pager.ErrFrames)
	}
}

func TestMechanisms(t *testing.T) {
	assert.Equal(t, []string{"mprotect", "remap", "uffd"}, Mechanisms())
	for _, mech := range mechanisms {
		got, err := ParseMechanism(mech.String())
		require.NoError(t, err)
		assert.Equal(t, mech, got)
	}
	_, err := ParseMechanism("magic")
	require.ErrorIs(t, err, ErrUnknownMechanism)
	assert.Contains(t, err.Error(), "mprotect, remap, uffd")
	pol, _ := pager.NewPolicy("lru", pager.Options{})
	_, err = New(10, pol, 1, &Options{Mechanism: Mechanism(99)})
	assert.ErrorIs(t, err, ErrUnknownMechanism)
}

func TestMemoryStaysWithinFrames(t *testing.T) {
	ps := int64(arch.SystemPageSize())
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			// A large region, reserved but not populated.
			lp := newLive(t, 100_000, "fifo", 16, &Options{Mechanism: mech})
			b := pager.NewBuilder("sweep")
			for p := range 2000 {
				b.Add(arch.PageNum(p*37%100_000), p%3 == 0)
			}
			_, err := lp.Replay(context.Background(), replaySource(b.Trace(), lp))
			require.NoError(t, err)
			n, err := lp.region.Allocated()
			require.NoError(t, err)
			assert.LessOrEqual(t, n, 16*ps, "at most frames pages of memory")
			assert.Greater(t, n, int64(0))
		})
	}
}

// TestAccessorsCountEveryAccess: with goroutines racing for few frames, the
// accessors still count each access once or more (a refault after a second
// eviction counts again), never less.
func TestAccessorsCountEveryAccess(t *testing.T) {
	for _, mech := range mechanisms {
		t.Run(mech.String(), func(t *testing.T) {
			lp := newLive(t, 16, "lru", 4, &Options{Mechanism: mech})
			const workers, each = 8, 300
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					buf := make([]byte, 1)
					for i := range each {
						if err := lp.ReadAt(arch.PageNum((w+i)%16), 0, buf); err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			st := lp.Stats()
			assert.GreaterOrEqual(t, st.Accesses, uint64(workers*each))
			assert.Equal(t, st.Accesses, st.Hits+st.Faults)
			assert.LessOrEqual(t, st.Accesses, uint64(workers*each)+st.UserFaults, "at most one extra count per fault")
		})
	}
}

func TestAccessorBounds(t *testing.T) {
	lp := newLive(t, 2, "lru", 2, nil)
	buf := make([]byte, 8)
	assert.Error(t, lp.ReadAt(1<<63, 0, buf), "page numbers past int64")
	assert.Error(t, lp.ReadAt(0, int(^uint(0)>>1), buf), "offsets that overflow")
	assert.Error(t, lp.ReadAt(2, 0, buf))
	assert.Error(t, lp.WriteAt(0, int(arch.SystemPageSize())-4, buf), "past the end of the page")
	assert.NoError(t, lp.WriteAt(1, int(arch.SystemPageSize())-8, buf))
}

func TestSmallRegionTakesAnyBudget(t *testing.T) {
	pol, _ := pager.NewPolicy("lru", pager.Options{})
	limit, err := vm.MapLimit()
	require.NoError(t, err)
	lp, err := New(5, pol, limit, nil)
	require.NoError(t, err, "5 pages can never split more than 5 areas, whatever the frames")
	require.NoError(t, lp.Close())
}

// replaySource is t's accesses for lp's policy: with next uses if it needs
// them.
func replaySource(t *pager.Trace, lp *Pager) pager.Source {
	return t.Source(0, pager.NeedsNext(lp.core.Policy().Name()))
}

// TestLargestCheckedRunCompletes takes the largest frame budget that
// CheckRun accepts for the mechanisms that split memory areas page by page
// and runs three policies one after another at it, each on a trace that
// makes the most areas it can: every other page resident, half of them
// written (read-only and writable areas alternate). Every run must finish
// with the counts of the simulation: CheckRun's room is real, and what
// the runs leave behind (freed areas, the heap) does not eat into the next.
func TestLargestCheckedRunCompletes(t *testing.T) {
	for _, mech := range []Mechanism{Mprotect, Remap} {
		t.Run(mech.String(), func(t *testing.T) {
			room, err := vm.MapRoom()
			require.NoError(t, err)
			frames := (room - 4 - RunMargin) / 2
			pages := 2 * frames
			require.NoError(t, CheckRun(mech, pages, frames))
			require.ErrorIs(t, CheckRun(mech, pages, frames+1), vm.ErrMapLimit, "the largest budget that fits")
			b := pager.NewBuilder("every other page")
			for i := range frames {
				b.Add(arch.PageNum(2*i), i%2 == 0)
			}
			for i := range frames {
				b.Add(arch.PageNum(2*i), false) // every one a hit
			}
			tr := b.Trace()
			for _, policy := range []string{"fifo", "lru", "clock"} {
				lp := newLive(t, pages, policy, frames, &Options{Mechanism: mech})
				st, err := lp.Replay(context.Background(), replaySource(tr, lp))
				require.NoError(t, err, "%s at %d frames", policy, frames)
				assert.Equal(t, uint64(frames), st.Faults, policy)
				assert.Equal(t, uint64(frames), st.Hits, policy)
				assert.Zero(t, st.Evictions, policy)
				require.NoError(t, lp.Close())
			}
		})
	}
}
