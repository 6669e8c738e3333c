package pager

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// residentPages returns p's resident pages in id order.
func residentPages(p *Pager) []PageID {
	var out []PageID
	for id := range p.state {
		if p.Resident(PageID(id)) {
			out = append(out, PageID(id))
		}
	}
	return out
}

func inspect(p *Pager) []Frame {
	fr, _ := p.Policy().(Inspector).Inspect()
	return fr
}

// shown is a frame as a step table shows it, without the hand's mark.
type shown struct {
	Page PageID
	Note string
}

// withoutHand returns the frames' pages and notes, the hand's mark
// stripped.
func withoutHand(fr []Frame) []shown {
	var out []shown
	for _, f := range fr {
		out = append(out, shown{f.Page, strings.TrimPrefix(f.Note, ">")})
	}
	return out
}

// handAt returns the page under the hand (marked ">") and whether there is
// one.
func handAt(fr []Frame) (PageID, bool) {
	for _, f := range fr {
		if strings.HasPrefix(f.Note, ">") {
			return f.Page, true
		}
	}
	return 0, false
}

// TestRemoveKeepsThePolicysOrder: removing a resident page leaves every
// other page where the policy's own view (Inspect) had it, with its notes;
// random fills the slot with its last page, as its evictions do; a hand on
// the page moves on to the next frame in the view's order, any other hand
// stays. Then the run goes on with the pager's books straight.
func TestRemoveKeepsThePolicysOrder(t *testing.T) {
	for _, name := range Policies() {
		for _, frames := range []int{1, 3, 8} {
			t.Run(fmt.Sprintf("%s/frames=%d", name, frames), func(t *testing.T) {
				tr := randomTrace(3, 800, 30, 0.3)
				pol, err := NewPolicy(name, Options{Seed: 4})
				require.NoError(t, err)
				p, err := New(pol, frames, nil)
				require.NoError(t, err)
				rng := rand.New(rand.NewPCG(5, 6))
				removed := 0
				for i := range tr.Len() {
					_, err := p.Access(tr.Ref(i))
					require.NoError(t, err)
					if rng.IntN(6) != 0 {
						continue
					}
					res := residentPages(p)
					x := res[rng.IntN(len(res))]
					before := inspect(p)
					require.NoError(t, p.Remove(x, true))
					removed++
					after := inspect(p)
					j := slices.IndexFunc(before, func(f Frame) bool { return f.Page == x })
					require.GreaterOrEqual(t, j, 0, "access %d: %d listed", i, x)
					want := slices.Delete(slices.Clone(before), j, j+1)
					if name == "random" && j < len(want) {
						// The last page moves into the slot.
						last := want[len(want)-1]
						want = slices.Insert(want[:len(want)-1], j, last)[:len(want)]
					}
					assert.Equal(t, withoutHand(want), withoutHand(after), "access %d: removing %d", i, x)
					if h, ok := handAt(before); ok && len(after) > 0 {
						got, ok := handAt(after)
						require.True(t, ok, "access %d: the hand is shown", i)
						if h == x {
							h = before[(j+1)%len(before)].Page
						}
						assert.Equal(t, h, got, "access %d: the hand after removing %d", i, x)
					}
					assert.False(t, p.Resident(x))
					assert.Equal(t, len(after), p.Used())
				}
				require.Greater(t, removed, 50)
				st := p.Stats()
				assert.Equal(t, st.Accesses, st.Hits+st.Faults)
				assert.Equal(t, uint64(tr.Len()), st.Accesses)
			})
		}
	}
}

