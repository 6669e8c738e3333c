package live

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"

	"vmsim/faults"
	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

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
	if err := lp.reg.Loop(func() { op(mem) }, func(f *faults.Fault) { faulted, f.Access = true, kind }); err != nil {
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
		// completed: it was a hit when it happened.
		lp.lateHitLocked(write)
		return nil
	}
	lp.others++
	_, err := lp.core.Access(pager.Ref{Page: id, Write: write, Time: lp.tick(), Next: traces.NoNext})
	return err
}

// replayFault is the cookie of a fault of Replay: the access that faulted,
// for the handler.
type replayFault struct {
	ref pager.Ref
	// index is the access's position in the replay, from 0.
	index uint64
	// resolved reports that the handler told the core of the access;
	// others is the Pager's count of others' accesses then.
	resolved bool
	others   uint64
}

// Replay runs the accesses of src on the region: access i is a real load
// (or store) of the first byte of its page. Faults reach the handler with
// the access's own Ref (time and next use included), and accesses that do
// not fault are reported to the core as hits, so the core sees exactly the
// sequence that simulation sees. Every page id must be below [Pager.Pages];
// a policy that needs next uses needs a source that gives them.
//
// Replay stops at the first inconsistency between real memory and the core
// (an access that faults twice, or one that does not fault on a page the
// core does not hold), with an error matching [ErrInconsistent] that names
// the access and its page, and when ctx is done (checked every batch), with
// ctx's error. The counts returned are those so far.
func (lp *Pager) Replay(ctx context.Context, src pager.Source) (Stats, error) {
	policy := lp.core.Policy().Name()
	needNext := pager.NeedsNext(policy)
	view := lp.region.Bytes()
	pages := lp.region.Pages()
	var done uint64 // accesses replayed before the batch
	var sum byte    // what the loads read: kept alive so they stay
	for {
		if err := ctx.Err(); err != nil {
			return lp.Stats(), err
		}
		b, err := src.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return lp.Stats(), err
		}
		if needNext && b.Next == nil {
			return lp.Stats(), fmt.Errorf("policy %s needs each access's next use, which the trace source does not give", policy)
		}
		for i, id := range b.Pages {
			if int(id) >= pages {
				return lp.Stats(), fmt.Errorf("replay access %d: page id %d outside the %d-page region", done+uint64(i), id, pages)
			}
		}
		s, err := lp.replayBatch(view, b, done)
		sum += s
		if err != nil {
			return lp.Stats(), err
		}
		done += uint64(b.Len())
	}
	runtime.KeepAlive(sum)
	return lp.Stats(), nil
}

// replayBatch replays one batch; done is the number of accesses before it.
func (lp *Pager) replayBatch(view []byte, b *pager.Batch, done uint64) (byte, error) {
	n := b.Len()
	// The batch's times continue the Pager's virtual time, so that a replay
	// after other accesses (or another replay) never goes back.
	lp.mu.Lock()
	base := lp.clock
	lp.clock += uint64(n)
	others := lp.others
	lp.mu.Unlock()
	refAt := func(i int) pager.Ref {
		r := b.Ref(i)
		r.Time = base + uint64(i)
		if r.Next != traces.NoNext && b.Next != nil {
			r.Next = base + (r.Next - b.Start)
		}
		return r
	}
	pages, writes, shift := b.Pages, b.Writes, lp.shift
	i := 0
	var sum byte
	var err error
	var rf *replayFault // of access i, once it faulted
	seen := others      // lp.others when the replay last heard of the core
	body := func() {
		for ; i < n; i++ {
			off := uint64(pages[i]) << shift
			if writes[i] {
				view[off] = byte(i)
			} else {
				sum += view[off]
			}
			if rf != nil && rf.index == done+uint64(i) {
				seen = rf.others
				continue // the handler told the core
			}
			lp.mu.Lock()
			err = lp.touchLocked(refAt(i), done+uint64(i), seen)
			seen = lp.others
			lp.mu.Unlock()
			if err != nil {
				return
			}
		}
	}
	at := func(f *faults.Fault) {
		if rf == nil || rf.index != done+uint64(i) {
			rf = &replayFault{ref: refAt(i), index: done + uint64(i)}
		}
		f.Access = arch.AccessRead
		if writes[i] {
			f.Access = arch.AccessWrite
		}
		f.Cookie = rf
	}
	for i < n && err == nil {
		if lerr := lp.reg.Loop(body, at); lerr != nil {
			return sum, fmt.Errorf("replay access %d: %w", done+uint64(i), lerr)
		}
	}
	return sum, err
}
