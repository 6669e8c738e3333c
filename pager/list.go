package pager

// nilPage marks the end of a list.
const nilPage = ^PageID(0)

// links holds the prev and next pointers of intrusive doubly linked lists
// over page ids. A page is in at most one of the lists that share a links at
// a time. Lists run from head (front, newest) to tail (back, oldest): next
// points toward the tail, prev toward the head.
type links struct {
	prev, next []PageID
}

// grow makes room for page id.
func (l *links) grow(id PageID) {
	if int(id) < len(l.next) {
		return
	}
	n := max(int(id)+1, 2*len(l.next), 64)
	l.prev = growTo(l.prev, n, nilPage)
	l.next = growTo(l.next, n, nilPage)
}

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
	l.prev[id] = nilPage
	l.next[id] = q.head
	if q.head != nilPage {
		l.prev[q.head] = id
	} else {
		q.tail = id
	}
	q.head = id
	q.n++
}

func (l *links) pushBack(q *list, id PageID) {
	l.next[id] = nilPage
	l.prev[id] = q.tail
	if q.tail != nilPage {
		l.next[q.tail] = id
	} else {
		q.head = id
	}
	q.tail = id
	q.n++
}

func (l *links) remove(q *list, id PageID) {
	p, n := l.prev[id], l.next[id]
	if p != nilPage {
		l.next[p] = n
	} else {
		q.head = n
	}
	if n != nilPage {
		l.prev[n] = p
	} else {
		q.tail = p
	}
	l.prev[id], l.next[id] = nilPage, nilPage
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
