package pager

import (
	"fmt"
	"slices"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// Trace is an access trace held in memory, in the engine's terms: dense page
// ids and write flags, with the next-use pass for OPT computed on demand.
type Trace struct {
	// Name names the trace in results (a path, or "-").
	Name string
	// Pages holds the dense id of each access's page.
	Pages []PageID
	// Writes reports whether each access writes.
	Writes []bool
	// IDs maps each dense id back to the trace's page number.
	IDs []arch.PageNum

	next []uint64
}

// Len returns the number of accesses.
func (t *Trace) Len() int { return len(t.Pages) }

// Distinct returns the number of distinct pages.
func (t *Trace) Distinct() int { return len(t.IDs) }

// Ref returns access i as a policy sees it (Next is filled only once
// [Trace.ComputeNext] has run).
func (t *Trace) Ref(i int) Ref {
	r := Ref{Page: t.Pages[i], Write: t.Writes[i], Time: uint64(i)}
	if t.next != nil {
		r.Next = t.next[i]
	}
	return r
}

// SetNext supplies next uses that came with the trace (a format that
// carries them), instead of the pass of ComputeNext.
func (t *Trace) SetNext(next []uint64) error {
	if len(next) != len(t.Pages) {
		return fmt.Errorf("next uses: %d for %d accesses", len(next), len(t.Pages))
	}
	t.next = next
	return nil
}

// ComputeNext fills each access's next use with one backward pass: O(n)
// time, 8 bytes per access and 8 per distinct page.
func (t *Trace) ComputeNext() {
	if t.next != nil {
		return
	}
	t.next = NextUses(t.Pages, len(t.IDs))
}

// NextUses returns, for each access of pages, the index of the next access
// to the same page, or [traces.NoNext]. distinct bounds the page ids (0 if unknown).
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
	t   Trace
	ids *traces.Dense
}

// NewBuilder returns a builder for a trace called name.
func NewBuilder(name string) *Builder {
	return &Builder{t: Trace{Name: name}, ids: traces.NewDense()}
}

// ID returns the dense id of page number page, assigning the next one if it
// is new.
func (b *Builder) ID(page arch.PageNum) PageID {
	id, added := b.ids.ID(page)
	if added {
		b.t.IDs = append(b.t.IDs, page)
	}
	return id
}

// Add appends one access.
func (b *Builder) Add(page arch.PageNum, write bool) {
	b.t.Pages = append(b.t.Pages, b.ID(page))
	b.t.Writes = append(b.t.Writes, write)
}

// addBatch appends accesses, numbering their pages in one batch
// ([traces.Dense.IDs]) rather than one by one.
func (b *Builder) addBatch(as []traces.Access) {
	n := len(b.t.Pages)
	b.t.Pages = slices.Grow(b.t.Pages, len(as))[:n+len(as)]
	b.ids.IDs(as, b.t.Pages[n:])
	for i, a := range as {
		if int(b.t.Pages[n+i]) == len(b.t.IDs) {
			b.t.IDs = append(b.t.IDs, a.Page) // a new page
		}
		b.t.Writes = append(b.t.Writes, a.Write)
	}
}

// addDense appends accesses whose pages are dense ids already (a
// traces.DenseReader's), with no hash table: pages gives the page number of
// each id so far.
func (b *Builder) addDense(as []traces.Access, pages []arch.PageNum) error {
	for _, a := range as {
		if a.Page >= arch.PageNum(len(b.t.IDs)) {
			if a.Page != arch.PageNum(len(b.t.IDs)) || int(a.Page) >= len(pages) || len(b.t.IDs) == maxPages {
				return fmt.Errorf("dense id %d after %d pages: %w", a.Page, len(b.t.IDs), errNotDense)
			}
			b.t.IDs = append(b.t.IDs, pages[a.Page])
		}
		b.t.Pages = append(b.t.Pages, PageID(a.Page))
		b.t.Writes = append(b.t.Writes, a.Write)
	}
	return nil
}

// Trace returns the trace built so far. The builder must not be used after.
func (b *Builder) Trace() *Trace { return &b.t }

// Config is one run: a policy and a frame budget.
type Config struct {
	Policy string
	Frames int
	Options
}

// Result is the outcome of one run.
type Result struct {
	Trace  string
	Policy string
	Frames int
	Stats
}

// Run replays t through a fresh pager in simulation. Each access's outcome
// is passed to step, if not nil.
func Run(t *Trace, cfg Config, step func(i int, o Outcome, p *Pager)) (Result, error) {
	pol, err := NewPolicy(cfg.Policy, cfg.Options)
	if err != nil {
		return Result{}, err
	}
	p, err := New(pol, cfg.Frames, nil)
	if err != nil {
		return Result{}, err
	}
	if nn, ok := pol.(NeedsNext); ok && nn.NeedsNext() {
		t.ComputeNext()
	}
	if step == nil {
		p.Run(&Chunk{Pages: t.Pages, Writes: t.Writes, Next: t.next, Distinct: t.Distinct()})
		return Result{Trace: t.Name, Policy: cfg.Policy, Frames: cfg.Frames, Stats: p.Stats()}, nil
	}
	for i := range t.Pages {
		o, err := p.Access(t.Ref(i))
		if err != nil {
			return Result{}, err
		}
		step(i, o, p)
	}
	return Result{Trace: t.Name, Policy: cfg.Policy, Frames: cfg.Frames, Stats: p.Stats()}, nil
}
