package pager

import "context"

// NoPage marks a free slot of a [SlotLayout].
const NoPage = nilPage

// SlotLayout draws the frames as a textbook does: numbered slots, filled in
// order while some are free, where a page loaded by evicting another takes
// its victim's slot. A resident page never moves, so a column of slots
// shows what each access changed. The layout is a presentation of the
// outcomes the pager reported; it decides nothing.
type SlotLayout struct {
	slots  []PageID
	slotOf map[PageID]int
}

// NewSlotLayout returns a layout of n free slots.
func NewSlotLayout(n int) *SlotLayout {
	l := &SlotLayout{slots: make([]PageID, n), slotOf: make(map[PageID]int)}
	for i := range l.slots {
		l.slots[i] = NoPage
	}
	return l
}

// Place records the outcome o of an access to page and returns the slot
// that holds page after it, or -1 if no slot is free for a loaded page
// that evicted nothing (a layout of fewer slots than the pager's frames).
func (l *SlotLayout) Place(page PageID, o Outcome) int {
	if s, ok := l.slotOf[page]; ok {
		return s
	}
	s := -1
	if o.Evicted {
		if v, ok := l.slotOf[o.Victim]; ok {
			s = v
			delete(l.slotOf, o.Victim)
		}
	}
	if s < 0 {
		for i, p := range l.slots {
			if p == NoPage {
				s = i
				break
			}
		}
	}
	if s < 0 {
		return -1
	}
	l.slots[s] = page
	l.slotOf[page] = s
	return s
}

// Slots returns the page in each slot, NoPage for a free one, in a new
// slice.
func (l *SlotLayout) Slots() []PageID { return append([]PageID(nil), l.slots...) }

// Step is one access of a step table: what the pager did and its state
// after it.
type Step struct {
	// Index is the access's index in the trace, from 0.
	Index int
	// Page is the page accessed and Write whether the access writes.
	Page  PageID
	Write bool
	// Outcome is what the pager's step did.
	Outcome
	// Slot is the slot of Page after the access; Slots the page in each
	// slot (NoPage for a free one) and Dirty whether it is dirty, in the
	// fixed-slot layout of [SlotLayout].
	Slot  int
	Slots []PageID
	Dirty []bool
	// State is the policy's state after the access.
	State Inspection
	// Stats are the counters after the access: running totals.
	Stats Stats
}

// Steps replays t in simulation through [Simulate], the same step function
// as every replay, and calls fn with each access's step. The frames are
// laid out in min(cfg.Frames, t.Distinct()) slots: more frames than pages
// are never filled. Each step has slices of its own: fn may keep them.
func Steps(ctx context.Context, t *Trace, cfg Config, fn func(Step)) (Result, error) {
	layout := NewSlotLayout(min(cfg.Frames, max(t.Distinct(), 1)))
	return Simulate(ctx, t, cfg, func(i int, o Outcome, p *Pager) {
		id, write := t.At(i)
		st := Step{Index: i, Page: id, Write: write, Outcome: o, Stats: p.Stats()}
		st.Slot = layout.Place(id, o)
		st.Slots = layout.Slots()
		st.Dirty = make([]bool, len(st.Slots))
		for s, pg := range st.Slots {
			st.Dirty[s] = pg != NoPage && p.Dirty(pg)
		}
		st.State, _ = Inspect(p.Policy())
		fn(st)
	})
}

// NextVictim returns the page the next fault evicts, when every frame is
// in use and the policy's order says which (Inspection.VictimFirst).
func (s Step) NextVictim() (PageID, bool) {
	if !s.State.VictimFirst || len(s.State.Frames) == 0 || len(s.State.Frames) < len(s.Slots) {
		return NoPage, false
	}
	return s.State.Frames[0].Page, true
}