// TestShrinkEvictsThePolicysVictims: for the policies whose view lists the
// next victim first, shrinking the budget by m evicts the first m pages of
// the view, in order, counted as evictions (and write-backs of the dirty
// ones); growing it again evicts nothing.
func TestShrinkEvictsThePolicysVictims(t *testing.T) {
	for _, name := range []string{"fifo", "lru", "mru", "lfu", "opt"} {
		t.Run(name, func(t *testing.T) {
			tr := randomTrace(9, 500, 40, 0.4)
			pol, err := NewPolicy(name, Options{})
			require.NoError(t, err)
			p, err := New(pol, 10, nil)
			require.NoError(t, err)
			shrinks := 0
			for i := range tr.Len() {
				_, err := p.Access(tr.Ref(i))
				require.NoError(t, err)
				if i%37 != 36 || p.Used() < 4 {
					continue
				}
				before := inspect(p)
				st := p.Stats()
				var dirtyOnes uint64
				for _, f := range before[:3] {
					if p.Dirty(f.Page) {
						dirtyOnes++
					}
				}
				n := p.Used() - 3
				ev, err := p.SetFrames(n, uint64(i+1))
				require.NoError(t, err)
				var evicted []PageID
				for _, e := range ev {
					evicted = append(evicted, e.Page)
				}
				assert.Equal(t, []PageID{before[0].Page, before[1].Page, before[2].Page}, evicted, "access %d: the victims in order", i)
				shrinks++
				assert.Equal(t, withoutHand(before[3:]), withoutHand(inspect(p)), "access %d", i)
				for _, f := range before[:3] {
					assert.False(t, p.Resident(f.Page))
				}
				assert.Equal(t, st.Evictions+3, p.Stats().Evictions)
				assert.Equal(t, st.Writebacks+dirtyOnes, p.Stats().Writebacks)
				assert.Equal(t, n, p.Frames())
				ev, err = p.SetFrames(10, uint64(i+1))
				require.NoError(t, err)
				assert.Empty(t, ev)
				assert.Equal(t, st.Evictions+3, p.Stats().Evictions, "growing evicts nothing")
			}
			require.Greater(t, shrinks, 5)
		})
	}
}

// TestRemoveAndResizeKeepTheBooks runs every policy through accesses mixed
// with removals and budget changes up and down: the view lists exactly the
// resident pages, never more than the budget, every victim was resident,
// and the policies' own bounds hold (arc's lists, s3fifo's ghosts).
func TestRemoveAndResizeKeepTheBooks(t *testing.T) {
	for seed := range seeds(5) {
		tr := randomTrace(seed, 2000, 60, 0.3)
		for _, name := range Policies() {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, name), func(t *testing.T) {
				pol, err := NewPolicy(name, Options{Seed: seed})
				require.NoError(t, err)
				p, err := New(pol, 8, nil)
				require.NoError(t, err)
				rng := rand.New(rand.NewPCG(seed, 11))
				check := func(when string) {
					t.Helper()
					fr := inspect(p)
					var listed []PageID
					for _, f := range fr {
						listed = append(listed, f.Page)
					}
					slices.Sort(listed)
					require.Equal(t, residentPages(p), listed, "%s: the view lists the resident pages", when)
					require.LessOrEqual(t, p.Used(), p.Frames(), when)
					switch pl := p.Policy().(type) {
					case *arc:
						require.LessOrEqual(t, pl.len(arcT1)+pl.len(arcB1), pl.c, when)
						require.LessOrEqual(t, pl.len(arcT1)+pl.len(arcT2)+pl.len(arcB1)+pl.len(arcB2), 2*pl.c, when)
						require.Equal(t, p.Frames(), pl.c, when)
					case *s3fifo:
						require.LessOrEqual(t, pl.ghost.n, pl.gCap, when)
					}
				}
				for i := range tr.Len() {
					switch k := rng.IntN(30); {
					case k < 3 && p.Used() > 0:
						res := residentPages(p)
						require.NoError(t, p.Remove(res[rng.IntN(len(res))], rng.IntN(2) == 0))
						check(fmt.Sprintf("remove before access %d", i))
					case k < 5:
						_, err := p.SetFrames(1+rng.IntN(14), uint64(i))
						require.NoError(t, err)
						check(fmt.Sprintf("budget %d before access %d", p.Frames(), i))
					}
					o, err := p.Access(tr.Ref(i))
					require.NoError(t, err)
					if o.Evicted {
						assert.False(t, p.Resident(o.Victim))
					}
					require.True(t, p.Resident(tr.pages[i]))
					check(fmt.Sprintf("access %d", i))
				}
			})
		}
	}
}

