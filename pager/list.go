package pager

// nilPage marks the end of a list.
const nilPage = ^PageID(0)

// links holds the prev and next pointers of intrusive doubly linked lists
// over page ids. A page is in at most one of the lists that share a links at
// a time. Lists run from head (front, newest) to tail (back, oldest): next
// points toward the tail, prev toward the head.
type links struct {
	n []node // by page id
}

// node holds one page's pointers together: one cache line per visit.
type node struct{ prev, next PageID }

// size returns the number of page ids links has room for.
func (l *links) size() int { return len(l.n) }

// grow makes room for page id.
func (l *links) grow(id PageID) {
	if int(id) < len(l.n) {
		return
	}
	l.n = growTo(l.n, max(int(id)+1, 2*len(l.n), 64), node{nilPage, nilPage})
}

// next returns the page after id (toward the tail), prev the one before.
func (l *links) next(id PageID) PageID { return l.n[id].next }
func (l *links) prev(id PageID) PageID { return l.n[id].prev }

// growTo returns s extended to n elements, new ones set to fill.
func growTo[T any](s []T, n int, fill T) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		for i := old; i < n; i++ {
			s[i] = fill
		}
		return s
	}
	t := make([]T, n, n+n/4)
	copy(t, s)
	for i := len(s); i < n; i++ {
		t[i] = fill
	}
	return t
}

// list is one list: its ends and length.
type list struct {
	head, tail PageID
	n          int
}

func newList() list { return list{head: nilPage, tail: nilPage} }

func (l *links) pushFront(q *list, id PageID) {
	l.n[id] = node{prev: nilPage, next: q.head}
	if q.head != nilPage {
		l.n[q.head].prev = id
	} else {
		q.tail = id
	}
	q.head = id
	q.n++
}

func (l *links) pushBack(q *list, id PageID) {
	l.n[id] = node{prev: q.tail, next: nilPage}
	if q.tail != nilPage {
		l.n[q.tail].next = id
	} else {
		q.head = id
	}
	q.tail = id
	q.n++
}

func (l *links) remove(q *list, id PageID) {
	nd := l.n[id]
	if nd.prev != nilPage {
		l.n[nd.prev].next = nd.next
	} else {
		q.head = nd.next
	}
	if nd.next != nilPage {
		l.n[nd.next].prev = nd.prev
	} else {
		q.tail = nd.prev
	}
	l.n[id] = node{nilPage, nilPage}
	q.n--
}

func (l *links) moveToFront(q *list, id PageID) {
	if q.head == id {
		return
	}
	l.remove(q, id)
	l.pushFront(q, id)
}

// popBack removes and returns the tail; the list must not be empty.
func (l *links) popBack(q *list) PageID {
	id := q.tail
	l.remove(q, id)
	return id
}

// popFront removes and returns the head; the list must not be empty.
func (l *links) popFront(q *list) PageID {
	id := q.head
	l.remove(q, id)
	return id
}
