//go:build linux

package vm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// placement returns where to map a view of size bytes: nowhere in
// particular, or at o.At without replacing anything.
func placement(ps arch.PageSize, o Options, size int) ([]byte, int, error) {
	if o.At == 0 {
		return nil, 0, nil
	}
	if !ps.Aligned(o.At) {
		return nil, 0, fmt.Errorf("address %v: %w", o.At, ErrUnaligned)
	}
	return unsafeBytes(o.At, size), unix.MAP_FIXED_NOREPLACE, nil
}

// unixProt converts a protection to the kernel's PROT_* bits.
func unixProt(p arch.Prot) int {
	var u int
	if p.Read() {
		u |= unix.PROT_READ
	}
	if p.Write() {
		u |= unix.PROT_WRITE
	}
	if p.Exec() {
		u |= unix.PROT_EXEC
	}
	return u
}

func defaults(opts *Options) Options {
	if opts == nil {
		return Options{}
	}
	return *opts
}

func sizeOf(ps arch.PageSize, pages int) (int, error) {
	if pages <= 0 {
		return 0, fmt.Errorf("%d pages: %w", pages, ErrZeroLength)
	}
	n, ok := ps.Bytes(uint64(pages))
	if !ok || n > uint64(maxInt) {
		return 0, fmt.Errorf("%d pages: %w", pages, ErrOutOfRange)
	}
	return int(n), nil
}

const maxInt = int(^uint(0) >> 1)

// NewAnonymous maps pages of private anonymous memory.
func NewAnonymous(pages int, opts *Options) (*Region, error) {
	o := defaults(opts)
	if o.Reserve {
		return nil, &Error{Op: "new anonymous region", Err: errors.New("reserve mode needs a backing (use a shared or file region)")}
	}
	if !o.Prot.Valid() {
		return nil, &Error{Op: "new anonymous region", Err: ErrBadProt}
	}
	if o.Userfault {
		o.Prot = arch.ProtReadWrite
	}
	ps := arch.SystemPageSize()
	size, err := sizeOf(ps, pages)
	if err != nil {
		return nil, &Error{Op: "new anonymous region", Err: err}
	}
	at, fixed, err := placement(ps, o, size)
	if err != nil {
		return nil, &Error{Op: "new anonymous region", Err: err}
	}
	if err := maps.reserve(1); err != nil {
		return nil, &Error{Op: "new anonymous region", Err: err}
	}
	view, err := mmap(at, size, unixProt(o.Prot), unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|fixed, -1, 0)
	if err != nil {
		maps.release(1)
		return nil, err
	}
	r := newRegion(Anonymous, ps, pages, view, nil, -1, 0, o)
	if err := r.setUp(o); err != nil {
		r.Unmap()
		return nil, err
	}
	return r, nil
}

// setUp advises the kernel on huge pages and registers the view with
// userfaultfd if asked.
func (r *Region) setUp(o Options) error {
	if err := r.adviseHuge(o); err != nil {
		return err
	}
	if o.Userfault {
		return r.registerUserfault()
	}
	return nil
}

// NewShared creates a memfd of pages and maps it twice: the program's view
// with protection opts.Prot (or a reservation with opts.Reserve) and a
// read-write second view.
func NewShared(pages int, opts *Options) (*Region, error) {
	o := defaults(opts)
	if !o.Prot.Valid() {
		return nil, &Error{Op: "new shared region", Err: ErrBadProt}
	}
	if o.Userfault {
		if o.Reserve {
			return nil, &Error{Op: "new shared region", Err: fmt.Errorf("reserve mode maps pages in place with MAP_FIXED: %w", ErrUserfault)}
		}
		o.Prot = arch.ProtReadWrite
	}
	ps := arch.SystemPageSize()
	size, err := sizeOf(ps, pages)
	if err != nil {
		return nil, &Error{Op: "new shared region", Err: err}
	}
	name := o.Name
	if name == "" {
		name = "vmsim"
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, &Error{Op: "memfd_create", Err: err}
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "ftruncate memfd", Err: err}
	}
	return mapBacked(Shared, ps, pages, size, fd, 0, true, o)
}

