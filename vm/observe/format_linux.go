//go:build linux

package observe

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// flag is one bit (or value) of a flag set and its C name.
type flag struct {
	v    uint64
	name string
}

var (
	protFlags = []flag{{unix.PROT_READ, "PROT_READ"}, {unix.PROT_WRITE, "PROT_WRITE"}, {unix.PROT_EXEC, "PROT_EXEC"},
		{unix.PROT_GROWSDOWN, "PROT_GROWSDOWN"}, {unix.PROT_GROWSUP, "PROT_GROWSUP"}}
	mapFlags = []flag{{unix.MAP_FIXED, "MAP_FIXED"}, {unix.MAP_ANONYMOUS, "MAP_ANONYMOUS"},
		{unix.MAP_GROWSDOWN, "MAP_GROWSDOWN"}, {unix.MAP_DENYWRITE, "MAP_DENYWRITE"}, {unix.MAP_EXECUTABLE, "MAP_EXECUTABLE"},
		{unix.MAP_LOCKED, "MAP_LOCKED"}, {unix.MAP_NORESERVE, "MAP_NORESERVE"}, {unix.MAP_POPULATE, "MAP_POPULATE"},
		{unix.MAP_NONBLOCK, "MAP_NONBLOCK"}, {unix.MAP_STACK, "MAP_STACK"}, {unix.MAP_HUGETLB, "MAP_HUGETLB"},
		{unix.MAP_FIXED_NOREPLACE, "MAP_FIXED_NOREPLACE"}}
	openFlags = []flag{{unix.O_CREAT, "O_CREAT"}, {unix.O_EXCL, "O_EXCL"}, {unix.O_NOCTTY, "O_NOCTTY"},
		{unix.O_TRUNC, "O_TRUNC"}, {unix.O_APPEND, "O_APPEND"}, {unix.O_NONBLOCK, "O_NONBLOCK"}, {unix.O_DSYNC, "O_DSYNC"},
		{unix.O_DIRECT, "O_DIRECT"}, {unix.O_LARGEFILE, "O_LARGEFILE"}, {unix.O_DIRECTORY, "O_DIRECTORY"},
		{unix.O_NOFOLLOW, "O_NOFOLLOW"}, {unix.O_NOATIME, "O_NOATIME"}, {unix.O_CLOEXEC, "O_CLOEXEC"},
		{unix.O_PATH, "O_PATH"}, {unix.O_TMPFILE &^ unix.O_DIRECTORY, "O_TMPFILE"}}
	msFlags = []flag{{unix.MS_ASYNC, "MS_ASYNC"}, {unix.MS_INVALIDATE, "MS_INVALIDATE"}, {unix.MS_SYNC, "MS_SYNC"}}
	saFlags = []flag{{SANoCldStop, "SA_NOCLDSTOP"}, {SANoCldWait, "SA_NOCLDWAIT"}, {SASiginfo, "SA_SIGINFO"},
		{SARestorer, "SA_RESTORER"}, {SAOnStack, "SA_ONSTACK"}, {SARestart, "SA_RESTART"}, {SANoDefer, "SA_NODEFER"},
		{SAResetHand, "SA_RESETHAND"}}
	cloneFlags = []flag{{unix.CLONE_VM, "CLONE_VM"}, {unix.CLONE_FS, "CLONE_FS"}, {unix.CLONE_FILES, "CLONE_FILES"},
		{unix.CLONE_SIGHAND, "CLONE_SIGHAND"}, {unix.CLONE_PIDFD, "CLONE_PIDFD"}, {unix.CLONE_PTRACE, "CLONE_PTRACE"},
		{unix.CLONE_VFORK, "CLONE_VFORK"}, {unix.CLONE_PARENT, "CLONE_PARENT"}, {unix.CLONE_THREAD, "CLONE_THREAD"},
		{unix.CLONE_NEWNS, "CLONE_NEWNS"}, {unix.CLONE_SYSVSEM, "CLONE_SYSVSEM"}, {unix.CLONE_SETTLS, "CLONE_SETTLS"},
		{unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID"}, {unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID"},
		{unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID"}}
	waitFlags = []flag{{unix.WNOHANG, "WNOHANG"}, {unix.WUNTRACED, "WUNTRACED"}, {unix.WCONTINUED, "WCONTINUED"},
		{unix.WALL, "__WALL"}, {unix.WCLONE, "__WCLONE"}, {unix.WNOTHREAD, "__WNOTHREAD"}}
)

// flags prints v as names joined by |, with any unknown bits in hex;
// zero prints as zero.
func flags(v uint64, set []flag, zero string) string {
	if v == 0 {
		return zero
	}
	var parts []string
	for _, f := range set {
		if f.v != 0 && v&f.v == f.v {
			parts = append(parts, f.name)
			v &^= f.v
		}
	}
	if v != 0 {
		parts = append(parts, fmt.Sprintf("%#x", v))
	}
	return strings.Join(parts, "|")
}

// ProtString spells mmap's and mprotect's prot argument: "PROT_READ|PROT_WRITE".
func ProtString(prot uint64) string { return flags(prot, protFlags, "PROT_NONE") }

// MapFlagsString spells mmap's flags argument: "MAP_PRIVATE|MAP_ANONYMOUS".
func MapFlagsString(f uint64) string {
	kind := "MAP_PRIVATE"
	switch f & unix.MAP_TYPE {
	case unix.MAP_SHARED:
		kind = "MAP_SHARED"
	case unix.MAP_SHARED_VALIDATE:
		kind = "MAP_SHARED_VALIDATE"
	case unix.MAP_PRIVATE:
	default:
		kind = fmt.Sprintf("%#x", f&unix.MAP_TYPE)
	}
	if rest := f &^ unix.MAP_TYPE; rest != 0 {
		return kind + "|" + flags(rest, mapFlags, "")
	}
	return kind
}

func openFlagsString(f uint64) string {
	var acc string
	switch f & unix.O_ACCMODE {
	case unix.O_RDONLY:
		acc = "O_RDONLY"
	case unix.O_WRONLY:
		acc = "O_WRONLY"
	case unix.O_RDWR:
		acc = "O_RDWR"
	default:
		acc = fmt.Sprintf("%#x", f&unix.O_ACCMODE)
	}
	if rest := f &^ unix.O_ACCMODE; rest != 0 {
		return acc + "|" + flags(rest, openFlags, "")
	}
	return acc
}

func signalName(s syscall.Signal) string {
	if n := unix.SignalName(s); n != "" {
		return n
	}
	if s >= 34 && s <= 64 {
		return "SIGRT_" + strconv.Itoa(int(s)-34)
	}
	return strconv.Itoa(int(s))
}

// SignalName is the C name of a signal: "SIGSEGV".
func SignalName(s syscall.Signal) string { return signalName(s) }

// sigset prints a set of signals as strace does: "[SEGV BUS]", "[]", "~[]".
func sigset(m uint64) string {
	if m == ^uint64(0) {
		return "~[]"
	}
	var names []string
	for i := uint(0); i < 64; i++ {
		if m&(1<<i) != 0 {
			names = append(names, strings.TrimPrefix(signalName(syscall.Signal(i+1)), "SIG"))
		}
	}
	return "[" + strings.Join(names, " ") + "]"
}

// SigsetString prints a signal mask (bit n-1 is signal n): "[SEGV BUS]".
func SigsetString(m uint64) string { return sigset(m) }

func codeName(sig syscall.Signal, c int32) string {
	switch c {
	case siUser:
		return "SI_USER"
	case siKernel:
		return "SI_KERNEL"
	case siQueue:
		return "SI_QUEUE"
	case -2:
		return "SI_TIMER"
	case -3:
		return "SI_MESGQ"
	case -4:
		return "SI_ASYNCIO"
	case -5:
		return "SI_SIGIO"
	case siTkill:
		return "SI_TKILL"
	}
	var names []string
	switch sig {
	case syscall.SIGSEGV:
		names = []string{1: "SEGV_MAPERR", 2: "SEGV_ACCERR", 3: "SEGV_BNDERR", 4: "SEGV_PKUERR", 5: "SEGV_ACCADI", 6: "SEGV_ADIDERR", 7: "SEGV_ADIPERR", 8: "SEGV_MTEAERR", 9: "SEGV_MTESERR", 10: "SEGV_CPERR"}
	case syscall.SIGBUS:
		names = []string{1: "BUS_ADRALN", 2: "BUS_ADRERR", 3: "BUS_OBJERR", 4: "BUS_MCEERR_AR", 5: "BUS_MCEERR_AO"}
	case syscall.SIGILL:
		names = []string{1: "ILL_ILLOPC", 2: "ILL_ILLOPN", 3: "ILL_ILLADR", 4: "ILL_ILLTRP", 5: "ILL_PRVOPC", 6: "ILL_PRVREG", 7: "ILL_COPROC", 8: "ILL_BADSTK"}
	case syscall.SIGFPE:
		names = []string{1: "FPE_INTDIV", 2: "FPE_INTOVF", 3: "FPE_FLTDIV", 4: "FPE_FLTOVF", 5: "FPE_FLTUND", 6: "FPE_FLTRES", 7: "FPE_FLTINV", 8: "FPE_FLTSUB"}
	case syscall.SIGTRAP:
		names = []string{1: "TRAP_BRKPT", 2: "TRAP_TRACE", 3: "TRAP_BRANCH", 4: "TRAP_HWBKPT"}
	case syscall.SIGCHLD:
		names = []string{1: "CLD_EXITED", 2: "CLD_KILLED", 3: "CLD_DUMPED", 4: "CLD_TRAPPED", 5: "CLD_STOPPED", 6: "CLD_CONTINUED"}
	}
	if c > 0 && int(c) < len(names) && names[c] != "" {
		return names[c]
	}
	return strconv.Itoa(int(c))
}

// ErrnoName is the C name of an errno: "EINVAL".
func ErrnoName(e syscall.Errno) string {
	if n := unix.ErrnoName(e); n != "" {
		return n
	}
	return strconv.Itoa(int(e))
}

func hex(v uint64) string { return fmt.Sprintf("%#x", v) }

func ptr(v uint64) string {
	if v == 0 {
		return "NULL"
	}
	return hex(v)
}

func fd(v uint64) string {
	n := int32(v)
	if n == unix.AT_FDCWD {
		return "AT_FDCWD"
	}
	return strconv.Itoa(int(n))
}

func dec(v uint64) string { return strconv.FormatInt(int64(v), 10) }

func intArg(v uint64) string { return strconv.Itoa(int(int32(v))) }

// quote prints data as a C string, strace's way: at most 32 bytes, then
// "..." if there was more.
func quote(data []byte, total uint64) string {
	const show = 32
	var b strings.Builder
	b.WriteByte('"')
	for i, c := range data {
		if i == show {
			break
		}
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, `\%o`, c)
		}
	}
	b.WriteByte('"')
	if total > show {
		b.WriteString("...")
	}
	return b.String()
}

