//go:build linux

package probe

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// perfAllowed reports whether this process may open per-thread software
// perf events: privileged, or kernel.perf_event_paranoid at most 2.
func perfAllowed(t *testing.T) bool {
	t.Helper()
	if caps, err := effectiveCaps(); err == nil && (caps.has(capPerfmon) || caps.has(capSysAdmin)) {
		return true
	}
	b, err := os.ReadFile("/proc/sys/kernel/perf_event_paranoid")
	if err != nil {
		return false
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err == nil && n <= 2
}

// openCounters opens counters on the calling goroutine's thread, which the
// caller has locked.
func openCounters(t *testing.T) *Counters {
	t.Helper()
	c, err := OpenCounters()
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	if perfAllowed(t) {
		require.NoError(t, c.PerfErr())
	} else {
		require.ErrorIs(t, c.PerfErr(), ErrPermission)
	}
	return c
}

// TestCountersFirstTouch writes fresh pages and checks every counter
// moved by at least the pages written: the thread's own faults (the Go
// runtime's included) come on top, so the check is a lower bound, and the
// relations between the counters are exact.
func TestCountersFirstTouch(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := openCounters(t)
	r := newAnonymous(t, testPages, arch.ProtReadWrite)
	before, err := c.Read()
	require.NoError(t, err)
	writeAll(r)
	after, err := c.Read()
	require.NoError(t, err)
	d := after.Sub(before)

	assert.GreaterOrEqual(t, d.ThreadMinor, uint64(testPages))
	assert.GreaterOrEqual(t, d.ProcessMinor, d.ThreadMinor, "the process counts this thread and the others")
	if d.Perf {
		assert.GreaterOrEqual(t, d.Faults, uint64(testPages))
		assert.Equal(t, d.Faults, d.Minor+d.Major, "no fault became a signal")
		assert.Zero(t, d.Signals())
	}
}

// TestCountersSignals catches faults in user space: perf's PAGE_FAULTS
// counts them, PAGE_FAULTS_MIN and getrusage's minflt do not.
func TestCountersSignals(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := openCounters(t)
	if err := c.PerfErr(); err != nil {
		vmtest.Missing(t, "perf events ("+err.Error()+")")
	}
	r := newAnonymous(t, testPages, arch.ProtNone)
	pg := &pager{r: r, grant: grantRW}
	reg := register(t, pg)
	b, ps := r.Bytes(), int(r.PageSize())
	before, err := c.Read()
	require.NoError(t, err)
	for i := range testPages {
		require.NoError(t, reg.Do(arch.AccessWrite, func() { b[i*ps] = 1 }))
	}
	after, err := c.Read()
	require.NoError(t, err)
	d := after.Sub(before)

	require.Equal(t, testPages, pg.faults)
	// Each page: one fault that became SIGSEGV, one that populated it.
	assert.GreaterOrEqual(t, d.Faults, uint64(2*testPages))
	assert.Equal(t, uint64(testPages), d.Signals(), "faults that are neither minor nor major: the signals (%+v)", d)
	// getrusage also counts faults taken in kernel mode (the kernel
	// writing a signal frame or a syscall's result to a fresh page), which
	// perf here excludes; but not the signals.
	assert.GreaterOrEqual(t, d.ThreadMinor, d.Minor)
	assert.Less(t, d.ThreadMinor, d.Faults, "getrusage's minflt misses the %d faults that became signals (%+v)", testPages, d)
}

// TestPerfMatchesProbe checks that perf's PAGE_FAULTS for a thread equals
// the probe's count of that thread's faults, over the whole address space
// and the same window: the two see the same kernel events.
func TestPerfMatchesProbe(t *testing.T) {
	for _, a := range attachModes {
		t.Run("attach="+a.String(), func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c := openCounters(t)
			require.NoError(t, c.PerfErr())
			everything := []Range{{Label: "address space", Range: arch.Range{Start: 0, End: ^arch.Addr(0)}}}
			p := openProbe(t, &Options{Ranges: everything, Events: true, Attach: a})
			r := newAnonymous(t, testPages, arch.ProtNone)
			pg := &pager{r: r, grant: grantRW}
			reg := register(t, pg)
			b, ps := r.Bytes(), int(r.PageSize())

			// perf's window is bracketed by two of the probe's: the inner one
			// opens after the first counter read and closes before the
			// second, the outer one opens before the first and closes after
			// the second. A fault between a counter read and a clock read
			// (Go's own code touching a fresh page) is in perf's window on
			// one side and not the other, so perf's count lies between the
			// two, which differ by those few faults only.
			now := func() uint64 {
				var ts unix.Timespec
				require.NoError(t, unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts))
				return uint64(ts.Nano())
			}
			outerFrom := now()
			before, err := c.Read()
			require.NoError(t, err)
			innerFrom := now()
			for i := range testPages {
				require.NoError(t, reg.Do(arch.AccessWrite, func() { b[i*ps] = 1 }))
			}
			innerTo := now()
			after, err := c.Read()
			require.NoError(t, err)
			outerTo := now()
			d := after.Sub(before)

			events, err := p.ReadEvents(nil)
			require.NoError(t, err)
			counts, err := p.Counts()
			require.NoError(t, err)
			require.Zero(t, counts.Lost)
			tid := c.TID()
			var inner, outer, inRegion uint64
			for _, e := range events {
				if e.TID != tid || e.Time < outerFrom || e.Time > outerTo {
					continue
				}
				outer++
				if e.Time < innerFrom || e.Time > innerTo {
					continue
				}
				inner++
				if r.Range().Contains(e.Address) {
					inRegion++
				}
			}
			assert.Equal(t, uint64(2*testPages), inRegion)
			assert.GreaterOrEqual(t, d.Faults, inner, "perf PAGE_FAULTS vs the probe's events of thread %d inside perf's window", tid)
			assert.LessOrEqual(t, d.Faults, outer, "perf PAGE_FAULTS vs the probe's events of thread %d around perf's window", tid)
			assert.LessOrEqual(t, outer-inner, uint64(64), "faults between the counter reads and the clock reads")
		})
	}
}

