package live

import (
	"fmt"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// sink keeps replayed loads from being optimised away.
var sink byte

// ReadAt copies len(buf) bytes at offset off of page p into buf, faulting
// the page in if needed. The bytes must lie within the page.
func (lp *Pager) ReadAt(p arch.PageNum, off int, buf []byte) error {
	return lp.access(p, off, len(buf), false, func(mem []byte) { copy(buf, mem) })
}

// WriteAt copies data to offset off of page p, faulting the page in (and
// dirty) if needed. The bytes must lie within the page.
func (lp *Pager) WriteAt(p arch.PageNum, off int, data []byte) error {
	return lp.access(p, off, len(data), true, func(mem []byte) { copy(mem, data) })
}

// access runs op on bytes [off, off+n) of page p under the fault guard, then
// reports the access as a hit if it did not fault. A copy within one page
// that faults part-way is simply redone: it is idempotent.
func (lp *Pager) access(p arch.PageNum, off, n int, write bool, op func(mem []byte)) error {
	ps := int(lp.region.PageSize())
	if p >= arch.PageNum(lp.region.Pages()) || off < 0 || n < 0 || off > ps-n {
		return fmt.Errorf("access of %d bytes at offset %d of page %d: outside the page or the %d-page region", n, off, p, lp.region.Pages())
	}
	mem := lp.region.Bytes()[int(p)*ps+off : int(p)*ps+off+n]
	kind := arch.AccessRead
	if write {
		kind = arch.AccessWrite
	}
	faulted := false
	if err := lp.reg.Loop(func() { op(mem) }, func() arch.AccessKind { faulted = true; return kind }); err != nil {
		return err
	}
	if faulted {
		return nil // the handler told the core
	}
	lp.mu.Lock()
	defer lp.mu.Unlock()
	id := pager.PageID(p)
	if !lp.core.Resident(id) || (write && !lp.core.Dirty(id)) {
		// Evicted (or cleaned) by another goroutine after the access
		// completed: it was a hit when it happened. Count it, without
		// telling the policy of a page that is gone.
		lp.core.CountHit(write)
		return nil
	}
	_, err := lp.core.Access(pager.Ref{Page: id, Write: write, Time: lp.tick(), Next: traces.NoNext})
	return err
}

// Replay runs trace t on the region: access i is a real load (or store) of
// the first byte of page t.Pages[i]. Faults go to the handler with the
// access's own Ref (time and next use included), accesses that do not fault
// are reported to the core as hits, so the core sees exactly the sequence
// that simulation sees. The region must have at least t.Distinct() pages.
// Replay must be the only user of the Pager while it runs.
func (lp *Pager) Replay(t *pager.Trace) (Stats, error) {
	if t.Distinct() > lp.region.Pages() {
		return Stats{}, fmt.Errorf("trace has %d distinct pages, the region %d", t.Distinct(), lp.region.Pages())
	}
	if nn, ok := lp.core.Policy().(pager.NeedsNext); ok && nn.NeedsNext() {
		t.ComputeNext()
	}
	view := lp.region.Bytes()
	pages, writes := t.Pages, t.Writes
	shift := lp.shift
	n := len(pages)
	i := 0
	faultedAt := -1
	var ref pager.Ref
	var err error
	// The trace's times continue the Pager's virtual time, so that a
	// replay after other accesses (or another replay) never goes back.
	lp.mu.Lock()
	base := lp.clock
	lp.clock += uint64(n)
	lp.mu.Unlock()
	refAt := func(i int) pager.Ref {
		r := t.Ref(i)
		r.Time += base
		if r.Next != traces.NoNext {
			r.Next += base
		}
		return r
	}
	body := func() {
		var s byte
		for ; i < n; i++ {
			off := uint64(pages[i]) << shift
			if writes[i] {
				view[off] = byte(i)
			} else {
				s += view[off]
			}
			if faultedAt == i {
				continue
			}
			lp.mu.Lock()
			err = lp.touchLocked(refAt(i))
			lp.mu.Unlock()
			if err != nil {
				return
			}
		}
		sink = s
	}
	kindAt := func() arch.AccessKind {
		if faultedAt == i {
			err = fmt.Errorf("access %d to page %d faulted twice: %w", i, pages[i], ErrInconsistent)
		}
		faultedAt = i
		ref = refAt(i)
		lp.replay = &ref
		if writes[i] {
			return arch.AccessWrite
		}
		return arch.AccessRead
	}
	// The loop ends early when body sets err; a second fault at one access
	// is reported after its handler ran.
	for i < n && err == nil {
		if lerr := lp.reg.Loop(body, kindAt); lerr != nil {
			lp.replay = nil
			return lp.Stats(), fmt.Errorf("replay access %d: %w", i, lerr)
		}
	}
	if err != nil {
		return lp.Stats(), err
	}
	return lp.Stats(), nil
}
