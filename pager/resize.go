package pager

import (
	"errors"
	"fmt"

	"vmsim/traces"
)

// shrinking is the page of the Ref with which [Pager.SetFrames] asks a
// policy for a victim when the budget shrinks: a frame is taken away and no
// page comes in. It is ^PageID(0), which no trace numbers.
const shrinking = nilPage

// Remover is implemented by the policies that can serve a pager whose pages
// may leave memory without being chosen ([Pager.Remove]: their process is
// suspended or ends) and whose budget may change ([Pager.SetFrames]): every
// policy of this package. Such a policy also accepts, in Evict, a Ref whose
// Page is ^PageID(0): a frame is taken away and no page comes in.
type Remover interface {
	// Remove forgets resident page id, which leaves memory without being a
	// victim; the other pages keep their places in the policy's order
	// (each policy's doc says what that means for it).
	Remove(id PageID)
}

// Resizer is implemented by the policies whose state depends on the frame
// budget beyond their pages (arc's target sizes, s3fifo's queue sizes, the
// frame rings of clock and wsclock). [Pager.SetFrames] calls Resize once
// the pages beyond a smaller budget have been evicted, or before pages are
// loaded into the frames of a larger one.
type Resizer interface {
	Resize(frames int)
}

// ErrNotRemover is matched by the error for [Pager.Remove] or
// [Pager.SetFrames] on a pager whose policy does not implement [Remover].
var ErrNotRemover = errors.New("the policy cannot release pages or change its budget")

// ErrNotResident is matched by the error for [Pager.Remove] of a page that
// is not in memory.
var ErrNotResident = errors.New("page not resident")

func (p *Pager) remover() (Remover, error) {
	rm, ok := p.policy.(Remover)
	if !ok {
		return nil, fmt.Errorf("%s: %w", p.policy.Name(), ErrNotRemover)
	}
	return rm, nil
}

// Remove takes resident page id out of memory without the policy choosing
// it: its owner gave it up. If save, a dirty page is written back first (the
// Backend's Evict with dirty set); otherwise its contents are dropped (an
// exiting process's pages). It is not an eviction and is not counted in
// [Stats]: the caller counts releases. On a Backend error the page stays
// resident, with its state, and the policy is not told.
func (p *Pager) Remove(id PageID, save bool) error {
	rm, err := p.remover()
	if err != nil {
		return err
	}
	if !p.Resident(id) {
		return fmt.Errorf("removing page %d: %w", id, ErrNotResident)
	}
	if p.backend != nil {
		if err := p.backend.Evict(id, save && p.Dirty(id)); err != nil {
			return fmt.Errorf("releasing page %d: %w", id, err)
		}
	}
	rm.Remove(id)
	p.state[id] = 0
	p.used--
	return nil
}

// Eviction is a page that a smaller budget evicted.
type Eviction struct {
	Page PageID
	// WroteBack reports whether the page was dirty and so was saved.
	WroteBack bool
}

// SetFrames changes the frame budget to n. If fewer than the resident
// pages, the policy's own victims are evicted, one by one (Evict with the
// Ref of no page, see [Remover]), until n remain,
// with the rules of every eviction (a dirty victim is written back), and
// counted in Evictions and Writebacks; SetFrames returns them in order. now
// is the virtual time the policy is told (the time of the next access). A
// larger budget evicts nothing: later faults fill the new frames.
//
// On a Backend error the pages evicted so far (returned) stay out, the
// budget stays as it was, and SetFrames can be called again.
func (p *Pager) SetFrames(n int, now uint64) ([]Eviction, error) {
	if n < 1 || n > MaxFrames {
		return nil, fmt.Errorf("%d frames: %w", n, ErrFrames)
	}
	if _, err := p.remover(); err != nil {
		return nil, err
	}
	var out []Eviction
	for p.used > n {
		v := p.policy.Evict(Ref{Page: shrinking, Time: now, Next: traces.NoNext})
		vd := p.state[v]&dirty != 0
		if p.backend != nil {
			if err := p.evict(v, vd, now); err != nil {
				return out, err
			}
		}
		p.evicted(p.state, v, vd, &p.stats)
		p.used--
		out = append(out, Eviction{Page: v, WroteBack: vd})
	}
	p.frames = n
	if rs, ok := p.policy.(Resizer); ok {
		rs.Resize(n)
	}
	return out, nil
}
