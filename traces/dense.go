package traces

import "vmsim/vm/arch"

// Dense numbers page numbers densely: 0, 1, 2... in order of first
// appearance, so that per-page state can live in slices indexed by id. It is
// an open-addressing hash table with linear probing and Fibonacci hashing,
// key and value side by side so that a lookup touches one cache line: the
// per-access hash of replays and analyses (a Go map costs about twice as
// much here). The zero value is not usable: call NewDense.
type Dense struct {
	slots []idSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

// idSlot holds a key and its id + 1 (0 marks an empty slot).
type idSlot struct {
	key arch.PageNum
	val uint32
}

// NewDense returns an empty numbering.
func NewDense() *Dense {
	m := &Dense{}
	m.resize(1 << 10)
	return m
}

// Len returns the number of ids given out.
func (m *Dense) Len() int { return m.n }

func (m *Dense) resize(size int) {
	old := m.slots
	m.slots = make([]idSlot, size)
	m.shift = 64 - uint(log2(size))
	for _, s := range old {
		if s.val != 0 {
			m.slots[m.find(s.key)] = s
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
func (m *Dense) ID(page arch.PageNum) (id uint32, added bool) {
	i := m.find(page)
	if s := &m.slots[i]; s.val != 0 {
		return s.val - 1, false
	}
	id = uint32(m.n)
	m.slots[i] = idSlot{key: page, val: id + 1}
	m.n++
	if 2*m.n > len(m.slots) {
		m.resize(2 * len(m.slots))
	}
	return id, true
}
