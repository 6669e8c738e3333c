//go:build linux

package vm

import (
	"errors"
	"fmt"
	"math/bits"

	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// From <linux/userfaultfd.h>.
const (
	uffdAPI              = 0xAA
	uffdUserModeOnly     = 1
	uffdFeatureFlagWP    = 1 << 0  // UFFD_FEATURE_PAGEFAULT_FLAG_WP
	uffdFeatureMissShmem = 1 << 5  // UFFD_FEATURE_MISSING_SHMEM
	uffdFeatureSIGBUS    = 1 << 7  // UFFD_FEATURE_SIGBUS
	uffdFeatureWPShmem   = 1 << 12 // UFFD_FEATURE_WP_HUGETLBFS_SHMEM

	uffdRegisterMissing = 1 << 0 // UFFDIO_REGISTER_MODE_MISSING
	uffdRegisterWP      = 1 << 1 // UFFDIO_REGISTER_MODE_WP

	uffdCopyDontwake = 1 << 0 // UFFDIO_COPY_MODE_DONTWAKE
	uffdCopyWP       = 1 << 1 // UFFDIO_COPY_MODE_WP

	uffdWriteprotectWP = 1 << 0 // UFFDIO_WRITEPROTECT_MODE_WP

	// Bits of uffdio_register.ioctls: the _UFFDIO_* numbers.
	uffdioCopyBit         = 1 << 0x03
	uffdioWriteprotectBit = 1 << 0x06
)

var featureNames = map[uint64]string{
	uffdFeatureFlagWP:    "UFFD_FEATURE_PAGEFAULT_FLAG_WP",
	uffdFeatureMissShmem: "UFFD_FEATURE_MISSING_SHMEM",
	uffdFeatureSIGBUS:    "UFFD_FEATURE_SIGBUS",
	uffdFeatureWPShmem:   "UFFD_FEATURE_WP_HUGETLBFS_SHMEM",
}

// Test hooks: the device to try, and whether to try the system call first.
var (
	userfaultDevice  = "/dev/userfaultfd"
	userfaultSyscall = true
)

// features returns the UFFD_FEATURE_* bits a region of kind k needs.
func features(k Kind) uint64 {
	f := uint64(uffdFeatureSIGBUS | uffdFeatureFlagWP)
	if k == Shared {
		f |= uffdFeatureMissShmem | uffdFeatureWPShmem
	}
	return f
}

// openUserfault returns a new userfaultfd, user-mode faults only: first from
// the system call, which every process may use for user-mode faults, then
// from the device (for when a seccomp filter refuses the system call).
func openUserfault() (int, string, error) {
	const flags = unix.O_CLOEXEC | uffdUserModeOnly
	e := &UserfaultError{Path: userfaultDevice}
	if userfaultSyscall {
		fd, _, errno := unix.Syscall(unix.SYS_USERFAULTFD, flags, 0, 0)
		if errno == 0 {
			return int(fd), "userfaultfd(2)", nil
		}
		e.Syscall = errno
	} else {
		e.Syscall = errors.New("not tried")
	}
	dev, err := unix.Open(userfaultDevice, unix.O_RDWR|unix.O_CLOEXEC, 0)
	if err != nil {
		e.Device = err
		return -1, "", e
	}
	defer unix.Close(dev)
	fd, err := newUserfaultDevice(dev, flags)
	if err != nil {
		e.Device = fmt.Errorf("USERFAULTFD_IOC_NEW: %w", err)
		return -1, "", e
	}
	return fd, userfaultDevice, nil
}

// newUserfault opens a userfaultfd and enables the features want
// (UFFDIO_API). A kernel that lacks one gets a [UserfaultError] naming it.
func newUserfault(want uint64) (*userfault, error) {
	fd, source, err := openUserfault()
	if err != nil {
		return nil, err
	}
	api := uffdioAPI{api: uffdAPI, features: want}
	if err := ioctlAPI(fd, &api); err != nil {
		unix.Close(fd)
		if errors.Is(err, unix.EINVAL) {
			// The handshake can be made once per descriptor: ask a fresh
			// one what the kernel has.
			have, perr := probeFeatures()
			if perr == nil && want&^have != 0 {
				return nil, &UserfaultError{Path: userfaultDevice, Missing: featureList(want &^ have)}
			}
		}
		return nil, &Error{Op: "UFFDIO_API", Err: err}
	}
	return &userfault{fd: fd, info: UserfaultInfo{Source: source, Features: api.features}}, nil
}

// probeFeatures returns the features the kernel offers.
func probeFeatures() (uint64, error) {
	fd, _, err := openUserfault()
	if err != nil {
		return 0, err
	}
	defer unix.Close(fd)
	api := uffdioAPI{api: uffdAPI}
	if err := ioctlAPI(fd, &api); err != nil {
		return 0, err
	}
	return api.features, nil
}

func featureList(f uint64) []string {
	var names []string
	for f != 0 {
		bit := uint64(1) << bits.TrailingZeros64(f)
		f &^= bit
		name, ok := featureNames[bit]
		if !ok {
			name = fmt.Sprintf("feature %#x", bit)
		}
		names = append(names, name)
	}
	return names
}

// CheckUserfault reports whether regions of kind k (Anonymous or Shared)
// can be registered with userfaultfd here: nil, or a [*UserfaultError]
// that matches [ErrNotSupported] (no userfaultfd in the kernel, or a
// feature missing) or os.ErrPermission (the process may not use it), and
// names what is missing.
//
// A process needs one of: the userfaultfd(2) system call with
// UFFD_USER_MODE_ONLY (open to every process unless a seccomp filter, as
// container runtimes install, refuses it), or read-write access to
// /dev/userfaultfd. The kernel needs userfaultfd with UFFD_FEATURE_SIGBUS
// and write-protect support (Linux 5.7 for anonymous memory; shmem also
// needs UFFD_FEATURE_MISSING_SHMEM and UFFD_FEATURE_WP_HUGETLBFS_SHMEM,
// Linux 6.0).
func CheckUserfault(k Kind) error {
	if k != Anonymous && k != Shared {
		return &Error{Op: "userfaultfd", Err: fmt.Errorf("%v regions: %w", k, ErrNotSupported)}
	}
	u, err := newUserfault(features(k))
	if err != nil {
		return wrapUserfault(err)
	}
	return unix.Close(u.fd)
}

func wrapUserfault(err error) error {
	var e *Error
	if errors.As(err, &e) {
		return err
	}
	return &Error{Op: "userfaultfd", Err: err}
}

// registerUserfault registers r's view: missing-page and write-protect
// modes, faults raised as SIGBUS on the faulting thread.
func (r *Region) registerUserfault() error {
	u, err := newUserfault(features(r.kind))
	if err != nil {
		return wrapUserfault(err)
	}
	reg := uffdioRegister{
		rng:  uffdioRange{start: uint64(r.base), len: uint64(len(r.view))},
		mode: uffdRegisterMissing | uffdRegisterWP,
	}
	if err := ioctlRegister(u.fd, &reg); err != nil {
		unix.Close(u.fd)
		if errors.Is(err, unix.EINVAL) {
			err = fmt.Errorf("%w (missing and write-protect modes on %v memory: %w)", err, r.kind, ErrNotSupported)
		}
		return &Error{Op: "UFFDIO_REGISTER", Range: r.Range(), Err: err}
	}
	if need := uint64(uffdioCopyBit | uffdioWriteprotectBit); reg.ioctls&need != need {
		unix.Close(u.fd)
		var missing []string
		if reg.ioctls&uffdioCopyBit == 0 {
			missing = append(missing, "UFFDIO_COPY")
		}
		if reg.ioctls&uffdioWriteprotectBit == 0 {
			missing = append(missing, "UFFDIO_WRITEPROTECT")
		}
		return &Error{Op: "UFFDIO_REGISTER", Range: r.Range(), Err: &UserfaultError{Path: userfaultDevice, Missing: missing}}
	}
	r.uffd = u
	return nil
}

// closeUserfault closes r's userfaultfd; the view is unmapped (which
// unregisters it) or about to be.
func (r *Region) closeUserfault() error {
	if r.uffd == nil {
		return nil
	}
	if err := unix.Close(r.uffd.fd); err != nil {
		return &Error{Op: "close userfaultfd", Err: err}
	}
	return nil
}

// Fill installs pages [p, p+n) of the program's view, n = len(src) / page
// size, with the contents of src, atomically (UFFDIO_COPY): no thread sees
// a page before it is complete. With prot ProtRead the pages are
// write-protected (UFFDIO_COPY_MODE_WP): a write raises SIGBUS until
// [Region.WriteProtect] lifts it. With ProtReadWrite they are writable.
//
// Preconditions:
//   - r is registered with userfaultfd ([Options.Userfault]);
//   - the pages are missing (never filled, or dropped since): a present
//     page makes the call fail with EEXIST;
//   - len(src) is a positive multiple of the page size.
func (r *Region) Fill(p arch.PageNum, src []byte, prot arch.Prot) error {
	ps := int(r.ps)
	n := len(src) / ps
	if len(src)%ps != 0 {
		return &Error{Op: "UFFDIO_COPY", Range: r.pageRange(p, n), Err: fmt.Errorf("%d bytes: %w", len(src), ErrUnaligned)}
	}
	var mode uint64 = uffdCopyDontwake
	switch prot {
	case arch.ProtRead:
		mode |= uffdCopyWP
	case arch.ProtReadWrite:
	default:
		return &Error{Op: "UFFDIO_COPY", Range: r.pageRange(p, n), Err: fmt.Errorf("%v (ProtRead or ProtReadWrite): %w", prot, ErrBadProt)}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkUserfaultLocked("UFFDIO_COPY", p, n); err != nil {
		return err
	}
	if err := ioctlCopy(r.uffd.fd, r.viewLocked(p, n), src, mode); err != nil {
		return &Error{Op: "UFFDIO_COPY", Range: r.pageRange(p, n), Err: err}
	}
	return nil
}

// WriteProtect write-protects pages [p, p+n) of the program's view (wp
// true), so that a write raises SIGBUS, or lifts the protection (wp false),
// in one call whatever n (UFFDIO_WRITEPROTECT). The view is not split.
// Reads are unaffected. Once it returns true, no thread can write the pages
// any more (the kernel flushed the TLBs).
//
// Preconditions: r is registered with userfaultfd and the pages are
// present. Protecting a missing page does nothing that lasts: a later
// [Region.Fill] decides its protection.
func (r *Region) WriteProtect(p arch.PageNum, n int, wp bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.checkUserfaultLocked("UFFDIO_WRITEPROTECT", p, n); err != nil {
		return err
	}
	a := uffdioWriteprotect{rng: uffdioRange{start: uint64(r.Addr(p)), len: uint64(n) << r.ps.Shift()}}
	if wp {
		a.mode = uffdWriteprotectWP
	}
	if err := ioctlWriteprotect(r.uffd.fd, &a); err != nil {
		return &Error{Op: "UFFDIO_WRITEPROTECT", Range: r.pageRange(p, n), Err: err}
	}
	return nil
}

func (r *Region) checkUserfaultLocked(op string, p arch.PageNum, n int) error {
	if err := r.checkLocked(op, p, n); err != nil {
		return err
	}
	if r.uffd == nil {
		return &Error{Op: op, Range: r.pageRange(p, n), Err: ErrNoUserfault}
	}
	return nil
}

// refuseUserfault refuses a MAP_FIXED change on a userfaultfd region.
func (r *Region) refuseUserfault(op string, p arch.PageNum, n int) error {
	if r.uffd == nil {
		return nil
	}
	return &Error{Op: op, Range: r.pageRange(p, n), Err: fmt.Errorf("a mapping made over it would not be: %w", ErrUserfault)}
}
