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
		runs:    1,
	}
	def := pageState(0)
	if !o.Reserve {
		def = pageState(o.Prot)
	}
	r.state = newPageStates(pages, def)
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
