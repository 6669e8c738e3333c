package pager

import (
	"cmp"
	"fmt"
	"slices"

	"vmsim/traces"
)

// opt is Belady's optimal policy (MIN): evict the resident page whose next
// use is farthest in the future. Among pages never used again (all equally
// far), the least recently used. It needs each access's next use
// ([Ref.Next]); the engine computes them in a pass before the run or takes
// them from the trace format. O(log frames) per access with an indexed heap.
//
// No policy faults less on the same trace and frames (the tests check it).
//
// Each heap entry holds its page's key (see optKey) beside the page, so
// that sifting compares entries that lie together in the heap instead of
// looking keys up in per-page arrays at random.
//
// Source: Belady, "A study of replacement algorithms for a virtual-storage
// computer", IBM Systems Journal 1966; Mattson et al. 1970 (OPT as a stack
// algorithm).
type opt struct {
	heap []optEntry // a max-heap on key
	pos  []int32    // index of each resident page in heap, by page
}

// optEntry is a resident page and its key.
type optEntry struct {
	key  uint64
	page PageID
}

// optKey orders pages as victims, the better the larger: by next use, and
// among pages never used again (next is Never), by least recent use. Next
// uses and times are indices into a trace, below 2^63: a next use of 2^63 or
// more is taken for Never.
func optKey(next, last uint64) uint64 {
	const top = 1 << 63
	if next < top {
		return next
	}
	return top | (top - 1 - last&(top-1))
}

func (p *opt) Name() string { return "opt" }

func (p *opt) Reset(int, PageState) {
	// The heap grows with the resident pages: a large frame count costs
	// nothing until pages fill it.
	*p = opt{}
}

// up moves the entry at i towards the root until its parent's key is at
// least its own.
func (p *opt) up(i int) {
	h := p.heap
	e := h[i]
	for i > 0 {
		parent := (i - 1) / 2
		if h[parent].key >= e.key {
			break
		}
		h[i] = h[parent]
		p.pos[h[i].page] = int32(i)
		i = parent
	}
	h[i] = e
	p.pos[e.page] = int32(i)
}

// down moves the entry at i towards the leaves until its key is at least
// its children's.
func (p *opt) down(i int) {
	h := p.heap
	n := len(h)
	e := h[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && h[r].key > h[c].key {
			c = r
		}
		if h[c].key <= e.key {
			break
		}
		h[i] = h[c]
		p.pos[h[i].page] = int32(i)
		i = c
	}
	h[i] = e
	p.pos[e.page] = int32(i)
}

func (p *opt) Hit(r Ref) {
	i := int(p.pos[r.Page])
	old := p.heap[i].key
	key := optKey(r.Next, r.Time)
	p.heap[i].key = key
	// The page's key changed: restore the heap order around it.
	if key > old {
		p.up(i)
	} else {
		p.down(i)
	}
}

func (p *opt) Insert(r Ref) {
	if int(r.Page) >= len(p.pos) {
		n := max(int(r.Page)+1, 2*len(p.pos), 64)
		p.pos = growTo(p.pos, n, -1)
	}
	p.heap = append(p.heap, optEntry{key: optKey(r.Next, r.Time), page: r.Page})
	p.up(len(p.heap) - 1)
}

func (p *opt) Evict(Ref) PageID {
	v := p.heap[0].page
	last := len(p.heap) - 1
	p.heap[0] = p.heap[last]
	p.heap = p.heap[:last]
	p.pos[v] = -1
	if last > 0 {
		p.down(0)
	}
	return v
}

// Remove takes page id out of the heap.
func (p *opt) Remove(id PageID) {
	i, last := int(p.pos[id]), len(p.heap)-1
	p.pos[id] = -1
	if i == last {
		p.heap = p.heap[:last]
		return
	}
	p.heap[i] = p.heap[last]
	p.heap = p.heap[:last]
	moved := p.heap[i].page
	p.pos[moved] = int32(i)
	p.up(i)
	p.down(int(p.pos[moved]))
}

// Inspect lists pages from the next victim (farthest next use) on; the note
// is the next use.
func (p *opt) Inspect() ([]Frame, string) {
	es := slices.Clone(p.heap)
	slices.SortFunc(es, func(a, b optEntry) int { return cmp.Compare(b.key, a.key) })
	out := make([]Frame, len(es))
	for i, e := range es {
		note, next := "next=never", uint64(traces.NoNext)
		if e.key < 1<<63 {
			note, next = fmt.Sprintf("next=%d", e.key), e.key
		}
		out[i] = Frame{Page: e.page, Note: note, Key: next, KeyName: "next"}
	}
	return out, ""
}
