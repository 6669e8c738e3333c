package vm

// pageStates holds each page's state in chunks of chunkPages, allocated on
// a chunk's first change: a region that reserves address space for many
// pages (real mode reserves 2^26 when it streams a trace of unknown size)
// costs memory for the pages it changed, not for the ones it could hold.
type pageStates struct {
	n      int
	def    pageState                // the state of a page never changed
	chunks []*[chunkPages]pageState // nil until a page in it is changed
}

const chunkPages = 1 << 12

func newPageStates(n int, def pageState) pageStates {
	return pageStates{n: n, def: def, chunks: make([]*[chunkPages]pageState, (n+chunkPages-1)/chunkPages)}
}

// get returns page i's state.
func (s *pageStates) get(i int) pageState {
	c := s.chunks[i/chunkPages]
	if c == nil {
		return s.def
	}
	return c[i%chunkPages]
}

// set makes page i's state v.
func (s *pageStates) set(i int, v pageState) {
	c := s.chunks[i/chunkPages]
	if c == nil {
		if v == s.def {
			return
		}
		c = new([chunkPages]pageState)
		for j := range c {
			c[j] = s.def
		}
		s.chunks[i/chunkPages] = c
	}
	c[i%chunkPages] = v
}

// runs returns the number of runs of equal state among pages [lo, hi).
func (s *pageStates) runs(lo, hi int) int {
	if lo >= hi {
		return 0
	}
	n, prev := 1, s.get(lo)
	for i := lo + 1; i < hi; i++ {
		if v := s.get(i); v != prev {
			n, prev = n+1, v
		}
	}
	return n
}
