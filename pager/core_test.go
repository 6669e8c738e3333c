package pager_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/pagertest"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// drifting returns n accesses over pages pages, a fraction writes of them
// writes, from a working set that drifts.
func drifting(seed uint64, n, pages int, writes float64) *pager.Trace {
	rng := rand.New(rand.NewPCG(seed, 7))
	b := pager.NewBuilder(fmt.Sprintf("drifting-%d", seed))
	base := 0
	for range n {
		if rng.IntN(60) == 0 {
			base = rng.IntN(pages)
		}
		p := (base + int(rng.ExpFloat64()*3)) % pages
		if rng.IntN(9) == 0 {
			p = rng.IntN(pages)
		}
		b.Add(arch.PageNum(p)*4096, rng.Float64() < writes)
	}
	return b.Trace()
}

// recorded returns a pager whose policy records what it was told.
func recorded(t testing.TB, cfg pager.Config, be pager.Backend) (*pager.Pager, *pagertest.Recorder) {
	t.Helper()
	pol, err := pager.NewPolicy(cfg.Policy, cfg.Options)
	require.NoError(t, err)
	rec := pagertest.Record(pol)
	p, err := pager.New(rec, cfg.Frames, be)
	require.NoError(t, err)
	return p, rec
}

// TestOneStepFunction: an access run alone (Access, the path of real mode
// and step tables) and the same access run in a batch (Replay, the path of
// simulation, in batches of every size) tell the policy exactly the same
// things in the same order, so they choose the same victims; and Access's
// outcomes say what the policy was told.
func TestOneStepFunction(t *testing.T) {
	ctx := context.Background()
	tr := drifting(1, 3000, 60, 0.3)
	for _, name := range pager.Policies() {
		for _, frames := range []int{1, 3, 17, 60} {
			cfg := pager.Config{Policy: name, Frames: frames, Options: pager.Options{Seed: 5}}
			withNext := pager.NeedsNext(name)
			t.Run(fmt.Sprintf("%s/frames=%d", name, frames), func(t *testing.T) {
				one, oneRec := recorded(t, cfg, nil)
				var outcomes []pager.Outcome
				for i := range tr.Len() {
					r := tr.Ref(i)
					if !withNext {
						r.Next = 0
					}
					o, err := one.Access(r)
					require.NoError(t, err)
					outcomes = append(outcomes, o)
				}
				for _, size := range []int{1, 7, 1000, 1 << 16} {
					batched, rec := recorded(t, cfg, nil)
					require.NoError(t, batched.Replay(ctx, tr.Source(size, withNext)))
					require.Equal(t, oneRec.Events, rec.Events, "batches of %d", size)
					assert.Equal(t, one.Stats(), batched.Stats(), "batches of %d", size)
				}
				// Each outcome is what the policy heard of that access.
				e := oneRec.Events
				for i, o := range outcomes {
					if o.Evicted {
						require.Equal(t, pagertest.Evict, e[0].Op, "access %d", i)
						assert.Equal(t, o.Victim, e[0].Victim, "access %d", i)
						e = e[1:]
					}
					want := pagertest.Hit
					if o.Kind == pager.Miss {
						want = pagertest.Insert
					}
					require.Equal(t, want, e[0].Op, "access %d: %v", i, o)
					assert.Equal(t, uint64(i), e[0].Ref.Time)
					e = e[1:]
				}
				assert.Empty(t, e)
			})
		}
	}
}

// TestOutcomes: the kinds of the textbook's first accesses, worked by hand:
// 3 frames, FIFO, "1 2 3w 1w 4 1".
func TestOutcomes(t *testing.T) {
	p, err := pager.New(mustPolicy(t, "fifo"), 3, nil)
	require.NoError(t, err)
	want := []pager.Outcome{
		{Kind: pager.Miss},
		{Kind: pager.Miss},
		{Kind: pager.Miss},       // 3w: loaded dirty
		{Kind: pager.Protection}, // 1w: first write to clean page 1
		{Kind: pager.Miss, Evicted: true, Victim: 0, WroteBack: true}, // 4 evicts 1 (dirty)
		{Kind: pager.Miss, Evicted: true, Victim: 1},                  // 1 evicts 2 (clean)
	}
	refs := []pager.Ref{{Page: 0}, {Page: 1}, {Page: 2, Write: true}, {Page: 0, Write: true}, {Page: 3}, {Page: 0}}
	for i, r := range refs {
		r.Time = uint64(i)
		o, err := p.Access(r)
		require.NoError(t, err)
		assert.Equal(t, want[i], o, "access %d", i)
	}
	assert.Equal(t, pager.Stats{Accesses: 6, Reads: 4, Writes: 2, Hits: 1, Faults: 5, Evictions: 2, Writebacks: 1, ProtectionFaults: 1}, p.Stats())
}

