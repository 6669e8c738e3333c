package multi

import (
	"sort"

	"vmsim/pager"
)

// Memory is real memory for a run, one region per process (package
// pager/live implements it); a run without one is a simulation. The run's
// cores stay the only deciders: Memory only carries their decisions out and
// performs the accesses.
type Memory interface {
	// Backend returns the Backend of process proc's region, in the
	// process's own page ids (0, 1, 2... as its trace numbers them).
	Backend(proc int) pager.Backend
	// Touch performs one access of process proc, a real load or store of
	// its page, and calls step exactly once: from the fault handler with
	// faulted set when the access faults (step then makes the page
	// accessible, and the access is retried), after the access otherwise.
	// Touch returns step's error, or its own.
	Touch(proc int, page pager.PageID, write bool, step func(faulted bool) error) error
}

// globalIDs numbers the pages of every process in one space, for global
// scope: process k's page j is offsets[k] + j.
type globalIDs struct {
	offsets []pager.PageID // first id of each process, and the total last
}

func newGlobalIDs(sizes []int) globalIDs {
	g := globalIDs{offsets: make([]pager.PageID, len(sizes)+1)}
	for k, n := range sizes {
		g.offsets[k+1] = g.offsets[k] + pager.PageID(n)
	}
	return g
}

// owner returns the process of global id and its own id.
func (g globalIDs) owner(id pager.PageID) (int, pager.PageID) {
	k := sort.Search(len(g.offsets)-1, func(k int) bool { return g.offsets[k+1] > id })
	return k, id - g.offsets[k]
}

// router is the Backend of the global core in real mode: it carries each
// decision out on the region of the page's process.
type router struct {
	ids globalIDs
	mem Memory
}

func (r router) Evict(v pager.PageID, dirty bool) error {
	k, id := r.ids.owner(v)
	return r.mem.Backend(k).Evict(id, dirty)
}

func (r router) Load(p pager.PageID, write bool) error {
	k, id := r.ids.owner(p)
	return r.mem.Backend(k).Load(id, write)
}

func (r router) Upgrade(p pager.PageID) error {
	k, id := r.ids.owner(p)
	return r.mem.Backend(k).Upgrade(id)
}