// Memfd creates an anonymous memory file (memfd_create) of size bytes, with
// close-on-exec set. It is the descriptor behind shared anonymous memory:
// NewFile maps it like any file (MAP_SHARED for memory that processes share,
// MAP_PRIVATE for a copy on write), and exec.Cmd.ExtraFiles passes it to a
// child process, which is how a Go program shares memory with a process it
// starts (Go cannot fork and keep a MAP_SHARED|MAP_ANONYMOUS mapping).
func Memfd(name string, size int64) (*os.File, error) {
	if size < 0 {
		return nil, &Error{Op: "memfd_create", Err: fmt.Errorf("size %d: %w", size, ErrOutOfRange)}
	}
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC)
	if err != nil {
		return nil, &Error{Op: "memfd_create", Err: err}
	}
	if err := unix.Ftruncate(fd, size); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "ftruncate memfd", Err: err}
	}
	return os.NewFile(uintptr(fd), "memfd:"+name), nil
}

// NewFile maps pages of file f, starting at opts.Offset. The region keeps its
// own duplicate of f's descriptor: f may be closed afterwards. Pages beyond
// the end of the file raise SIGBUS when touched.
func NewFile(f *os.File, pages int, opts *FileOptions) (*Region, error) {
	var fo FileOptions
	if opts != nil {
		fo = *opts
	}
	if !fo.Prot.Valid() {
		return nil, &Error{Op: "new file region", Err: ErrBadProt}
	}
	if fo.Userfault {
		return nil, &Error{Op: "new file region", Err: fmt.Errorf("userfaultfd on file regions: %w", ErrNotSupported)}
	}
	ps := arch.SystemPageSize()
	if fo.Offset < 0 || !ps.Aligned(arch.Addr(fo.Offset)) {
		return nil, &Error{Op: "new file region", Err: fmt.Errorf("offset %d: %w", fo.Offset, ErrUnaligned)}
	}
	size, err := sizeOf(ps, pages)
	if err != nil {
		return nil, &Error{Op: "new file region", Err: err}
	}
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, &Error{Op: "dup " + f.Name(), Err: err}
	}
	kind := FilePrivate
	if fo.Shared {
		kind = FileShared
	}
	return mapBacked(kind, ps, pages, size, fd, fo.Offset, fo.Shared, fo.Options)
}

// mapBacked maps fd as a region's views. It owns fd: it closes it on error.
func mapBacked(kind Kind, ps arch.PageSize, pages, size, fd int, offset int64, shared bool, o Options) (*Region, error) {
	if err := maps.reserve(2); err != nil {
		unix.Close(fd)
		return nil, &Error{Op: "new " + kind.String() + " region", Err: err}
	}
	flags := unix.MAP_PRIVATE
	if shared {
		flags = unix.MAP_SHARED
	}
	at, fixed, err := placement(ps, o, size)
	if err != nil {
		maps.release(2)
		unix.Close(fd)
		return nil, &Error{Op: "new " + kind.String() + " region", Err: err}
	}
	var view []byte
	if o.Reserve {
		view, err = mmap(at, size, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|fixed, -1, 0)
	} else {
		view, err = mmap(at, size, unixProt(o.Prot), flags|fixed, fd, offset)
	}
	if err != nil {
		maps.release(2)
		unix.Close(fd)
		return nil, err
	}
	var alt []byte
	if shared {
		alt, err = mmap(nil, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED, fd, offset)
		if errors.Is(err, unix.EACCES) && kind == FileShared {
			alt, err = nil, nil // a read-only file: no second view
		}
		if err != nil {
			maps.release(2)
			munmap(view)
			unix.Close(fd)
			return nil, err
		}
	}
	if alt == nil {
		maps.release(1)
	}
	r := newRegion(kind, ps, pages, view, alt, fd, offset, o)
	if err := r.setUp(o); err != nil {
		r.Unmap()
		return nil, err
	}
	return r, nil
}

func newRegion(kind Kind, ps arch.PageSize, pages int, view, alt []byte, fd int, offset int64, o Options) *Region {
	r := &Region{
		kind:    kind,
		ps:      ps,
		npages:  pages,
		base:    addrOf(view),
		reserve: o.Reserve,
		fd:      fd,
		offset:  offset,
		view:    view,
		alt:     alt,
		state:   make([]pageState, pages),
		runs:    1,
	}
	if !o.Reserve {
		for i := range r.state {
			r.state[i] = pageState(o.Prot)
		}
	}
	return r
}

func (r *Region) adviseHuge(o Options) error {
	if o.HugePages {
		return nil
	}
	for _, b := range [][]byte{r.view, r.alt} {
		if b == nil {
			continue
		}
		// EINVAL means the kernel has no transparent huge pages: nothing to
		// turn off.
		if err := unix.Madvise(b, unix.MADV_NOHUGEPAGE); err != nil && !errors.Is(err, unix.EINVAL) {
			return &Error{Op: "madvise(MADV_NOHUGEPAGE)", Range: rangeOf(b), Err: err}
		}
	}
	return nil
}