func mustPolicy(t testing.TB, name string) pager.Policy {
	t.Helper()
	pol, err := pager.NewPolicy(name, pager.Options{})
	require.NoError(t, err)
	return pol
}

// flaky is a Backend that fails the calls it is told to, and records the
// pages it holds, so that the test can check that the pager's state stays
// true to what the backend did.
type flaky struct {
	resident map[pager.PageID]bool
	dirty    map[pager.PageID]bool
	n        int
	fail     func(op string, n int) bool
}

var errFlaky = errors.New("backend refused")

func (f *flaky) call(op string) error {
	f.n++
	if f.fail(op, f.n) {
		return errFlaky
	}
	return nil
}

func (f *flaky) Evict(v pager.PageID, dirty bool) error {
	if !f.resident[v] || dirty != f.dirty[v] {
		panic(fmt.Sprintf("evict %d dirty=%v: backend has resident=%v dirty=%v", v, dirty, f.resident[v], f.dirty[v]))
	}
	if err := f.call("evict"); err != nil {
		return err
	}
	delete(f.resident, v)
	delete(f.dirty, v)
	return nil
}

func (f *flaky) Load(p pager.PageID, write bool) error {
	if f.resident[p] {
		panic(fmt.Sprintf("load of resident page %d", p))
	}
	if err := f.call("load"); err != nil {
		return err
	}
	f.resident[p], f.dirty[p] = true, write
	return nil
}

func (f *flaky) Upgrade(p pager.PageID) error {
	if !f.resident[p] || f.dirty[p] {
		panic(fmt.Sprintf("upgrade of page %d: resident=%v dirty=%v", p, f.resident[p], f.dirty[p]))
	}
	if err := f.call("upgrade"); err != nil {
		return err
	}
	f.dirty[p] = true
	return nil
}

// TestBackendErrorsLeaveStateConsistent: a backend that fails now and then
// (every 5th eviction, 7th load, 3rd upgrade) leaves the pager agreeing with
// it page by page; the failed access is not counted, and retrying it
// succeeds. Over the whole run, the counts are those of a pager whose
// backend never failed, for a policy that takes a failed victim back
// unchanged (fifo re-queues it: its victims can differ, so only the
// per-access facts are held for every policy).
func TestBackendErrorsLeaveStateConsistent(t *testing.T) {
	tr := drifting(4, 2000, 40, 0.4)
	for _, name := range pager.Policies() {
		t.Run(name, func(t *testing.T) {
			counts := map[string]int{}
			be := &flaky{resident: map[pager.PageID]bool{}, dirty: map[pager.PageID]bool{}}
			be.fail = func(op string, _ int) bool {
				counts[op]++
				every := map[string]int{"evict": 5, "load": 7, "upgrade": 3}[op]
				return counts[op]%every == 0
			}
			p, err := pager.New(mustPolicy(t, name), 8, be)
			require.NoError(t, err)
			failures := 0
			for i := range tr.Len() {
				r := tr.Ref(i)
				for {
					before := p.Stats()
					_, err := p.Access(r)
					if err == nil {
						break
					}
					failures++
					require.ErrorIs(t, err, errFlaky)
					after := p.Stats()
					assert.Equal(t, before.Accesses, after.Accesses, "access %d: a failed access is not counted", i)
					assert.Equal(t, before.Faults, after.Faults)
					assert.Equal(t, before.Hits, after.Hits)
					assert.Equal(t, before.ProtectionFaults, after.ProtectionFaults)
				}
				require.LessOrEqual(t, p.Used(), 8)
				require.Equal(t, len(be.resident), p.Used(), "access %d", i)
				for id := range be.resident {
					require.True(t, p.Resident(id), "access %d: page %d", i, id)
					require.Equal(t, be.dirty[id], p.Dirty(id), "access %d: page %d", i, id)
				}
			}
			st := p.Stats()
			assert.Positive(t, failures)
			assert.Equal(t, uint64(tr.Len()), st.Accesses, "every access counted once")
			assert.Equal(t, st.Accesses, st.Hits+st.Faults)
			assert.Equal(t, st.Accesses, st.Reads+st.Writes)
		})
	}
}

