// Package pagertest helps tests hold the modes of the pager to one another:
// a [Recorder] wraps a policy and keeps every call the engine made to it,
// so that two runs can be compared access by access (the victims chosen,
// the order of hits and loads), not only by their final counts.
package pagertest

import (
	"fmt"

	"vmsim/pager"
)

// Op is what the engine told or asked the policy.
type Op uint8

// Ops, one per method of [pager.Policy] that an access calls.
const (
	Hit Op = iota + 1
	Insert
	Evict
	// Remove is a page released without being a victim (pager.Remover).
	Remove
)

func (o Op) String() string {
	switch o {
	case Hit:
		return "hit"
	case Insert:
		return "insert"
	case Evict:
		return "evict"
	case Remove:
		return "remove"
	}
	return fmt.Sprintf("Op(%d)", uint8(o))
}

// Event is one call: for Hit and Insert the access, for Evict the access
// that needed a frame and the victim returned.
type Event struct {
	Op     Op
	Ref    pager.Ref
	Victim pager.PageID
}

func (e Event) String() string {
	if e.Op == Evict {
		return fmt.Sprintf("t%d %v page %d -> victim %d", e.Ref.Time, e.Op, e.Ref.Page, e.Victim)
	}
	return fmt.Sprintf("t%d %v page %d", e.Ref.Time, e.Op, e.Ref.Page)
}

// Recorder is a policy that passes every call to another one and records
// it. Reset clears the record.
type Recorder struct {
	pager.Policy
	Events []Event
}

// Record wraps p.
func Record(p pager.Policy) *Recorder { return &Recorder{Policy: p} }

// Reset implements pager.Policy.
func (r *Recorder) Reset(frames int, pages pager.PageState) {
	r.Events = r.Events[:0]
	r.Policy.Reset(frames, pages)
}

// Hit implements pager.Policy.
func (r *Recorder) Hit(ref pager.Ref) {
	r.Events = append(r.Events, Event{Op: Hit, Ref: ref})
	r.Policy.Hit(ref)
}

// Insert implements pager.Policy.
func (r *Recorder) Insert(ref pager.Ref) {
	r.Events = append(r.Events, Event{Op: Insert, Ref: ref})
	r.Policy.Insert(ref)
}

// Evict implements pager.Policy.
func (r *Recorder) Evict(ref pager.Ref) pager.PageID {
	v := r.Policy.Evict(ref)
	r.Events = append(r.Events, Event{Op: Evict, Ref: ref, Victim: v})
	return v
}

// Victims returns the victims in the order they were chosen.
func (r *Recorder) Victims() []pager.PageID {
	var vs []pager.PageID
	for _, e := range r.Events {
		if e.Op == Evict {
			vs = append(vs, e.Victim)
		}
	}
	return vs
}