// Protect sets the protection of pages [p, p+n) of the program's view.
func (r *Region) Protect(p arch.PageNum, n int, prot arch.Prot) error {
	if !prot.Valid() {
		return &Error{Op: "mprotect", Range: r.pageRange(p, n), Err: ErrBadProt}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("mprotect", p, n); err != nil {
		return err
	}
	return r.changeLocked("mprotect", p, n, pageState(prot)|r.state[p]&mappedBit, func() error {
		if err := unix.Mprotect(r.viewLocked(p, n), unixProt(prot)); err != nil {
			return r.sysErr("mprotect", p, n, err)
		}
		return nil
	})
}

// Drop releases the memory of pages [p, p+n) without changing their
// protection:
//
//   - Anonymous and FilePrivate: madvise(MADV_DONTNEED); the pages read back
//     as zeros (anonymous) or as the file's content (private file).
//   - Shared: fallocate(PUNCH_HOLE) on the memfd; the pages read back as
//     zeros in both views.
//   - FileShared: madvise(MADV_DONTNEED) on both views; the file keeps its
//     data (a hole is never punched in a user's file).
//
// On a region registered with userfaultfd both ways make the pages missing
// again: the next touch raises SIGBUS. (On a memfd, madvise(MADV_DONTNEED)
// alone would not: the page stays in the memfd and the next touch maps it
// back without a fault. That is why Shared regions punch a hole.)
func (r *Region) Drop(p arch.PageNum, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("drop", p, n); err != nil {
		return err
	}
	if r.kind == Shared {
		off := r.offset + int64(uint64(p)<<r.ps.Shift())
		length := int64(uint64(n) << r.ps.Shift())
		if err := unix.Fallocate(r.fd, unix.FALLOC_FL_PUNCH_HOLE|unix.FALLOC_FL_KEEP_SIZE, off, length); err != nil {
			return r.sysErr("fallocate(PUNCH_HOLE)", p, n, err)
		}
		return nil
	}
	if err := unix.Madvise(r.viewLocked(p, n), unix.MADV_DONTNEED); err != nil {
		return r.sysErr("madvise(MADV_DONTNEED)", p, n, err)
	}
	if r.alt != nil {
		off := uint64(p) << r.ps.Shift()
		if err := unix.Madvise(r.alt[off:off+uint64(n)<<r.ps.Shift()], unix.MADV_DONTNEED); err != nil {
			return r.sysErr("madvise(MADV_DONTNEED) second view", p, n, err)
		}
	}
	return nil
}

// Remap maps the backing of pages [p, p+n) in place in the program's view,
// with MAP_FIXED and protection prot: the memfd's or file's pages for backed
// regions, fresh zero pages for anonymous ones. Whatever was mapped there
// before is replaced in one step.
func (r *Region) Remap(p arch.PageNum, n int, prot arch.Prot) error {
	if !prot.Valid() {
		return &Error{Op: "mmap(MAP_FIXED)", Range: r.pageRange(p, n), Err: ErrBadProt}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("mmap(MAP_FIXED)", p, n); err != nil {
		return err
	}
	if err := r.refuseUserfault("mmap(MAP_FIXED)", p, n); err != nil {
		return err
	}
	b := r.viewLocked(p, n)
	return r.changeLocked("mmap(MAP_FIXED)", p, n, pageState(prot)|mappedBit, func() error {
		var err error
		switch r.kind {
		case Anonymous:
			_, err = mmap(b, len(b), unixProt(prot), unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_FIXED, -1, 0)
		default:
			flags := unix.MAP_SHARED
			if r.kind == FilePrivate {
				flags = unix.MAP_PRIVATE
			}
			off := r.offset + int64(uint64(p)<<r.ps.Shift())
			_, err = mmap(b, len(b), unixProt(prot), flags|unix.MAP_FIXED, r.fd, off)
		}
		return r.withLimit(err)
	})
}

// Reserve replaces pages [p, p+n) of the program's view with a PROT_NONE
// anonymous reservation (MAP_FIXED): the opposite of Remap. The backing
// keeps its data; a later touch faults.
func (r *Region) Reserve(p arch.PageNum, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("mmap(MAP_FIXED, PROT_NONE)", p, n); err != nil {
		return err
	}
	if err := r.refuseUserfault("mmap(MAP_FIXED, PROT_NONE)", p, n); err != nil {
		return err
	}
	b := r.viewLocked(p, n)
	return r.changeLocked("mmap(MAP_FIXED, PROT_NONE)", p, n, pageState(arch.ProtNone), func() error {
		_, err := mmap(b, len(b), unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_NORESERVE|unix.MAP_FIXED, -1, 0)
		return r.withLimit(err)
	})
}

// Sync flushes pages [p, p+n) of a file-backed shared region to the file
// (msync(MS_SYNC)).
func (r *Region) Sync(p arch.PageNum, n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkLocked("msync", p, n); err != nil {
		return err
	}
	if err := unix.Msync(r.viewLocked(p, n), unix.MS_SYNC); err != nil {
		return r.sysErr("msync", p, n, err)
	}
	return nil
}

// Classify reports the signal a fault at address a raised: SIGBUS for a
// region registered with userfaultfd and for a page of a file region that
// lies beyond the end of the file, SIGSEGV otherwise. It implements
// faults.Classifier.
func (r *Region) Classify(a arch.Addr) arch.Signal {
	p, ok := r.PageOf(a)
	if !ok {
		return arch.SignalUnknown
	}
	if r.uffd != nil {
		return arch.SIGBUS
	}
	if r.kind == FileShared || r.kind == FilePrivate {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err == nil {
			if r.offset+int64(uint64(p)<<r.ps.Shift()) >= st.Size {
				return arch.SIGBUS
			}
		}
	}
	return arch.SIGSEGV
}

// Unmap unmaps both views and closes the memfd or file descriptor. Further
// calls on r return ErrClosed; touching its memory faults outside any
// region.
func (r *Region) Unmap() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return &Error{Op: "munmap", Err: ErrClosed}
	}
	r.closed = true
	maps.release(r.runs + r.altMaps())
	var errs []error
	if err := munmap(r.view); err != nil {
		errs = append(errs, err)
	}
	if r.alt != nil {
		if err := munmap(r.alt); err != nil {
			errs = append(errs, err)
		}
	}
	if r.fd >= 0 {
		if err := unix.Close(r.fd); err != nil {
			errs = append(errs, &Error{Op: "close", Err: err})
		}
	}
	if err := r.closeUserfault(); err != nil {
		errs = append(errs, err)
	}
	r.view, r.alt = nil, nil
	return errors.Join(errs...)
}

