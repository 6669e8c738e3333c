package traces

import "vmsim/vm/arch"

// WorkingSet measures Denning's working-set size W(t, τ): the number of
// distinct pages referenced in the window of the last τ accesses, (t−τ, t].
// It keeps the window in a ring of τ page ids: O(1) per access, O(τ + d)
// memory for d distinct pages.
type WorkingSet struct {
	tau  int
	ids  *Dense
	last []int64  // time of each page's last access, by dense id
	ring []uint32 // dense ids of the window's accesses
	t    int64
	size int
}

// NewWorkingSet returns a working-set meter with window tau accesses
// (at least 1).
func NewWorkingSet(tau int) *WorkingSet {
	tau = max(tau, 1)
	return &WorkingSet{tau: tau, ids: NewDense(), ring: make([]uint32, tau)}
}

// Access records the next access (at time t = the number of accesses so far)
// and returns W(t, τ) including it.
func (w *WorkingSet) Access(page arch.PageNum) int {
	slot := int(w.t % int64(w.tau))
	if w.t >= int64(w.tau) {
		// The access at t−τ leaves the window.
		if q := w.ring[slot]; w.last[q] == w.t-int64(w.tau) {
			w.size--
		}
	}
	id, added := w.ids.ID(page)
	if added {
		w.last = append(w.last, -1)
	}
	if w.last[id] < 0 || w.last[id] <= w.t-int64(w.tau) {
		w.size++
	}
	w.last[id] = w.t
	w.ring[slot] = id
	w.t++
	return w.size
}
