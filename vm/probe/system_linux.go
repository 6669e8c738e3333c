//go:build linux

package probe

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// Capabilities the probe needs. CAP_BPF and CAP_PERFMON exist since Linux
// 5.8; before that CAP_SYS_ADMIN was the only way.
const (
	capSysAdmin = unix.CAP_SYS_ADMIN
	capPerfmon  = unix.CAP_PERFMON
	capBPF      = unix.CAP_BPF
)

// capSet is the effective capability set of the calling thread.
type capSet [2]uint32

func (c capSet) has(bit int) bool { return c[bit/32]&(1<<(bit%32)) != 0 }

// canTrace reports whether the set allows loading and attaching a tracing
// program.
func (c capSet) canTrace() bool {
	return c.has(capSysAdmin) || (c.has(capBPF) && c.has(capPerfmon))
}

// missing names the capabilities the probe needs that the set lacks.
func (c capSet) missing() string {
	var lack []string
	for _, n := range []struct {
		bit  int
		name string
	}{{capBPF, "CAP_BPF"}, {capPerfmon, "CAP_PERFMON"}} {
		if !c.has(n.bit) {
			lack = append(lack, n.name)
		}
	}
	return strings.Join(lack, " and ")
}

// effectiveCaps reads the calling thread's effective capabilities.
// Capabilities are per thread in Linux; the Go runtime changes them for
// all threads at once (setuid and friends), so any thread will do.
func effectiveCaps() (capSet, error) {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return capSet{}, os.NewSyscallError("capget", err)
	}
	return capSet{data[0].Effective, data[1].Effective}, nil
}

// kernelRelease returns uname -r and its major and minor numbers.
func kernelRelease() (string, int, int) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "unknown", 0, 0
	}
	rel := unix.ByteSliceToString(u.Release[:])
	var maj, min int
	fmt.Sscanf(rel, "%d.%d", &maj, &min)
	return rel, maj, min
}

// raiseMemlock lifts RLIMIT_MEMLOCK on kernels before 5.11, where BPF maps
// and programs are charged to it instead of the memory cgroup. It runs
// lazily from Open, never at start-up, and is a no-op on newer kernels. Its
// failure is not reported here: a later EPERM is.
func raiseMemlock() {
	if _, maj, min := kernelRelease(); maj > 5 || (maj == 5 && min >= 11) {
		return
	}
	inf := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	_ = unix.Setrlimit(unix.RLIMIT_MEMLOCK, &inf)
}

// Where tracefs is usually mounted.
const (
	tracefsDir      = "/sys/kernel/tracing"
	debugTracefsDir = "/sys/kernel/debug/tracing"
	eventDir        = "events/exceptions/"
)

// findTracefs returns the directory where tracefs is mounted: the first
// tracefs in /proc/self/mountinfo, else the usual places. If it is nowhere
// and mount is set, it mounts tracefs at /sys/kernel/tracing (that needs
// CAP_SYS_ADMIN) and leaves it mounted, as systemd would have.
func findTracefs(mount bool) (string, error) {
	if b, err := os.ReadFile("/proc/self/mountinfo"); err == nil {
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			// id parent major:minor root mountpoint opts... - fstype src opts
			pre, post, ok := strings.Cut(sc.Text(), " - ")
			if !ok {
				continue
			}
			f, g := strings.Fields(pre), strings.Fields(post)
			if len(f) >= 5 && len(g) >= 1 && g[0] == "tracefs" && f[3] == "/" {
				return f[4], nil
			}
		}
	}
	for _, d := range []string{tracefsDir, debugTracefsDir} {
		var st unix.Statfs_t
		if unix.Statfs(d, &st) == nil && st.Type == unix.TRACEFS_MAGIC {
			return d, nil
		}
	}
	if !mount {
		return "", errors.New("tracefs is not mounted")
	}
	if err := unix.Mount("nodev", tracefsDir, "tracefs", 0, ""); err != nil {
		return "", fmt.Errorf("tracefs is not mounted, and mounting it at %s failed: %w", tracefsDir, err)
	}
	return tracefsDir, nil
}

// readLayout reads the record layout of the tracepoints exceptions:EVENT
// for each of events from tracefs, and checks they are the same (one
// program reads them all). The error says whether tracefs or an event is
// missing, or the layouts differ.
func readLayout(mount bool, events ...string) (layout, error) {
	dir, err := findTracefs(mount)
	if err != nil {
		return layout{}, err
	}
	var first layout
	for i, ev := range events {
		path := filepath.Join(dir, eventDir, ev, "format")
		b, err := os.ReadFile(path)
		if err != nil {
			return layout{}, err
		}
		l, err := pageFaultLayout(string(b))
		if err != nil {
			return layout{}, fmt.Errorf("%s: %w", path, err)
		}
		if i == 0 {
			first = l
		} else if l != first {
			return layout{}, fmt.Errorf("%s: %w: %+v, but %s has %+v", path, errLayout, l, events[0], first)
		}
	}
	return first, nil
}
