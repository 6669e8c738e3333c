package pager

import (
	"fmt"
	"slices"
	"sync"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// Trace is an access trace held in memory, in the engine's terms: dense page
// ids and write flags. It is immutable once built ([Builder], [Load]), so any
// number of goroutines may replay it at once; the next uses that OPT needs
// are computed once, on first need, unless the trace came with them.
type Trace struct {
	name   string
	pages  []PageID
	writes []bool
	ids    []arch.PageNum

	nextOnce sync.Once
	next     []uint64 // set by nextOnce, or at build time
}

// Name returns the trace's name in results (a path, or "-").
func (t *Trace) Name() string { return t.name }

// Len returns the number of accesses.
func (t *Trace) Len() int { return len(t.pages) }

// Distinct returns the number of distinct pages.
func (t *Trace) Distinct() int { return len(t.ids) }

// At returns access i: its page's dense id and whether it writes.
func (t *Trace) At(i int) (PageID, bool) { return t.pages[i], t.writes[i] }

// PageNum returns the trace's page number of dense id id.
func (t *Trace) PageNum(id PageID) arch.PageNum { return t.ids[id] }

// Ref returns access i as a policy sees it, its next use included.
func (t *Trace) Ref(i int) Ref {
	return Ref{Page: t.pages[i], Write: t.writes[i], Time: uint64(i), Next: t.NextUses()[i]}
}

// NextUses returns each access's next use: the index of the next access to
// the same page, or [traces.NoNext]. The first call computes them with one
// backward pass (O(n) time, 8 bytes per access and 8 per distinct page)
// unless the trace came with them; the slice is shared and must not be
// modified.
func (t *Trace) NextUses() []uint64 {
	t.nextOnce.Do(func() {
		if t.next == nil {
			t.next = NextUses(t.pages, len(t.ids))
		}
	})
	return t.next
}

// Batch returns accesses [from, to) as a batch, with their next uses if
// withNext (computing them if need be). The batch shares the trace's memory.
func (t *Trace) Batch(from, to int, withNext bool) *Batch {
	b := &Batch{Pages: t.pages[from:to], Writes: t.writes[from:to], Start: uint64(from), ids: len(t.ids)}
	if withNext {
		b.Next = t.NextUses()[from:to]
	}
	return b
}

// Source returns a source of t's accesses, batchSize at a time (0: 65,536),
// with next uses if withNext. Many sources of one trace may run at once.
func (t *Trace) Source(batchSize int, withNext bool) Source {
	if batchSize <= 0 {
		batchSize = defaultBatch
	}
	return &traceSource{t: t, size: batchSize, next: withNext}
}

// defaultBatch is the number of accesses a source gives at a time: large
// enough that the per-batch work (a context check, a channel send) is
// nothing, small enough to stay in cache.
const defaultBatch = 1 << 16

type traceSource struct {
	t    *Trace
	i    int
	size int
	next bool
}

func (s *traceSource) Distinct() int { return s.t.Distinct() }

func (s *traceSource) Next() (*Batch, error) {
	if s.i >= s.t.Len() {
		return nil, errEOF
	}
	to := min(s.i+s.size, s.t.Len())
	b := s.t.Batch(s.i, to, s.next)
	s.i = to
	return b, nil
}

// NextUses returns, for each access of pages, the index of the next access
// to the same page, or [traces.NoNext]. distinct bounds the page ids (0 if
// unknown).
func NextUses(pages []PageID, distinct int) []uint64 {
	next := make([]uint64, len(pages))
	seen := make([]uint64, distinct)
	for i := range seen {
		seen[i] = traces.NoNext
	}
	for i := len(pages) - 1; i >= 0; i-- {
		id := pages[i]
		if int(id) >= len(seen) {
			seen = growTo(seen, int(id)+1, traces.NoNext)
		}
		next[i] = seen[id]
		seen[id] = uint64(i)
	}
	return next
}

// Builder turns page numbers into a Trace, mapping each page number to a
// dense id the first time it appears.
type Builder struct {
	t   *Trace
	ids *traces.Dense
}

// NewBuilder returns a builder for a trace called name.
func NewBuilder(name string) *Builder {
	return &Builder{t: &Trace{name: name}, ids: traces.NewDense()}
}

// Grow makes room for n more accesses, so that a builder that knows the
// length of its trace allocates once: growing slices by appending holds the
// old and new arrays at once.
func (b *Builder) Grow(n int) {
	b.t.pages = growCap(b.t.pages, n)
	b.t.writes = growCap(b.t.writes, n)
}

func growCap[T any](s []T, n int) []T {
	if cap(s)-len(s) >= n {
		return s
	}
	out := make([]T, len(s), len(s)+n)
	copy(out, s)
	return out
}

// Len returns the number of accesses added so far.
func (b *Builder) Len() int { return len(b.t.pages) }

// Distinct returns the number of distinct pages added so far.
func (b *Builder) Distinct() int { return len(b.t.ids) }

// ID returns the dense id of page number page, assigning the next one if it
// is new.
func (b *Builder) ID(page arch.PageNum) PageID {
	id, added := b.ids.ID(page)
	if added {
		b.t.ids = append(b.t.ids, page)
	}
	return PageID(id)
}

// Add appends one access.
func (b *Builder) Add(page arch.PageNum, write bool) {
	b.t.pages = append(b.t.pages, b.ID(page))
	b.t.writes = append(b.t.writes, write)
}

// addBatch appends accesses, numbering their pages in one batch
// ([traces.Dense.IDs]) rather than one by one.
func (b *Builder) addBatch(as []traces.Access) {
	t := b.t
	n := len(t.pages)
	t.pages = slices.Grow(t.pages, len(as))[:n+len(as)]
	b.ids.IDs(as, uint32s(t.pages[n:]))
	for i, a := range as {
		if int(t.pages[n+i]) == len(t.ids) {
			t.ids = append(t.ids, a.Page) // a new page
		}
		t.writes = append(t.writes, a.Write)
	}
}

// addDense appends accesses whose pages are dense ids already (a
// [traces.DenseReader]'s), with no hash table: pages gives the page number
// of each id so far.
func (b *Builder) addDense(as []traces.Access, pages []arch.PageNum) error {
	t := b.t
	for _, a := range as {
		if a.Page >= arch.PageNum(len(t.ids)) {
			if a.Page != arch.PageNum(len(t.ids)) || int(a.Page) >= len(pages) || len(t.ids) == maxPages {
				return fmt.Errorf("dense id %d after %d pages: %w", a.Page, len(t.ids), errNotDense)
			}
			t.ids = append(t.ids, pages[a.Page])
		}
		t.pages = append(t.pages, PageID(a.Page))
		t.writes = append(t.writes, a.Write)
	}
	return nil
}

// SetNext supplies next uses that came with the trace (a format that
// carries them, [traces.NextReader]), one per access added, instead of the
// pass that [Trace.NextUses] would make.
func (b *Builder) SetNext(next []uint64) error {
	if len(next) != len(b.t.pages) {
		return fmt.Errorf("next uses: %d for %d accesses", len(next), len(b.t.pages))
	}
	b.t.next = next
	return nil
}

// Trace returns the trace built. The builder must not be used after.
func (b *Builder) Trace() *Trace {
	t := b.t
	b.t = nil
	return t
}