// The references below are the textbook rules written with plain slices,
// removals included, to hold the policies' Remove and shrinking evictions
// to.

// fifoRef is FIFO on a slice: oldest first.
type fifoRef struct{ q []PageID }

func (p *fifoRef) Name() string         { return "fifo" }
func (p *fifoRef) Reset(int, PageState) { p.q = nil }
func (p *fifoRef) Hit(Ref)              {}
func (p *fifoRef) Insert(r Ref)         { p.q = append(p.q, r.Page) }
func (p *fifoRef) Evict(Ref) PageID     { v := p.q[0]; p.q = p.q[1:]; return v }
func (p *fifoRef) Remove(id PageID) {
	p.q = slices.DeleteFunc(p.q, func(x PageID) bool { return x == id })
}

// lruRef is LRU on a slice: least recently used first.
type lruRef struct{ q []PageID }

func (p *lruRef) Name() string         { return "lru" }
func (p *lruRef) Reset(int, PageState) { p.q = nil }
func (p *lruRef) Hit(r Ref)            { p.Remove(r.Page); p.q = append(p.q, r.Page) }
func (p *lruRef) Insert(r Ref)         { p.q = append(p.q, r.Page) }
func (p *lruRef) Evict(Ref) PageID     { v := p.q[0]; p.q = p.q[1:]; return v }
func (p *lruRef) Remove(id PageID) {
	p.q = slices.DeleteFunc(p.q, func(x PageID) bool { return x == id })
}

// clockRef is clock on a slice of frames in ring order, with a hand; a
// victim's frame is pending until the next load fills it (and the hand
// moves past it), or, if the budget shrank, leaves the ring.
type clockRef struct {
	frames  []PageID
	ref     map[PageID]bool
	hand    int
	pending int
}

func (p *clockRef) Name() string         { return "clock" }
func (p *clockRef) Reset(int, PageState) { *p = clockRef{ref: map[PageID]bool{}, pending: -1} }
func (p *clockRef) Hit(r Ref)            { p.ref[r.Page] = true }
func (p *clockRef) Resize(int)           { p.settle() }

func (p *clockRef) settle() {
	if p.pending >= 0 {
		p.dropFrame(p.pending)
		p.pending = -1
	}
}

func (p *clockRef) dropFrame(s int) {
	p.frames = slices.Delete(p.frames, s, s+1)
	if p.hand > s {
		p.hand--
	}
	if p.hand >= len(p.frames) {
		p.hand = 0
	}
}

func (p *clockRef) Insert(r Ref) {
	p.ref[r.Page] = true
	if p.pending >= 0 {
		p.frames[p.pending] = r.Page
		p.hand = (p.pending + 1) % len(p.frames)
		p.pending = -1
		return
	}
	p.frames = append(p.frames, r.Page)
}

func (p *clockRef) Evict(Ref) PageID {
	p.settle()
	for p.ref[p.frames[p.hand]] {
		p.ref[p.frames[p.hand]] = false
		p.hand = (p.hand + 1) % len(p.frames)
	}
	p.pending = p.hand
	return p.frames[p.hand]
}

func (p *clockRef) Remove(id PageID) {
	p.settle()
	p.dropFrame(slices.Index(p.frames, id))
	delete(p.ref, id)
}

// sieveRef is SIEVE on a slice, oldest first; the hand is an index, -1 for
// "start at the oldest".
type sieveRef struct {
	q       []PageID
	visited map[PageID]bool
	hand    int
}

func (p *sieveRef) Name() string         { return "sieve" }
func (p *sieveRef) Reset(int, PageState) { *p = sieveRef{visited: map[PageID]bool{}, hand: -1} }
func (p *sieveRef) Hit(r Ref)            { p.visited[r.Page] = true }
func (p *sieveRef) Insert(r Ref)         { p.q = append(p.q, r.Page); p.visited[r.Page] = false }

