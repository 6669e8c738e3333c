package vm

import (
	"fmt"
	"sync"

	"vmsim/vm/arch"
)

// Kind is the kind of memory behind a region.
type Kind uint8

// Region kinds.
const (
	// Anonymous is private anonymous memory.
	Anonymous Kind = iota + 1
	// Shared is a memfd mapped twice (program's view and second view).
	Shared
	// FileShared is a file mapped MAP_SHARED.
	FileShared
	// FilePrivate is a file mapped MAP_PRIVATE.
	FilePrivate
)

func (k Kind) String() string {
	switch k {
	case Anonymous:
		return "anonymous"
	case Shared:
		return "shared"
	case FileShared:
		return "file-shared"
	case FilePrivate:
		return "file-private"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Options configure a new region. A nil *Options means the defaults.
type Options struct {
	// Prot is the initial protection of every page. Zero is ProtNone: every
	// first touch faults.
	Prot arch.Prot
	// Reserve makes the program's view a PROT_NONE anonymous reservation;
	// backing pages appear only where Region.Remap maps them. Prot is then
	// ignored. Not valid for Anonymous regions (there is no backing to map).
	Reserve bool
	// Name names the memfd of a Shared region in /proc/self/maps. Empty
	// means "vmsim".
	Name string
	// HugePages leaves transparent huge pages allowed. By default a region
	// is madvise(MADV_NOHUGEPAGE), so that faults stay per page.
	HugePages bool
	// At, if not zero, is the address where the program's view must be
	// mapped; it must be page-aligned and free (MAP_FIXED_NOREPLACE: the
	// kernel refuses with EEXIST rather than replace a mapping).
	At arch.Addr
	// Userfault registers the program's view with a userfaultfd (missing
	// and write-protect modes, faults delivered as SIGBUS): every page
	// starts missing, and [Region.Fill], [Region.WriteProtect] and
	// [Region.Drop] control access without splitting the view. Prot is
	// then ignored (the view is mapped read-write; userfaultfd decides).
	// Valid for Anonymous and Shared regions, not with Reserve. See
	// [CheckUserfault] for what the kernel and the process need.
	Userfault bool
}

// FileOptions configure a file-backed region. A nil *FileOptions means the
// defaults: private mapping at offset 0.
type FileOptions struct {
	Options
	// Shared maps the file MAP_SHARED: writes reach the file and other
	// processes that map it. Otherwise the mapping is MAP_PRIVATE.
	Shared bool
	// Offset is the file offset of the region's first page, in bytes; a
	// multiple of the page size.
	Offset int64
}

// Region is a run of pages of real memory at a fixed address. Its methods are
// safe for concurrent use; Unmap must not race with accesses to its memory.
type Region struct {
	kind    Kind
	ps      arch.PageSize
	npages  int
	base    arch.Addr
	reserve bool
	// fd is the memfd or a duplicate of the file descriptor; -1 for
	// anonymous regions.
	fd int
	// offset is the file offset of page 0.
	offset int64
	// view is the program's view; alt the second, always-writable view (nil
	// if the region has none).
	view []byte
	alt  []byte
	// uffd is the userfaultfd the view is registered with, or nil.
	uffd *userfault

	// mu guards the fields below and serialises changes of protection, so
	// that state matches what the kernel holds.
	mu     sync.Mutex
	closed bool // protected by mu
	// state is each page's protection and, in reserve mode, whether the
	// backing is mapped in. Protected by mu.
	state pageStates
	// runs is the number of runs of equal state: the memory areas the view
	// occupies. Protected by mu.
	runs int
}

// pageState is a page's protection, plus mappedBit when the backing page is
// mapped in place (reserve mode).
type pageState uint8

const mappedBit pageState = 0x80

func (s pageState) prot() arch.Prot { return arch.Prot(s &^ mappedBit) }

// Kind returns the kind of memory behind r.
func (r *Region) Kind() Kind { return r.kind }

// PageSize returns the page size of r.
func (r *Region) PageSize() arch.PageSize { return r.ps }

// Pages returns the number of pages in r.
func (r *Region) Pages() int { return r.npages }

// Range returns the addresses of the program's view.
func (r *Region) Range() arch.Range {
	return arch.Range{Start: r.base, End: r.base + arch.Addr(len(r.view))}
}

// Addr returns the address of page p in the program's view. It does not check
// the page number: see [Region.PageOf].
func (r *Region) Addr(p arch.PageNum) arch.Addr { return r.base + arch.Addr(uint64(p)<<r.ps.Shift()) }

// PageOf returns the page of r that holds address a, or false if a is not in
// the program's view.
func (r *Region) PageOf(a arch.Addr) (arch.PageNum, bool) {
	if !r.Range().Contains(a) {
		return 0, false
	}
	return r.ps.PageOf(a - r.base), true
}

// Bytes returns the program's view. Touching it faults wherever access is not
// granted; run such code through package faults.
func (r *Region) Bytes() []byte { return r.view }

// Page returns page p of the program's view.
func (r *Region) Page(p arch.PageNum) ([]byte, error) {
	if err := r.check("page", p, 1); err != nil {
		return nil, err
	}
	off := uint64(p) << r.ps.Shift()
	return r.view[off : off+uint64(r.ps) : off+uint64(r.ps)], nil
}

// AltPage returns page p of the second view, which is always readable and
// writable whatever the protection of the program's view.
func (r *Region) AltPage(p arch.PageNum) ([]byte, error) {
	if err := r.check("second view", p, 1); err != nil {
		return nil, err
	}
	if r.alt == nil {
		return nil, &Error{Op: "second view", Range: r.pageRange(p, 1), Err: ErrNoAltView}
	}
	off := uint64(p) << r.ps.Shift()
	return r.alt[off : off+uint64(r.ps) : off+uint64(r.ps)], nil
}

// HasAltView reports whether r has a second view.
func (r *Region) HasAltView() bool { return r.alt != nil }

// Prot returns the protection of page p as last set through r.
func (r *Region) Prot(p arch.PageNum) (arch.Prot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("prot", p, 1); err != nil {
		return 0, err
	}
	return r.state.get(int(p)).prot(), nil
}

// Mappings returns the number of runs of pages that share a protection (and,
// in reserve mode, a backing): the kernel memory areas the program's view
// occupies, since the kernel merges equal neighbours.
func (r *Region) Mappings() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.runs
}

func (r *Region) pageRange(p arch.PageNum, n int) arch.Range {
	return arch.Range{Start: r.Addr(p), End: r.Addr(p + arch.PageNum(n))}
}

// check validates a page range; it takes the lock only to read closed.
func (r *Region) check(op string, p arch.PageNum, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.checkLocked(op, p, n)
}

func (r *Region) checkLocked(op string, p arch.PageNum, n int) error {
	if r.closed {
		return &Error{Op: op, Err: ErrClosed}
	}
	if n <= 0 {
		return &Error{Op: op, Err: fmt.Errorf("%d pages: %w", n, ErrZeroLength)}
	}
	if p >= arch.PageNum(r.npages) || uint64(n) > uint64(r.npages)-uint64(p) {
		return &Error{Op: op, Err: fmt.Errorf("pages [%d, %d) of a %d-page region: %w", p, uint64(p)+uint64(n), r.npages, ErrOutOfRange)}
	}
	return nil
}

// runsDeltaLocked returns how the run count would change if pages [p, p+n)
// took state s. Only the boundaries between neighbours inside [p-1, p+n]
// can change.
func (r *Region) runsDeltaLocked(p arch.PageNum, n int, s pageState) int {
	lo, hi := int(p), int(p)+n
	wlo, whi := max(lo-1, 0), min(hi+1, r.npages)
	after := 1
	if lo > wlo && r.state.get(lo-1) != s {
		after++
	}
	if hi < whi && r.state.get(hi) != s {
		after++
	}
	return after - r.state.runs(wlo, whi)
}

// changeLocked applies a change of state to pages [p, p+n): it checks the map
// budget, runs do (the system call), and records the new state. It never
// lets the process reach vm.max_map_count: past it the Go runtime's own
// mappings fail.
func (r *Region) changeLocked(op string, p arch.PageNum, n int, s pageState, do func() error) error {
	delta := r.runsDeltaLocked(p, n, s)
	if err := maps.reserve(delta); err != nil {
		return &Error{Op: op, Range: r.pageRange(p, n), Err: err}
	}
	if err := do(); err != nil {
		maps.release(delta)
		return err
	}
	for i := int(p); i < int(p)+n; i++ {
		r.state.set(i, s)
	}
	r.runs += delta
	if delta < 0 {
		maps.release(-delta)
	}
	return nil
}

// AltRange returns the addresses of the second view, or false if r has none.
func (r *Region) AltRange() (arch.Range, bool) {
	if r.alt == nil {
		return arch.Range{}, false
	}
	return rangeOfAlt(r.alt), true
}