// viewLocked returns pages [p, p+n) of the program's view.
func (r *Region) viewLocked(p arch.PageNum, n int) []byte {
	off := uint64(p) << r.ps.Shift()
	return r.view[off : off+uint64(n)<<r.ps.Shift()]
}

func (r *Region) sysErr(op string, p arch.PageNum, n int, err error) error {
	return r.withLimit(&Error{Op: op, Range: r.pageRange(p, n), Err: err})
}

// withLimit turns an ENOMEM at the map count limit into ErrMapLimit.
func (r *Region) withLimit(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.Is(err, unix.ENOMEM) || !errors.As(err, &e) {
		return err
	}
	limit, lerr := MapLimit()
	count, cerr := MapCount()
	if lerr != nil || cerr != nil || count < limit-16 {
		return err
	}
	e.Err = &mapLimitError{errno: e.Err, count: count, limit: limit}
	return e
}

// MapLimit returns vm.max_map_count: the most memory areas a process may
// have.
func MapLimit() (int, error) {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(string(b), "%d", &n); err != nil {
		return 0, fmt.Errorf("parse /proc/sys/vm/max_map_count: %w", err)
	}
	return n, nil
}

// MapCount returns the number of memory areas this process has now (the
// lines of /proc/self/maps).
func MapCount() (int, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n, nil
}

// Allocated returns the bytes of memory that back r now: the allocated
// blocks of the memfd or file (st_blocks), or, for anonymous memory, the
// resident pages of the view (mincore). A pager that releases evicted pages
// keeps it near frames × page size.
func (r *Region) Allocated() (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, &Error{Op: "allocated", Err: ErrClosed}
	}
	if r.fd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, &Error{Op: "fstat", Err: err}
		}
		return st.Blocks * 512, nil
	}
	vec := make([]byte, r.npages)
	if err := mincore(r.view, vec); err != nil {
		return 0, &Error{Op: "mincore", Range: r.Range(), Err: err}
	}
	n := int64(0)
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * int64(r.ps), nil
}