func TestCountersWrongThreadAndClose(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := openCounters(t)
	// While this goroutine holds its thread, another goroutine runs on
	// another thread.
	done := make(chan error)
	go func() {
		_, err := c.Read()
		done <- err
	}()
	assert.ErrorIs(t, <-done, ErrWrongThread)
	_, err := c.Read()
	assert.NoError(t, err, "the opening thread may read")

	require.NoError(t, c.Close())
	assert.ErrorIs(t, c.Close(), ErrClosed)
	_, err = c.Read()
	assert.ErrorIs(t, err, ErrClosed)
}

// TestPerfErrorParanoid: the advice follows the setting. Above 2 it says
// to lower it; at 2 or below the refusal came from elsewhere (a seccomp
// filter), and asking for "at most 2 (it is 2)" would contradict itself.
func TestPerfErrorParanoid(t *testing.T) {
	for _, tt := range []struct {
		paranoid, want, not string
	}{
		{"3", "kernel.perf_event_paranoid at most 2 (it is 3)", "seccomp"},
		{"4", "sysctl kernel.perf_event_paranoid=2", "seccomp"},
		{"2", "seccomp", "at most 2"},
		{"-1", "seccomp", "at most 2"},
		{"unknown", "at most 2 (it is unknown)", "seccomp"},
	} {
		t.Run(tt.paranoid, func(t *testing.T) {
			err := explainPerf(unix.EPERM, tt.paranoid)
			assert.ErrorIs(t, err, ErrPermission)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), tt.not)
			assert.NotContains(t, err.Error(), "probe.", "no Go API names in what users read")
		})
	}
}

func TestPerfError(t *testing.T) {
	err := perfError(unix.EACCES)
	assert.ErrorIs(t, err, ErrPermission)
	assert.ErrorIs(t, err, unix.EACCES)
	assert.Contains(t, err.Error(), "perf_event_paranoid")
	err = perfError(unix.ENOENT)
	assert.ErrorIs(t, err, ErrNotSupported)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.NotEmpty(t, e.Missing)
	assert.NotErrorIs(t, perfError(unix.EMFILE), ErrPermission)
}