func path(s *Syscall) string { return strconv.Quote(s.Path) }

// argCounts are the number of arguments of calls printed as raw values.
var argCounts = map[string]int{
	"getpid": 0, "getppid": 0, "gettid": 0, "getuid": 0, "geteuid": 0, "getgid": 0, "getegid": 0,
	"sched_yield": 0, "pause": 0, "setsid": 0, "fork": 0, "vfork": 0, "sync": 0,
	"brk": 1, "set_tid_address": 1, "uname": 1, "umask": 1, "sysinfo": 1, "fsync": 1, "fdatasync": 1,
	"close": 1, "dup": 1, "alarm": 1, "getpgid": 1, "chdir": 1, "rmdir": 1, "unlink": 1, "exit": 1, "exit_group": 1,
	"arch_prctl": 2, "set_robust_list": 2, "fstat": 2, "nanosleep": 2, "setpgid": 2, "dup2": 2, "mkdir": 2,
	"access": 2, "rename": 2, "stat": 2, "lstat": 2, "munmap": 2, "kill": 2, "tkill": 2, "sigaltstack": 2,
	"getrandom": 3, "ioctl": 3, "fcntl": 3, "poll": 3, "faccessat": 3, "unlinkat": 3, "dup3": 3, "tgkill": 3,
	"lseek": 3, "read": 3, "mprotect": 3, "madvise": 3, "msync": 3, "socket": 3, "readlink": 3,
	"rseq": 4, "prlimit64": 4, "newfstatat": 4, "fstatat": 4, "clock_nanosleep": 4, "fallocate": 4, "sendfile": 4,
	"renameat": 4, "wait4": 4, "rt_sigaction": 4, "rt_sigprocmask": 4, "pread64": 4, "pwrite64": 4,
	"select": 5, "statx": 5, "waitid": 5, "prctl": 5,
	"futex": 6, "copy_file_range": 6,
}

