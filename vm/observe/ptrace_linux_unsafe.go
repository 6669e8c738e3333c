//go:build linux

package observe

import (
	"encoding/binary"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// siginfo is the part of a siginfo_t the tracer reads.
type siginfo struct {
	signo, errno, code int32
	// addr is si_addr (fault signals); pid and uid si_pid and si_uid
	// (signals sent by a process, SIGCHLD), which share its place.
	addr     uint64
	pid, uid int32
}

// getSiginfo is PTRACE_GETSIGINFO: the siginfo of the signal tid is
// stopped for. It fails with EINVAL for a group-stop.
func getSiginfo(tid int) (siginfo, error) {
	var buf [128]byte
	_, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_GETSIGINFO, uintptr(tid), 0, uintptr(unsafe.Pointer(&buf[0])), 0, 0)
	if e != 0 {
		return siginfo{}, e
	}
	return parseSiginfo(buf[:]), nil
}

// parseSiginfo decodes a 64-bit siginfo_t: si_signo, si_errno, si_code,
// then at offset 16 the union (si_addr, or si_pid and si_uid).
func parseSiginfo(b []byte) siginfo {
	le := binary.LittleEndian
	return siginfo{
		signo: int32(le.Uint32(b[0:])),
		errno: int32(le.Uint32(b[4:])),
		code:  int32(le.Uint32(b[8:])),
		addr:  le.Uint64(b[16:]),
		pid:   int32(le.Uint32(b[16:])),
		uid:   int32(le.Uint32(b[20:])),
	}
}

// peekChild is waitid(P_ALL, WEXITED|WNOWAIT|__WALL|__WNOTHREAD): the
// next child or tracee of this thread with something to report, left to
// be reaped. trapped reports a ptrace stop (CLD_TRAPPED): only tracees
// report those.
func peekChild() (pid int, trapped bool, err error) { return peek(0) }

// peekNoHang is peekChild that does not wait: pid 0 if no child has
// anything to report.
func peekNoHang() (pid int, trapped bool, err error) { return peek(unix.WNOHANG) }

func peek(flags int) (pid int, trapped bool, err error) {
	var buf [128]byte
	for {
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_ALL, 0, uintptr(unsafe.Pointer(&buf[0])),
			uintptr(unix.WEXITED|unix.WNOWAIT|unix.WALL|unix.WNOTHREAD|flags), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return 0, false, e
		}
		info := parseSiginfo(buf[:])
		return int(info.pid), info.code == 4, nil // CLD_TRAPPED
	}
}

// hasNews is waitid(P_PID, pid, WEXITED|WNOWAIT|WNOHANG|__WALL): whether
// tracee pid has a stop or an exit to report, left to be reaped.
func hasNews(pid int) (bool, error) {
	var buf [128]byte
	for {
		_, _, e := unix.Syscall6(unix.SYS_WAITID, unix.P_PID, uintptr(pid), uintptr(unsafe.Pointer(&buf[0])),
			unix.WEXITED|unix.WNOWAIT|unix.WNOHANG|unix.WALL, 0, 0)
		if e == syscall.EINTR {
			continue
		}
		if e != 0 {
			return false, e
		}
		return parseSiginfo(buf[:]).pid != 0, nil
	}
}
