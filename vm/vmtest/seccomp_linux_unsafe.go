//go:build linux

package vmtest

import (
	"fmt"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DenyUserfaultfd installs a seccomp filter on every thread of the process
// that makes the userfaultfd(2) system call fail with EPERM, as the default
// seccomp profile of container runtimes does. It cannot be undone: call it
// in a child process (see [Unprivileged] and [Child]).
func DenyUserfaultfd() error { return denySyscalls(unix.SYS_USERFAULTFD) }

// DenyKernelCounters installs a seccomp filter on every thread of the
// process that makes bpf(2) and perf_event_open(2) fail with EPERM, as a
// container's seccomp profile can: then neither the eBPF probe nor the
// perf counters can be opened, root or not. It cannot be undone: call it
// in a child process (see [Unprivileged] and [Child]).
func DenyKernelCounters() error { return denySyscalls(unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN) }

// denySyscalls installs a filter that fails each system call of nrs with
// EPERM and allows every other.
func denySyscalls(nrs ...uint32) error {
	if auditArch == 0 {
		return fmt.Errorf("vmtest: no seccomp architecture for %s", runtime.GOARCH)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	// Without CAP_SYS_ADMIN a filter needs no_new_privs; TSYNC copies it to
	// the other threads with the filter.
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("prctl(PR_SET_NO_NEW_PRIVS): %w", err)
	}
	// Check the architecture first: a system call number means these
	// calls on this one only. Then one compare per call: a match jumps to
	// the EPERM return, after the allow.
	n := uint8(len(nrs))
	filter := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 4}, // seccomp_data.arch
		{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: n + 1, K: auditArch},
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}, // seccomp_data.nr
	}
	for i, nr := range nrs {
		filter = append(filter, unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: n - uint8(i), Jf: 0, K: nr})
	}
	filter = append(filter,
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
	)
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(filter)
	if e != 0 {
		return fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, TSYNC): %w", e)
	}
	return nil
}