func rawArgs(s *Syscall) string {
	n, ok := argCounts[s.Name]
	if !ok {
		n = 6
	}
	parts := make([]string, n)
	for i := range parts {
		parts[i] = hex(s.Args[i])
	}
	return strings.Join(parts, ", ")
}

// formatArgs prints a call's arguments the way strace does for the calls
// the exercises are about, and raw for the others.
func formatArgs(s *Syscall) string {
	a := s.Args
	j := func(parts ...string) string { return strings.Join(parts, ", ") }
	switch s.Name {
	case "mmap":
		return j(ptr(a[0]), dec(a[1]), ProtString(a[2]), MapFlagsString(a[3]), intArg(a[4]), dec(a[5]))
	case "mprotect":
		return j(ptr(a[0]), dec(a[1]), ProtString(a[2]))
	case "munmap":
		return j(ptr(a[0]), dec(a[1]))
	case "msync":
		return j(ptr(a[0]), dec(a[1]), flags(a[2], msFlags, "0"))
	case "read", "pread64":
		out := j(intArg(a[0]), hex(a[1]), dec(a[2]))
		if s.Name == "pread64" {
			out += ", " + dec(a[3])
		}
		return out
	case "write", "pwrite64":
		out := j(intArg(a[0]), quote(s.Data, a[2]), dec(a[2]))
		if s.Name == "pwrite64" {
			out += ", " + dec(a[3])
		}
		return out
	case "open":
		out := j(path(s), openFlagsString(a[1]))
		if a[1]&unix.O_CREAT != 0 {
			out += fmt.Sprintf(", %#o", a[2])
		}
		return out
	case "openat":
		out := j(fd(a[0]), path(s), openFlagsString(a[2]))
		if a[2]&unix.O_CREAT != 0 {
			out += fmt.Sprintf(", %#o", a[3])
		}
		return out
	case "creat":
		return j(path(s), fmt.Sprintf("%#o", a[1]))
	case "close", "fsync", "fdatasync", "dup":
		return intArg(a[0])
	case "lseek":
		whence := map[uint64]string{unix.SEEK_SET: "SEEK_SET", unix.SEEK_CUR: "SEEK_CUR", unix.SEEK_END: "SEEK_END", unix.SEEK_DATA: "SEEK_DATA", unix.SEEK_HOLE: "SEEK_HOLE"}[a[2]]
		if whence == "" {
			whence = dec(a[2])
		}
		return j(intArg(a[0]), dec(a[1]), whence)
	case "ftruncate":
		return j(intArg(a[0]), dec(a[1]))
	case "truncate":
		return j(path(s), dec(a[1]))
	case "fallocate":
		return j(intArg(a[0]), hex(a[1]), dec(a[2]), dec(a[3]))
	case "rt_sigaction":
		act := "NULL"
		if s.Action != nil {
			act = s.Action.String()
		} else if a[1] != 0 {
			act = hex(a[1])
		}
		return j(signalName(syscall.Signal(a[0])), act, ptr(a[2]), dec(a[3]))
	case "rt_sigprocmask":
		how := map[uint64]string{unix.SIG_BLOCK: "SIG_BLOCK", unix.SIG_UNBLOCK: "SIG_UNBLOCK", unix.SIG_SETMASK: "SIG_SETMASK"}[a[0]]
		if how == "" {
			how = dec(a[0])
		}
		set := "NULL"
		if s.Set != nil {
			set = sigset(*s.Set)
		} else if a[1] != 0 {
			set = hex(a[1])
		}
		return j(how, set, ptr(a[2]), dec(a[3]))
	case "rt_sigreturn", "fork", "vfork", "getpid", "getppid", "pause", "setsid":
		return ""
	case "kill":
		return j(intArg(a[0]), signalName(syscall.Signal(a[1])))
	case "tkill":
		return j(intArg(a[0]), signalName(syscall.Signal(a[1])))
	case "tgkill":
		return j(intArg(a[0]), intArg(a[1]), signalName(syscall.Signal(a[2])))
	case "wait4":
		st := ptr(a[1])
		if s.Status != nil {
			st = s.Status.String()
		}
		ru := ptr(a[3])
		return j(intArg(a[0]), st, flags(a[2], waitFlags, "0"), ru)
	case "clone":
		return "flags=" + cloneFlagsString(s.CloneFlags)
	case "clone3":
		return "{flags=" + cloneFlagsString(s.CloneFlags) + "}, " + dec(a[1])
	case "execve":
		return path(s) + ", ..."
	case "exit", "exit_group":
		return intArg(a[0])
	case "pipe", "pipe2":
		out := fmt.Sprintf("[%d, %d]", s.FDs[0], s.FDs[1])
		if !s.OK() {
			out = hex(a[0])
		}
		if s.Name == "pipe2" {
			out += ", " + openFlagsString(a[1])
		}
		return out
	case "dup2":
		return j(intArg(a[0]), intArg(a[1]))
	case "dup3":
		return j(intArg(a[0]), intArg(a[1]), openFlagsString(a[2]))
	case "unlink", "mkdir", "rmdir", "chdir", "access", "stat", "lstat":
		return path(s) + ", ..."
	case "unlinkat", "mkdirat", "newfstatat", "fstatat", "faccessat", "faccessat2", "statx", "readlinkat":
		return j(fd(a[0]), path(s)) + ", ..."
	}
	return rawArgs(s)
}

