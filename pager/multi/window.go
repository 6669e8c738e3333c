package multi

import "vmsim/pager"

// window measures one process's working set W(t, τ) over its own accesses:
// the distinct pages of its last τ accesses, (t−τ, t], as
// traces.WorkingSet does (a test holds them equal), by dense page id and
// with a look ahead: the working-set control must know whether an access
// would make the working set grow before it runs. O(1) per access, a ring
// of τ ids.
type window struct {
	tau  int64
	last []int64 // time of each page's last access, -1 if none
	ring []pager.PageID
	t    int64
	size int
}

// newWindow returns the meter of a process of pages distinct pages, with a
// window of tau accesses (at most the process's own length: a longer window
// would measure the same).
func newWindow(tau, pages, length int) *window {
	tau = max(1, min(tau, length))
	w := &window{tau: int64(tau), last: make([]int64, pages), ring: make([]pager.PageID, tau)}
	for i := range w.last {
		w.last[i] = -1
	}
	return w
}

// peek returns W(t, τ) as it would be after an access to page id.
func (w *window) peek(id pager.PageID) int {
	size := w.size
	if w.t >= w.tau {
		if q := w.ring[w.t%w.tau]; w.last[q] == w.t-w.tau {
			size-- // the access at t−τ leaves the window
		}
	}
	if l := w.last[id]; l < 0 || l <= w.t-w.tau {
		size++
	}
	return size
}

// access records an access to page id and returns W(t, τ) after it.
func (w *window) access(id pager.PageID) int {
	w.size = w.peek(id)
	w.last[id] = w.t
	w.ring[w.t%w.tau] = id
	w.t++
	return w.size
}