// TestParallelReplaysOfOneTrace: a trace is immutable once built, so many
// goroutines can replay it at once, opt included (whose next uses the
// first replay computes): run under the race detector.
func TestParallelReplaysOfOneTrace(t *testing.T) {
	tr := drifting(9, 20_000, 300, 0.2)
	var want []pager.Result
	for _, name := range []string{"opt", "lru", "arc", "opt"} {
		r, err := pager.Simulate(context.Background(), drifting(9, 20_000, 300, 0.2), pager.Config{Policy: name, Frames: 50}, nil)
		require.NoError(t, err)
		want = append(want, r)
	}
	for g := range 8 {
		t.Run(fmt.Sprintf("goroutine=%d", g), func(t *testing.T) {
			t.Parallel()
			for i, name := range []string{"opt", "lru", "arc", "opt"} {
				r, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: name, Frames: 50}, nil)
				require.NoError(t, err)
				assert.Equal(t, want[i].Stats, r.Stats, name)
			}
		})
	}
}

// TestSweepStopsWhenCancelled: a cancelled sweep returns the runs that
// finished, which are exact, and the context's error.
func TestSweepStopsWhenCancelled(t *testing.T) {
	tr := drifting(2, 50_000, 500, 0.1)
	var cfgs []pager.Config
	for f := 1; f <= 64; f++ {
		cfgs = append(cfgs, pager.Config{Policy: "lru", Frames: f})
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	got, err := pager.Sweep(ctx, []*pager.Trace{tr}, cfgs, 2)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, got, "cancelled before the first run")

	ctx, cancel = context.WithCancel(context.Background())
	var once sync.Once
	src := &cancelAfter{Source: tr.Source(1000, false), n: 10, cancel: func() { once.Do(cancel) }}
	p, err := pager.New(mustPolicy(t, "lru"), 10, nil)
	require.NoError(t, err)
	err = p.Replay(ctx, src)
	require.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, uint64(11_000), p.Stats().Accesses, "the batch being taken when it was cancelled runs, no other")
}

// cancelAfter calls cancel once n batches have been given.
type cancelAfter struct {
	pager.Source
	n      int
	cancel func()
}

func (c *cancelAfter) Next() (*pager.Batch, error) {
	if c.n == 0 {
		c.cancel()
	}
	c.n--
	return c.Source.Next()
}

// TestFramesBeyondThePages: a budget larger than the trace's pages counts
// what a budget of exactly its pages counts, and costs what that costs:
// 2^26 frames on a 12-access trace allocate kilobytes, not the 256 MiB of
// a table per frame.
func TestFramesBeyondThePages(t *testing.T) {
	tr := drifting(3, 12, 5, 0.5)
	for _, name := range pager.Policies() {
		exact, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: name, Frames: tr.Distinct()}, nil)
		require.NoError(t, err)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		huge, err := pager.Simulate(context.Background(), tr, pager.Config{Policy: name, Frames: pager.MaxFrames}, nil)
		runtime.ReadMemStats(&after)
		require.NoError(t, err)
		assert.Equal(t, exact.Stats, huge.Stats, name)
		assert.Equal(t, pager.MaxFrames, huge.Frames, "%s: the result says the frames asked for", name)
		assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "%s allocates by pages, not by frames", name)
	}
}

// TestStreamFramesBeyondThePages: streaming does not know the distinct
// pages in advance, so every policy's tables grow with the pages loaded, not
// with the budget: all 14 policies at 2^26 frames on 12 accesses, in one
// stream, allocate a few megabytes (the batches), not 14 tables of 2^26.
func TestStreamFramesBeyondThePages(t *testing.T) {
	tr := drifting(3, 12, 5, 0.5)
	var cfgs, exact []pager.Config
	for _, name := range pager.Policies() {
		if name != "opt" { // opt would load the trace: Simulate's case
			cfgs = append(cfgs, pager.Config{Policy: name, Frames: pager.MaxFrames})
			exact = append(exact, pager.Config{Policy: name, Frames: tr.Distinct()})
		}
	}
	want, err := pager.Sweep(context.Background(), []*pager.Trace{tr}, exact, 1)
	require.NoError(t, err)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	got, err := pager.Stream(context.Background(), "tiny", traces.FromSlice(accessesOf(tr)), cfgs, nil)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	for i := range got {
		assert.Equal(t, want[i].Stats, got[i].Stats, cfgs[i].Policy)
	}
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20))
}

