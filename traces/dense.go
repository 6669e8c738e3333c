package traces

import (
	"math/bits"

	"vmsim/vm/arch"
)

// Dense numbers page numbers densely: 0, 1, 2... in order of first
// appearance, so that per-page state can live in slices indexed by id. It is
// the per-access lookup of every replay and analysis of a trace whose format
// does not carry the numbering (all but vmt), so it is built for the cache:
//
//   - Small page numbers (below about 8 per id given, the memory the hash
//     table would take) are looked up in a direct array of 4-byte entries
//     indexed by the page number: generated traces and the page numbers of
//     one process are mostly small, and hot pages that are close in number
//     share cache lines.
//   - Other page numbers go to an open-addressing hash table with linear
//     probing and Fibonacci hashing, key and value side by side so that a
//     lookup touches one cache line (a Go map costs about twice as much).
//
// The zero value is not usable: call NewDense.
type Dense struct {
	// direct[page] is page's id + 1 for pages below len(direct), or 0.
	direct []uint32
	slots  []idSlot
	shift  uint // 64 - log2(len(slots))
	n      int  // ids given
	hashed int  // keys in slots
}

// idSlot holds a key and its id + 1 (0 marks an empty slot).
type idSlot struct {
	key arch.PageNum
	val uint32
}

const (
	// directPerID bounds the direct array: at most this many entries per
	// id given (beyond minDirect), 32 bytes an id, what the hash table
	// takes at its largest load.
	directPerID = 8
	// minDirect is the size the direct array may take whatever the count
	// of ids: 256 KiB.
	minDirect = 1 << 16
	// maxDirect caps it: 4 GiB of entries would be too many to allocate
	// on a guess.
	maxDirect = 1 << 30
)

// NewDense returns an empty numbering.
func NewDense() *Dense {
	m := &Dense{}
	m.rehash(1 << 10)
	return m
}

// Len returns the number of ids given out.
func (m *Dense) Len() int { return m.n }

// rehash moves the hash table's keys into a table of size slots, and those
// that the direct array now covers into it.
func (m *Dense) rehash(size int) {
	old := m.slots
	m.slots = make([]idSlot, size)
	m.shift = 64 - uint(log2(size))
	m.hashed = 0
	for _, s := range old {
		switch {
		case s.val == 0:
		case uint64(s.key) < uint64(len(m.direct)):
			m.direct[s.key] = s.val
		default:
			m.slots[m.find(s.key)] = s
			m.hashed++
		}
	}
}

func log2(n int) int {
	l := 0
	for 1<<l < n {
		l++
	}
	return l
}

// find returns the slot of key, or the empty slot where it belongs.
func (m *Dense) find(key arch.PageNum) int {
	mask := len(m.slots) - 1
	i := int((uint64(key) * 0x9e3779b97f4a7c15) >> m.shift)
	for {
		s := &m.slots[i]
		if s.val == 0 || s.key == key {
			return i
		}
		i = (i + 1) & mask
	}
}

// ID returns page's id, giving it the next one (Len before the call) if
// it is new; added reports that.
// The common case, a page of the direct array seen before, is small enough
// to be inlined into the caller's loop.
func (m *Dense) ID(page arch.PageNum) (id uint32, added bool) {
	if d := m.direct; uint64(page) < uint64(len(d)) && d[page] != 0 {
		return d[page] - 1, false
	}
	return m.idSlow(page)
}

// idSlow is ID for a page not in the direct array: a new one of it, one
// the array can grow to if the ids given allow, else one of the hash
// table.
func (m *Dense) idSlow(page arch.PageNum) (uint32, bool) {
	if uint64(page) < uint64(len(m.direct)) {
		return m.addDirect(page), true
	}
	if limit := m.directLimit(); uint64(page) < limit && nextPow2(uint64(page)+1) <= limit {
		m.growDirect(nextPow2(uint64(page) + 1))
		if v := m.direct[page]; v != 0 {
			return v - 1, false // it was in the hash table
		}
		return m.addDirect(page), true
	}
	i := m.find(page)
	if s := &m.slots[i]; s.val != 0 {
		return s.val - 1, false
	}
	id := uint32(m.n)
	m.slots[i] = idSlot{key: page, val: id + 1}
	m.n++
	m.hashed++
	if 2*m.hashed > len(m.slots) {
		m.rehash(2 * len(m.slots))
	}
	return id, true
}

func (m *Dense) addDirect(page arch.PageNum) uint32 {
	id := uint32(m.n)
	m.direct[page] = id + 1
	m.n++
	return id
}

// directLimit returns the size the direct array may grow to now.
func (m *Dense) directLimit() uint64 {
	return min(uint64(max(directPerID*(m.n+1), minDirect)), maxDirect)
}

// nextPow2 returns the smallest power of two at least n, for 0 < n <= 2^63.
func nextPow2(n uint64) uint64 { return 1 << bits.Len64(n-1) }

// growDirect grows the direct array to size entries, a power of two (so
// that it grows a few times only), and moves the keys it now covers out of
// the hash table.
func (m *Dense) growDirect(size uint64) {
	d := make([]uint32, max(size, 1024))
	copy(d, m.direct)
	m.direct = d
	if m.hashed > 0 {
		m.rehash(len(m.slots))
	}
}

// IDs sets ids[i] to the id of as[i].Page for each access of as, as ID
// would one after the other (new pages get the next ids, in order). ids
// must be at least as long as as. It is ID for a batch, with the common
// case (a page of the direct array seen before) in its loop rather than
// behind a call.
func (m *Dense) IDs(as []Access, ids []uint32) {
	ids = ids[:len(as)]
	for i, a := range as {
		if d := m.direct; uint64(a.Page) < uint64(len(d)) && d[a.Page] != 0 {
			ids[i] = d[a.Page] - 1
			continue
		}
		ids[i], _ = m.idSlow(a.Page)
	}
}
