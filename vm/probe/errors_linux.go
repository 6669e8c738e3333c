//go:build linux

package probe

import (
	"errors"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"
)

// hintRoot is what to do about missing privilege.
const hintRoot = "run it as root (sudo), or give the binary cap_bpf,cap_perfmon+ep"

// kernelError explains a failed eBPF call: missing support, missing
// privilege (saying what, not cilium's guess about RLIMIT_MEMLOCK), or
// something else.
func kernelError(op, needs string, err error) error {
	switch {
	case errors.Is(err, ebpf.ErrNotSupported):
		return &Error{Op: op, Missing: needs, Kind: ErrNotSupported, Err: err}
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		errno := unix.EPERM
		if errors.Is(err, unix.EACCES) {
			errno = unix.EACCES
		}
		caps, cerr := effectiveCaps()
		if cerr == nil && !caps.canTrace() {
			return &Error{Op: op, Missing: caps.missing() + " (or CAP_SYS_ADMIN), which this process lacks", Kind: ErrPermission, Err: errno, Hint: hintRoot}
		}
		hint := "the process has CAP_BPF and CAP_PERFMON, so a seccomp filter, kernel lockdown or a security module (SELinux, AppArmor) refused it"
		if rel, maj, min := kernelRelease(); maj < 5 || (maj == 5 && min < 11) {
			hint += ", or RLIMIT_MEMLOCK, which Linux " + rel + " charges BPF memory to"
		}
		// cilium's own message would blame RLIMIT_MEMLOCK whatever the
		// kernel: keep the errno only.
		return &Error{Op: op, Kind: ErrPermission, Err: errno, Hint: hint}
	case errors.Is(err, unix.ENOENT) && needs != "":
		return &Error{Op: op, Missing: needs, Kind: ErrNotSupported, Err: err}
	}
	return &Error{Op: op, Err: err}
}
