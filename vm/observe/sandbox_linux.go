//go:build linux

package observe

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Nobody is the user and group id the program runs as when vmsim is root
// and no Credential is given, if the system has no user "nobody".
const Nobody = 65534

// resolveCredential says who the program runs as: nil means the caller.
func resolveCredential(c *Credential) (*Credential, error) {
	uid := uint32(os.Geteuid())
	if uid != 0 {
		if c != nil && (c.UID != uid || c.GID != uint32(os.Getegid())) {
			return nil, fmt.Errorf("observe: run as uid %d gid %d: only root can run a program as another user (vmsim runs as uid %d): %w", c.UID, c.GID, uid, ErrPermission)
		}
		return nil, nil
	}
	if c == nil {
		c = &Credential{UID: Nobody, GID: Nobody}
		if u, err := user.Lookup("nobody"); err == nil {
			uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
			gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
			if err1 == nil && err2 == nil {
				c = &Credential{UID: uint32(uid), GID: uint32(gid)}
			}
		}
	}
	if c.UID == 0 {
		return nil, fmt.Errorf("observe: will not run an untrusted program as root (uid 0): give another user: %w", ErrPermission)
	}
	return c, nil
}

// sysCredential is the credential ForkExec switches to, with no
// supplementary groups.
func sysCredential(c *Credential) *syscall.Credential {
	if c == nil {
		return nil
	}
	return &syscall.Credential{Uid: c.UID, Gid: c.GID, Groups: []uint32{}}
}

// giveTo makes everything under dir belong to c (nothing if c is nil).
func giveTo(dir string, c *Credential) error {
	if c == nil {
		return nil
	}
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, int(c.UID), int(c.GID))
	})
}

// removeAll removes dir, even where the program took away the write or
// search permission of a directory in it.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err == nil {
		return nil
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			os.Chmod(p, 0o700)
		} else if err != nil && errors.Is(err, fs.ErrPermission) {
			os.Chmod(p, 0o700)
		}
		return nil
	})
	return os.RemoveAll(dir)
}

// copyExecutable copies the program to a fresh directory that the
// program's user can enter, readable and executable by everyone and
// writable by none, and returns the copy's path and the directory.
func copyExecutable(path string) (string, string, error) {
	src, err := os.Open(path)
	if err != nil {
		return "", "", err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return "", "", err
	}
	if !info.Mode().IsRegular() {
		return "", "", &os.PathError{Op: "run", Path: path, Err: errors.New("not a regular file")}
	}
	dir, err := os.MkdirTemp("", "vmsim-bin-")
	if err != nil {
		return "", "", err
	}
	dst := filepath.Join(dir, filepath.Base(path))
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o555)
	if err == nil {
		_, err = io.Copy(out, src)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Chmod(dir, 0o755)
	}
	if err != nil {
		os.RemoveAll(dir)
		return "", "", err
	}
	return dst, dir, nil
}

// nprocRoom is the room RLIMIT_NPROC leaves for other runs as the same
// user, beyond the user's tasks when the program starts and its own
// Limits.Processes.
const nprocRoom = 1024

// tasksOf counts the tasks (processes and threads) whose real user id is
// uid: RLIMIT_NPROC counts them all.
func tasksOf(uid uint32) int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	n := 0
	want := strconv.FormatUint(uint64(uid), 10)
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		s := string(b)
		i := strings.Index(s, "\nUid:\t")
		if i < 0 {
			continue
		}
		fields := strings.Fields(s[i+6:])
		if len(fields) == 0 || fields[0] != want {
			continue
		}
		threads := 1
		if j := strings.Index(s, "\nThreads:\t"); j >= 0 {
			if f := strings.Fields(s[j+10:]); len(f) > 0 {
				threads, _ = strconv.Atoi(f[0])
			}
		}
		n += threads
	}
	return n
}

// errPoisoned says that the tracing thread could not take back its own
// credentials: it must not run anything else.
var errPoisoned = errors.New("observe: the tracing thread could not restore its credentials")