func (p *sieveRef) Evict(Ref) PageID {
	o := p.hand
	if o < 0 {
		o = 0
	}
	for p.visited[p.q[o]] {
		p.visited[p.q[o]] = false
		if o++; o == len(p.q) {
			o = 0
		}
	}
	v := p.q[o]
	p.removeAt(o)
	p.hand = o
	if p.hand == len(p.q) {
		p.hand = -1
	}
	return v
}

func (p *sieveRef) removeAt(j int) {
	p.q = slices.Delete(p.q, j, j+1)
	if p.hand > j {
		p.hand--
	}
	if p.hand >= len(p.q) {
		p.hand = -1
	}
}

func (p *sieveRef) Remove(id PageID) {
	p.removeAt(slices.Index(p.q, id))
	delete(p.visited, id)
}

// TestRemoveMatchesTheReferences holds fifo, lru, clock and sieve, and the
// block-skipping wsclock, to references written frame by frame (slices, or
// the literal wsclock sweep) through the same accesses, removals and budget
// changes: the same outcome at every access, the same pages resident after
// every change.
func TestRemoveMatchesTheReferences(t *testing.T) {
	type pair struct {
		name      string
		fast, ref func() Policy
	}
	pairs := []pair{
		{"fifo", func() Policy { return &fifo{} }, func() Policy { return &fifoRef{} }},
		{"lru", func() Policy { return &lru{} }, func() Policy { return &lruRef{} }},
		{"clock", func() Policy { return &clock{} }, func() Policy { return &clockRef{} }},
		{"sieve", func() Policy { return &sieve{} }, func() Policy { return &sieveRef{} }},
	}
	for _, tau := range []uint64{0, 3, 50} {
		pairs = append(pairs, pair{fmt.Sprintf("wsclock tau=%d", tau), func() Policy { return &wsclock{opt: tau} }, func() Policy { return &wsclockNaive{opt: tau} }})
	}
	for seed := range seeds(5) {
		tr := randomTrace(seed, 3000, 150, 0.3)
		for _, pr := range pairs {
			t.Run(fmt.Sprintf("seed=%d/%s", seed, pr.name), func(t *testing.T) {
				fast, err := New(pr.fast(), 70, nil)
				require.NoError(t, err)
				ref, err := New(pr.ref(), 70, nil)
				require.NoError(t, err)
				rng := rand.New(rand.NewPCG(seed, 12))
				for i := range tr.Len() {
					switch k := rng.IntN(40); {
					case k < 3 && fast.Used() > 0:
						res := residentPages(fast)
						x := res[rng.IntN(len(res))]
						require.NoError(t, fast.Remove(x, true))
						require.NoError(t, ref.Remove(x, true))
					case k < 4:
						n := 1 + rng.IntN(100)
						evf, err := fast.SetFrames(n, uint64(i))
						require.NoError(t, err)
						evr, err := ref.SetFrames(n, uint64(i))
						require.NoError(t, err)
						require.Equal(t, evr, evf, "budget %d before access %d: the victims", n, i)
						require.Equal(t, residentPages(ref), residentPages(fast), "budget %d before access %d", n, i)
					}
					of, err := fast.Access(tr.Ref(i))
					require.NoError(t, err)
					or, err := ref.Access(tr.Ref(i))
					require.NoError(t, err)
					require.Equal(t, or, of, "access %d", i)
				}
				assert.Equal(t, ref.Stats(), fast.Stats())
			})
		}
	}
}

// plain is a policy that does not implement Remover.
type plain struct{ Policy }