func cloneFlagsString(f uint64) string {
	sig := f & 0xff
	rest := flags(f&^0xff, cloneFlags, "")
	if sig != 0 {
		if rest != "" {
			rest += "|"
		}
		rest += signalName(syscall.Signal(sig))
	}
	if rest == "" {
		return "0"
	}
	return rest
}

func formatResult(s *Syscall) string {
	if !s.Done {
		return "?"
	}
	if e := s.Errno(); e != 0 {
		return fmt.Sprintf("-1 %s (%s)", ErrnoName(e), e.Error())
	}
	switch s.Name {
	case "mmap", "brk", "rt_sigreturn":
		return hex(uint64(s.Ret))
	}
	return strconv.FormatInt(s.Ret, 10)
}

func formatSyscall(s *Syscall) string {
	return fmt.Sprintf("%s(%s) = %s", s.Name, formatArgs(s), formatResult(s))
}

func formatSigaction(a *Sigaction) string {
	h := hex(a.Handler)
	switch a.Handler {
	case SigDefault:
		h = "SIG_DFL"
	case SigIgnore:
		h = "SIG_IGN"
	}
	out := fmt.Sprintf("{sa_handler=%s, sa_mask=%s, sa_flags=%s", h, sigset(a.Mask), flags(a.Flags, saFlags, "0"))
	if a.Flags&SARestorer != 0 {
		out += ", sa_restorer=" + hex(a.Restorer)
	}
	return out + "}"
}

func formatSignal(s *Signal) string {
	info := fmt.Sprintf("si_signo=%s, si_code=%s", signalName(s.Signo), codeName(s.Signo, s.Code))
	switch {
	case s.Code <= 0 || s.Signo == syscall.SIGCHLD:
		info += fmt.Sprintf(", si_pid=%d, si_uid=%d", s.SenderPID, s.SenderUID)
	case s.Signo == syscall.SIGSEGV || s.Signo == syscall.SIGBUS || s.Signo == syscall.SIGILL || s.Signo == syscall.SIGFPE || s.Signo == syscall.SIGTRAP:
		info += ", si_addr=" + ptr(s.Addr)
	}
	out := fmt.Sprintf("--- %s {%s} ---", signalName(s.Signo), info)
	var notes []string
	if s.Access.Known {
		notes = append(notes, s.Access.String()+" access")
	}
	if s.Blocked {
		notes = append(notes, "blocked")
	}
	if s.Handler != 0 {
		notes = append(notes, "to the handler at "+hex(s.Handler))
	}
	if len(notes) > 0 {
		out += " (" + strings.Join(notes, "; ") + ")"
	}
	return out
}
