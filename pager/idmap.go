package pager

// idMap maps page numbers to dense ids: an open-addressing hash table with
// linear probing and Fibonacci hashing, key and value side by side so that
// a lookup touches one cache line. It is the engine's per-access hash: a Go
// map costs about twice as much here.
type idMap struct {
	slots []idSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

// idSlot holds a key and its id + 1 (0 marks an empty slot).
type idSlot struct {
	key uint64
	val uint32
}

func newIDMap() *idMap {
	m := &idMap{}
	m.resize(1 << 10)
	return m
}

func (m *idMap) resize(size int) {
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
func (m *idMap) find(key uint64) int {
	mask := len(m.slots) - 1
	i := int((key * 0x9e3779b97f4a7c15) >> m.shift)
	for {
		s := &m.slots[i]
		if s.val == 0 || s.key == key {
			return i
		}
		i = (i + 1) & mask
	}
}

// id returns key's id, assigning next if the key is new (then added is
// true).
func (m *idMap) id(key uint64, next PageID) (id PageID, added bool) {
	i := m.find(key)
	if s := &m.slots[i]; s.val != 0 {
		return PageID(s.val - 1), false
	}
	m.slots[i] = idSlot{key: key, val: uint32(next) + 1}
	m.n++
	if 2*m.n > len(m.slots) {
		m.resize(2 * len(m.slots))
	}
	return next, true
}