func TestRemoveErrors(t *testing.T) {
	p, err := New(plain{&fifo{}}, 2, nil)
	require.NoError(t, err)
	_, err = p.Access(Ref{Page: 0})
	require.NoError(t, err)
	assert.ErrorIs(t, p.Remove(0, true), ErrNotRemover)
	_, err = p.SetFrames(1, 1)
	assert.ErrorIs(t, err, ErrNotRemover)

	p, err = New(&lru{}, 2, nil)
	require.NoError(t, err)
	_, err = p.Access(Ref{Page: 0})
	require.NoError(t, err)
	assert.ErrorIs(t, p.Remove(1, true), ErrNotResident, "never loaded")
	assert.ErrorIs(t, p.Remove(5000, true), ErrNotResident, "past every page")
	_, err = p.SetFrames(0, 1)
	assert.ErrorIs(t, err, ErrFrames)
	_, err = p.SetFrames(MaxFrames+1, 1)
	assert.ErrorIs(t, err, ErrFrames)
	require.NoError(t, p.Remove(0, true))
	assert.ErrorIs(t, p.Remove(0, true), ErrNotResident, "removed already")
}

// recordingBackend records what the pager asks of it, and fails evictions
// while fail is set.
type recordingBackend struct {
	calls []string
	fail  bool
}

var errRefused = errors.New("refused")

func (b *recordingBackend) Evict(v PageID, dirty bool) error {
	b.calls = append(b.calls, fmt.Sprintf("evict %d dirty=%v", v, dirty))
	if b.fail {
		return errRefused
	}
	return nil
}

func (b *recordingBackend) Load(p PageID, write bool) error {
	b.calls = append(b.calls, fmt.Sprintf("load %d write=%v", p, write))
	return nil
}

func (b *recordingBackend) Upgrade(p PageID) error {
	b.calls = append(b.calls, fmt.Sprintf("upgrade %d", p))
	return nil
}

// TestRemoveAndShrinkThroughTheBackend: in real mode a release saves a
// dirty page only if asked (an exiting process's pages are dropped), a
// shrink writes its dirty victims back, and a refused eviction leaves the
// page resident with its state, the budget as it was.
func TestRemoveAndShrinkThroughTheBackend(t *testing.T) {
	be := &recordingBackend{}
	p, err := New(&fifo{}, 4, be)
	require.NoError(t, err)
	for i, r := range []Ref{{Page: 0, Write: true}, {Page: 1}, {Page: 2, Write: true}, {Page: 3, Write: true}} {
		r.Time = uint64(i)
		_, err := p.Access(r)
		require.NoError(t, err)
	}
	be.calls = nil
	require.NoError(t, p.Remove(0, true))
	require.NoError(t, p.Remove(2, false))
	ev, err := p.SetFrames(1, 4) // fifo evicts 1 (clean); 3 stays
	require.NoError(t, err)
	assert.Equal(t, []Eviction{{Page: 1}}, ev)
	assert.Equal(t, []string{"evict 0 dirty=true", "evict 2 dirty=false", "evict 1 dirty=false"}, be.calls)
	assert.Equal(t, Stats{Accesses: 4, Reads: 1, Writes: 3, Faults: 4, Evictions: 1}, p.Stats(), "releases are not evictions")
	assert.Equal(t, []PageID{3}, residentPages(p))

	be.fail = true
	_, err = p.SetFrames(2, 5)
	require.NoError(t, err)
	_, err = p.Access(Ref{Page: 4, Time: 5})
	require.NoError(t, err)
	assert.ErrorIs(t, p.Remove(3, true), errRefused)
	assert.True(t, p.Resident(3) && p.Dirty(3), "a refused release leaves the page")
	_, err = p.SetFrames(1, 6)
	assert.ErrorIs(t, err, errRefused)
	assert.Equal(t, 2, p.Frames(), "the budget stays")
	assert.Equal(t, 2, p.Used())
	be.fail = false
	ev, err = p.SetFrames(1, 6)
	require.NoError(t, err)
	assert.Equal(t, []Eviction{{Page: 4}}, ev)
	assert.Equal(t, []PageID{3}, residentPages(p), "fifo took 3 back as just loaded, so 4 went first")
}