func accessesOf(t *pager.Trace) []traces.Access {
	as := make([]traces.Access, t.Len())
	for i := range as {
		id, w := t.At(i)
		as[i] = traces.Access{Page: t.PageNum(id), Write: w}
	}
	return as
}

// TestNeedsNext: one table says which policies read next uses.
func TestNeedsNext(t *testing.T) {
	for _, name := range pager.Policies() {
		assert.Equal(t, name == "opt", pager.NeedsNext(name), name)
	}
	assert.False(t, pager.NeedsNext("no such policy"))
}

// TestLoadBudget: a trace that outgrows the memory budget is refused, with
// how far Load got; one whose header says its length is refused before it
// is read.
func TestLoadBudget(t *testing.T) {
	ctx := context.Background()
	as := make([]traces.Access, 100_000)
	for i := range as {
		as[i] = traces.Access{Page: arch.PageNum(i % 5000)}
	}
	budget := pager.LoadCost(30_000, 5000)
	_, err := pager.Load(ctx, "long", traces.FromSlice(as), &pager.LoadOptions{MaxBytes: budget})
	var tl *pager.TooLargeError
	require.ErrorAs(t, err, &tl)
	assert.ErrorIs(t, err, pager.ErrTooLarge)
	assert.Equal(t, uint64(65536), tl.Read, "stopped after the first batch past the budget")
	assert.Equal(t, uint64(5000), tl.Distinct)
	assert.Greater(t, tl.Need, budget)

	tr, err := pager.Load(ctx, "long", traces.FromSlice(as), &pager.LoadOptions{MaxBytes: pager.LoadCost(100_000, 5000)})
	require.NoError(t, err)
	assert.Equal(t, 100_000, tr.Len())

	w := &counted{Reader: traces.FromSlice(as), n: uint64(len(as))}
	_, err = pager.Load(ctx, "counted", w, &pager.LoadOptions{MaxBytes: budget})
	require.ErrorAs(t, err, &tl)
	assert.Equal(t, uint64(100_000), tl.Total)
	assert.Zero(t, w.read, "refused before reading")
}

type counted struct {
	traces.Reader
	n    uint64
	read int
}

func (c *counted) Count() (uint64, bool) { return c.n, true }

func (c *counted) Read(buf []traces.Access) (int, error) {
	c.read++
	return c.Reader.Read(buf)
}

// batches is a Source of batches made by hand, as a library user's own
// Source would make them.
type batches []*pager.Batch

func (s *batches) Next() (*pager.Batch, error) {
	if len(*s) == 0 {
		return nil, io.EOF
	}
	b := (*s)[0]
	*s = (*s)[1:]
	return b, nil
}

// TestReplayRefusesMalformedBatches feeds Replay batches of a Source
// written elsewhere that break the Batch contract: each is refused with
// pager.ErrBadBatch and the accesses of the good batch before it are counted;
// none panics.
func TestReplayRefusesMalformedBatches(t *testing.T) {
	good := &pager.Batch{Pages: []pager.PageID{0, 1, 0}, Writes: []bool{false, true, false}, Next: []uint64{2, traces.NoNext, traces.NoNext}}
	for _, tt := range []struct {
		name, policy string
		bad          *pager.Batch
		want         string
	}{
		{"fewer writes than pages", "lru", &pager.Batch{Pages: []pager.PageID{0, 1, 2}, Writes: []bool{false}, Start: 3}, "batch at 3: 1 write flags for 3 pages"},
		{"fewer next uses than pages", "opt", &pager.Batch{Pages: []pager.PageID{0, 1}, Writes: []bool{false, false}, Next: []uint64{9}, Start: 3}, "1 next uses for 2 pages"},
		{"no next uses for opt", "opt", &pager.Batch{Pages: []pager.PageID{0}, Writes: []bool{false}, Start: 3}, "no next uses, which opt needs"},
		{"the reserved id", "fifo", &pager.Batch{Pages: []pager.PageID{0, ^pager.PageID(0)}, Writes: []bool{false, false}, Start: 3}, "access 1: page id 4294967295 is reserved"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pol, err := pager.NewPolicy(tt.policy, pager.Options{})
			require.NoError(t, err)
			p, err := pager.New(pol, 2, nil)
			require.NoError(t, err)
			src := batches{good, tt.bad}
			err = p.Replay(context.Background(), &src)
			require.ErrorIs(t, err, pager.ErrBadBatch)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, uint64(3), p.Stats().Accesses, "the good batch was run")
		})
	}
}