// asUser runs fn with the calling thread's real and effective user and
// group ids set to c, its saved ids left as they are (root), so that it
// can come back. Credentials are per thread in the kernel: the raw system
// calls change this thread only, which must be locked. prlimit on a
// process of another user needs this or CAP_SYS_RESOURCE, which root in a
// container may lack. New Go threads are not cloned from a locked thread,
// so none inherits the borrowed ids.
func asUser(c *Credential, fn func() error) error {
	const keep = ^uintptr(0) // -1: unchanged
	gid := uintptr(os.Getegid())
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(c.GID), uintptr(c.GID), keep); e != 0 {
		return fmt.Errorf("observe: setresgid(%d) on the tracing thread: %w", c.GID, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(c.UID), uintptr(c.UID), keep); e != 0 {
		if _, _, e2 := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, keep); e2 != 0 {
			return errPoisoned
		}
		return fmt.Errorf("observe: setresuid(%d) on the tracing thread: %w", c.UID, e)
	}
	err := fn()
	// The user id first: it brings back the capabilities that setting
	// the group id needs.
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, 0, 0, keep); e != 0 {
		return errPoisoned
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, gid, gid, keep); e != 0 {
		return errPoisoned
	}
	return err
}

// setLimits sets the rlimits of the stopped process pid, before its
// first instruction, as the program's user when it is not the caller.
func setLimits(pid int, l Limits, cred *Credential) error {
	if cred == nil {
		return setLimitsOf(pid, l, uint32(os.Getuid()))
	}
	return asUser(cred, func() error { return setLimitsOf(pid, l, cred.UID) })
}

func setLimitsOf(pid int, l Limits, uid uint32) error {
	cpu := uint64((l.CPU + 999_999_999) / 1_000_000_000)
	// RLIMIT_NPROC counts every task of the user, those of other runs as
	// the same user included (a class graded in parallel, all as nobody):
	// a limit of what runs now plus Limits.Processes would make a fork
	// fail whenever another run grows meanwhile. It is a backstop only:
	// the tracer holds each new process stopped until it has counted it,
	// and ends the program past Limits.Processes. So it leaves room.
	nproc := uint64(tasksOf(uid) + l.Processes + nprocRoom)
	for _, r := range []struct {
		res      int
		name     string
		cur, max uint64
	}{
		{unix.RLIMIT_CPU, "RLIMIT_CPU", cpu, cpu + 1},
		{unix.RLIMIT_AS, "RLIMIT_AS", l.AddressSpace, l.AddressSpace},
		{unix.RLIMIT_FSIZE, "RLIMIT_FSIZE", l.FileSize, l.FileSize},
		{unix.RLIMIT_NOFILE, "RLIMIT_NOFILE", l.OpenFiles, l.OpenFiles},
		{unix.RLIMIT_NPROC, "RLIMIT_NPROC", nproc, nproc},
		{unix.RLIMIT_CORE, "RLIMIT_CORE", 0, 0},
	} {
		lim := unix.Rlimit{Cur: r.cur, Max: r.max}
		if err := unix.Prlimit(pid, r.res, &lim, nil); err != nil {
			// An unprivileged caller cannot raise a hard limit above its
			// own: keep the lower one.
			var old unix.Rlimit
			if gerr := unix.Prlimit(pid, r.res, nil, &old); gerr == nil && old.Max < r.max {
				lim = unix.Rlimit{Cur: min(r.cur, old.Max), Max: old.Max}
				err = unix.Prlimit(pid, r.res, &lim, nil)
			}
			if err != nil {
				return fmt.Errorf("observe: set %s of pid %d: %w", r.name, pid, os.NewSyscallError("prlimit", err))
			}
		}
	}
	return nil
}

// ptraceHint says why the kernel may refuse ptrace.
func ptraceHint() string {
	b, err := os.ReadFile("/proc/sys/kernel/yama/ptrace_scope")
	if err != nil {
		return "a seccomp profile or security module forbids ptrace (in a container, allow the ptrace system call)"
	}
	switch strings.TrimSpace(string(b)) {
	case "2":
		return "kernel.yama.ptrace_scope is 2: only root may trace (sysctl kernel.yama.ptrace_scope=1 allows tracing one's own children)"
	case "3":
		return "kernel.yama.ptrace_scope is 3: ptrace is disabled until reboot"
	}
	return "a seccomp profile or security module forbids ptrace (in a container, allow the ptrace system call)"
}
