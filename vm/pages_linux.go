//go:build linux

package vm

import (
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// Operations on the pages of a mapped region: protections, releasing and
// remapping memory, syncing to the file, and telling the signal of a fault.

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
	return r.changeLocked("mprotect", p, n, pageState(prot)|r.state.get(int(p))&mappedBit, func() error {
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

// viewLocked returns pages [p, p+n) of the program's view.
func (r *Region) viewLocked(p arch.PageNum, n int) []byte {
	off := uint64(p) << r.ps.Shift()
	return r.view[off : off+uint64(n)<<r.ps.Shift()]
}

func (r *Region) sysErr(op string, p arch.PageNum, n int, err error) error {
	return r.withLimit(&Error{Op: op, Range: r.pageRange(p, n), Err: err})
}
