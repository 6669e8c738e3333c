package live

import (
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// scaleTrace touches distinct pages once each (every third a write), then
// makes as many accesses again, mostly to a hot quarter of the pages, 30%
// writes: with fewer frames than distinct pages it evicts, clean and dirty.
func scaleTrace(distinct int) *pager.Trace {
	rng := rand.New(rand.NewPCG(7, 7))
	b := pager.NewBuilder("scale")
	for p := range distinct {
		b.Add(arch.PageNum(p), p%3 == 0)
	}
	for range distinct {
		p := rng.IntN(distinct / 4)
		if rng.IntN(4) == 0 {
			p = rng.IntN(distinct)
		}
		b.Add(arch.PageNum(p), rng.IntN(10) < 3)
	}
	return b.Trace()
}

// TestUffdScale holds scaleFrames resident frames of a 1,000,000-page
// region, far past what vm.max_map_count lets per-page protections split:
// the counts agree with simulation, the memory areas of the process stay
// as few as before the run (sampled during it), and the memory in use is
// the frame budget.
func TestUffdScale(t *testing.T) {
	const pages = 1_000_000
	frames, distinct := scaleFrames, scaleFrames*5/4
	limit, err := vm.MapLimit()
	require.NoError(t, err)
	if !raceEnabled {
		require.Greater(t, 2*frames, limit, "the budget is past what mprotect could split")
	}
	tr := scaleTrace(distinct)
	require.Equal(t, distinct, tr.Distinct())
	sim, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: "clock", Frames: frames}, nil)
	require.NoError(t, err)

	before, err := vm.MapCount()
	require.NoError(t, err)
	lp := newLive(t, pages, "clock", frames, &Options{Mechanism: Uffd})
	var most atomic.Int64
	most.Store(int64(before))
	done := make(chan struct{})
	sampled := make(chan int)
	go func() {
		n := 0
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				sampled <- n
				return
			case <-tick.C:
			}
			if c, err := vm.MapCount(); err == nil {
				n++
				if int64(c) > most.Load() {
					most.Store(int64(c))
				}
			}
		}
	}()
	real, err := lp.Replay(context.Background(), replaySource(tr, lp))
	close(done)
	samples := <-sampled
	require.NoError(t, err)

	assert.Equal(t, sim.Stats, real.Stats)
	assert.Equal(t, real.Faults+real.ProtectionFaults, real.UserFaults)
	assert.Greater(t, real.Writebacks, uint64(0))
	assert.Equal(t, frames, lp.Used())
	after, err := vm.MapCount()
	require.NoError(t, err)
	// The Go runtime maps a few areas of its own as the heap grows; one
	// page by one split would add hundreds of thousands.
	assert.Less(t, int(most.Load())-before, 64, "memory areas during the run (%d samples)", samples)
	assert.Less(t, after-before, 64, "memory areas with %d pages resident", frames)
	n, err := lp.region.Allocated()
	require.NoError(t, err)
	assert.Equal(t, int64(frames)*int64(lp.region.PageSize()), n, "exactly the frames are in memory")
	t.Logf("%d accesses, %d faults, %d evictions, %d writebacks; memory areas %d before, at most %d during (%d samples), %d after",
		real.Accesses, real.Faults, real.Evictions, real.Writebacks, before, most.Load(), samples, after)
}

// TestUffdOneProcessor pages with every goroutine on one processor: faults
// are resolved on the faulting goroutine itself, so no handler goroutine
// has to be scheduled (a reader of the userfaultfd would wait for
// preemption, milliseconds per fault).
func TestUffdOneProcessor(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	lp := newLive(t, 256, "clock", 4, &Options{Mechanism: Uffd})
	checkNothingLost(t, lp, 256, i3Accesses/4, nil)
	st := lp.Stats()
	assert.Greater(t, st.Faults, uint64(i3Accesses/8), "most accesses faulted")
}

// TestUffdUnprivileged runs as nobody in a child process: uffd works there
// (userfaultfd(2) for user-mode faults needs no privilege), and once a
// seccomp filter refuses the system call, New says so clearly while the
// other mechanisms still work.
func TestUffdUnprivileged(t *testing.T) {
	if !vmtest.Unprivileged(t) {
		return
	}
	require.NotZero(t, os.Getuid())
	tr := randomTrace(3, 400, 40, 0.3)
	sim, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: "lru", Frames: 5}, nil)
	require.NoError(t, err)
	replay := func(mech Mechanism) (Stats, error) {
		pol, err := pager.NewPolicy("lru", pager.Options{})
		require.NoError(t, err)
		lp, err := New(tr.Distinct(), pol, 5, &Options{Mechanism: mech})
		if err != nil {
			return Stats{}, err
		}
		defer lp.Close()
		return lp.Replay(context.Background(), replaySource(tr, lp))
	}
	st, err := replay(Uffd)
	skipIfNotSupported(t, err)
	assert.Equal(t, sim.Stats, st.Stats, "uffd without privileges")

	require.NoError(t, vmtest.DenyUserfaultfd())
	_, err = replay(Uffd)
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.False(t, errors.Is(err, vm.ErrNotSupported), "a permission, not a missing feature: %v", err)
	var ue *vm.UserfaultError
	assert.ErrorAs(t, err, &ue)
	for _, want := range []string{"mechanism uffd", "/dev/userfaultfd", "vm.unprivileged_userfaultfd"} {
		assert.Contains(t, err.Error(), want)
	}
	for _, mech := range []Mechanism{Mprotect, Remap} {
		st, err := replay(mech)
		require.NoError(t, err, "%v needs no userfaultfd", mech)
		assert.Equal(t, sim.Stats, st.Stats)
	}
}

// TestUffdSyncLeavesPagesClean checks Sync and Close on the uffd mechanism:
// dirty pages reach the store, and a write after Sync faults again (the
// page was write-protected) and is counted as a protection fault.
func TestUffdSyncLeavesPagesClean(t *testing.T) {
	swap, err := pager.NewSwapStore(t.TempDir(), arch.SystemPageSize())
	require.NoError(t, err)
	defer swap.Close()
	lp := newLive(t, 8, "lru", 8, &Options{Mechanism: Uffd, Store: swap})
	require.NoError(t, lp.WriteAt(2, 10, []byte("dirty")))
	require.NoError(t, lp.Sync())
	buf := make([]byte, arch.SystemPageSize())
	require.NoError(t, swap.ReadPage(2, buf))
	assert.Equal(t, "dirty", string(buf[10:15]), "the store has the page")
	before := lp.Stats()
	require.NoError(t, lp.WriteAt(2, 0, []byte("again")))
	after := lp.Stats()
	assert.Equal(t, before.ProtectionFaults+1, after.ProtectionFaults)
	assert.Equal(t, before.UserFaults+1, after.UserFaults, "the write was caught")
	require.NoError(t, lp.Close())
	require.NoError(t, swap.ReadPage(2, buf))
	assert.Equal(t, "again", string(buf[:5]), "Close saved the last write")
}
