//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Counters reads the kernel's software page-fault counters without
// privilege: perf's PAGE_FAULTS, PAGE_FAULTS_MIN and PAGE_FAULTS_MAJ for
// one thread, and getrusage for the thread and the process. It is the
// fallback when the eBPF [Probe] cannot be loaded, and works on its own.
//
// The perf counters count the OS thread that called [OpenCounters], not a
// goroutine: call runtime.LockOSThread before OpenCounters, make the
// accesses to be counted on that goroutine, and keep the thread locked
// until Close. Read must be called from that thread too.
type Counters struct {
	tid     int
	perfErr error

	// mu guards the fields below.
	mu     sync.Mutex
	closed bool
	// leader is the PAGE_FAULTS event, the group leader; members are
	// PAGE_FAULTS_MIN and _MAJ. All -1 without perf.
	leader, min, maj int
	buf              [8 * 4]byte
}

// OpenCounters starts counting the calling thread's page faults. Where perf
// events are not allowed (kernel.perf_event_paranoid above 2, a seccomp
// filter) or not built in, the counters still work with getrusage alone:
// [Counters.PerfErr] says why perf is missing, and samples have Perf false.
// The error is for failures other than perf's.
func OpenCounters() (*Counters, error) {
	c := &Counters{tid: unix.Gettid(), leader: -1, min: -1, maj: -1}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return nil, &Error{Op: "getrusage", Err: os.NewSyscallError("getrusage", err)}
	}
	c.perfErr = c.openPerf()
	return c, nil
}

// openPerf opens the three software events as one group, so that one read
// returns all three at the same instant. User-mode faults only
// (exclude_kernel), which unprivileged processes may count at the default
// kernel.perf_event_paranoid of 2.
func (c *Counters) openPerf() error {
	open := func(config uint64, group int) (int, error) {
		attr := unix.PerfEventAttr{
			Type:   unix.PERF_TYPE_SOFTWARE,
			Size:   unix.PERF_ATTR_SIZE_VER0,
			Config: config,
			Bits:   unix.PerfBitExcludeKernel | unix.PerfBitExcludeHv,
		}
		if group < 0 {
			attr.Read_format = unix.PERF_FORMAT_GROUP
		}
		return unix.PerfEventOpen(&attr, 0, -1, group, unix.PERF_FLAG_FD_CLOEXEC)
	}
	var err error
	if c.leader, err = open(unix.PERF_COUNT_SW_PAGE_FAULTS, -1); err != nil {
		c.leader = -1
		return perfError(err)
	}
	if c.min, err = open(unix.PERF_COUNT_SW_PAGE_FAULTS_MIN, c.leader); err == nil {
		c.maj, err = open(unix.PERF_COUNT_SW_PAGE_FAULTS_MAJ, c.leader)
	}
	if err != nil {
		c.closePerf()
		return perfError(err)
	}
	return nil
}

// perfError explains a failed perf_event_open.
func perfError(err error) error {
	paranoid := "unknown"
	if b, rerr := os.ReadFile("/proc/sys/kernel/perf_event_paranoid"); rerr == nil {
		paranoid = strings.TrimSpace(string(b))
	}
	return explainPerf(err, paranoid)
}

// explainPerf explains a failed perf_event_open, given the value of
// kernel.perf_event_paranoid ("unknown" if it could not be read). A refusal
// when the setting allows the event is not the setting's doing: a seccomp
// filter (container runtimes refuse perf_event_open by default) or a
// security module refused it.
func explainPerf(err error, paranoid string) error {
	switch {
	case errors.Is(err, unix.EACCES), errors.Is(err, unix.EPERM):
		if n, perr := strconv.Atoi(paranoid); perr == nil && n <= 2 {
			return &Error{
				Op:      "perf_event_open",
				Missing: "perf_event_open, which a seccomp filter or a security module refuses here (kernel.perf_event_paranoid is " + paranoid + ", which allows it)",
				Kind:    ErrPermission,
				Err:     err,
				Hint:    "run it outside the container, or allow perf_event_open in its seccomp profile",
			}
		}
		return &Error{
			Op:      "perf_event_open",
			Missing: "kernel.perf_event_paranoid at most 2 (it is " + paranoid + ") or CAP_PERFMON",
			Kind:    ErrPermission,
			Err:     err,
			Hint:    "sysctl kernel.perf_event_paranoid=2, or run it as root",
		}
	case errors.Is(err, unix.ENOENT), errors.Is(err, unix.ENOSYS), errors.Is(err, unix.EOPNOTSUPP):
		return &Error{Op: "perf_event_open", Missing: "perf events (CONFIG_PERF_EVENTS)", Kind: ErrNotSupported, Err: err}
	}
	return &Error{Op: "perf_event_open", Err: err}
}

// PerfErr returns why the perf counters are not available, or nil when
// they are. It matches [ErrPermission] or [ErrNotSupported].
func (c *Counters) PerfErr() error { return c.perfErr }

// TID returns the thread the counters count.
func (c *Counters) TID() int { return c.tid }

// Read samples the counters. It must run on the thread that opened them
// (else it fails with [ErrWrongThread]: getrusage(RUSAGE_THREAD) would
// read another thread).
func (c *Counters) Read() (Sample, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return Sample{}, &Error{Op: "read counters", Err: ErrClosed}
	}
	if tid := unix.Gettid(); tid != c.tid {
		return Sample{}, &Error{Op: "read counters", Err: fmt.Errorf("thread %d, opened on %d: %w", tid, c.tid, ErrWrongThread)}
	}
	var s Sample
	if c.leader >= 0 {
		n, err := unix.Read(c.leader, c.buf[:])
		if err != nil {
			return Sample{}, &Error{Op: "read perf counters", Err: os.NewSyscallError("read", err)}
		}
		// u64 nr, then nr values in the order the events were opened.
		if n != len(c.buf) || binary.NativeEndian.Uint64(c.buf[:]) != 3 {
			return Sample{}, &Error{Op: "read perf counters", Err: fmt.Errorf("unexpected group read of %d bytes", n)}
		}
		s.Perf = true
		s.Faults = binary.NativeEndian.Uint64(c.buf[8:])
		s.Minor = binary.NativeEndian.Uint64(c.buf[16:])
		s.Major = binary.NativeEndian.Uint64(c.buf[24:])
	}
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return Sample{}, &Error{Op: "getrusage", Err: os.NewSyscallError("getrusage", err)}
	}
	s.ThreadMinor, s.ThreadMajor = uint64(ru.Minflt), uint64(ru.Majflt)
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return Sample{}, &Error{Op: "getrusage", Err: os.NewSyscallError("getrusage", err)}
	}
	s.ProcessMinor, s.ProcessMajor = uint64(ru.Minflt), uint64(ru.Majflt)
	return s, nil
}

// Close releases the perf events. Later calls fail with ErrClosed.
func (c *Counters) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return &Error{Op: "close counters", Err: ErrClosed}
	}
	c.closed = true
	return c.closePerf()
}

func (c *Counters) closePerf() error {
	var errs []error
	for _, fd := range []*int{&c.maj, &c.min, &c.leader} {
		if *fd >= 0 {
			if err := unix.Close(*fd); err != nil {
				errs = append(errs, os.NewSyscallError("close", err))
			}
			*fd = -1
		}
	}
	return errors.Join(errs...)
}
