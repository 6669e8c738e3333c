package vm

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// Errors for the misuse of userfaultfd regions.
var (
	// ErrUserfault is matched by the error of an operation that a region
	// registered with userfaultfd cannot take: a mapping made over its pages
	// with MAP_FIXED would be a new memory area, no longer registered, so
	// its faults would no longer reach the pager.
	ErrUserfault = errors.New("region is registered with userfaultfd")
	// ErrNoUserfault is matched by the error of a userfaultfd operation on
	// a region that is not registered with one.
	ErrNoUserfault = errors.New("region is not registered with userfaultfd")
)

// userfault is a region's userfaultfd.
type userfault struct {
	fd   int
	info UserfaultInfo
}

// UserfaultInfo describes the userfaultfd of a region.
type UserfaultInfo struct {
	// Source is how the descriptor was obtained: "userfaultfd(2)" (the
	// system call with UFFD_USER_MODE_ONLY) or the path of the device
	// ("/dev/userfaultfd", USERFAULTFD_IOC_NEW).
	Source string
	// Features is the UFFD_FEATURE_* bit set the kernel offers (the answer
	// of UFFDIO_API).
	Features uint64
}

// UserfaultError says why a userfaultfd could not be had or lacks what vm
// needs. It matches [ErrNotSupported] when the kernel has no userfaultfd
// or lacks a feature, and [fs.ErrPermission] (so os.ErrPermission) when
// the process may not use it. It wraps the errors of both ways tried.
type UserfaultError struct {
	// Syscall is the error of the userfaultfd(2) system call (with
	// UFFD_USER_MODE_ONLY, which every process may use unless a seccomp
	// filter or the kernel's configuration refuses it); nil if it worked.
	Syscall error
	// Device is the error of opening Path and asking it for a descriptor
	// (USERFAULTFD_IOC_NEW); nil if it worked or was not tried.
	Device error
	// Path is the device tried.
	Path string
	// Missing names the UFFD_FEATURE_* flags and ioctls the kernel does not
	// offer, when a descriptor was had but cannot serve.
	Missing []string
}

func (e *UserfaultError) Error() string {
	if len(e.Missing) > 0 {
		return fmt.Sprintf("userfaultfd lacks %s (kernel too old or built without them): %v", strings.Join(e.Missing, ", "), ErrNotSupported)
	}
	if e.permission() {
		return fmt.Sprintf("userfaultfd not permitted: userfaultfd(2): %v; %s: %v (needs root or CAP_SYS_PTRACE, vm.unprivileged_userfaultfd=1, or read-write access to %s, and no seccomp filter refusing the userfaultfd system call)",
			e.Syscall, e.Path, e.Device, e.Path)
	}
	return fmt.Sprintf("userfaultfd unavailable: userfaultfd(2): %v; %s: %v: %v", e.Syscall, e.Path, e.Device, ErrNotSupported)
}

// permission reports whether a way was refused for lack of permission
// (rather than missing from the kernel).
func (e *UserfaultError) permission() bool {
	return errors.Is(e.Syscall, fs.ErrPermission) || errors.Is(e.Device, fs.ErrPermission)
}

// Is reports whether target is ErrNotSupported and the cause is the
// kernel, not a permission.
func (e *UserfaultError) Is(target error) bool {
	return target == ErrNotSupported && (len(e.Missing) > 0 || !e.permission())
}

// Unwrap returns the errors of the ways tried.
func (e *UserfaultError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Syscall, e.Device} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// IsUserfault reports whether r's view is registered with a userfaultfd.
func (r *Region) IsUserfault() bool { return r.uffd != nil }

// Userfault returns what r's userfaultfd is, or false if r has none.
func (r *Region) Userfault() (UserfaultInfo, bool) {
	if r.uffd == nil {
		return UserfaultInfo{}, false
	}
	return r.uffd.info, true
}
