package pagertest

import "vmsim/pager"

// Remove implements pager.Remover: it records the release (Ref.Page is the
// page) and passes it on. The wrapped policy must implement pager.Remover.
func (r *Recorder) Remove(id pager.PageID) {
	r.Events = append(r.Events, Event{Op: Remove, Ref: pager.Ref{Page: id}})
	r.Policy.(pager.Remover).Remove(id)
}

// Resize implements pager.Resizer: it passes the budget on to the wrapped
// policy if it implements pager.Resizer. It is not recorded: what a budget
// change does shows in the evictions that come with it.
func (r *Recorder) Resize(frames int) {
	if rs, ok := r.Policy.(pager.Resizer); ok {
		rs.Resize(frames)
	}
}
