//go:build linux

package probe

import (
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

// unprivilegedEnv, set to "1", makes the test binary run
// TestUnprivileged's checks as the child: dropped to an unprivileged user.
const unprivilegedEnv = "VMSIM_PROBE_UNPRIVILEGED_CHILD"

// nobody is the user and group the child drops to.
const nobody = 65534

// TestUnprivileged runs the probe without privilege: it must fail with one
// clear line that names the missing capabilities, and the fallback
// counters must still work. As root, the checks run in a child process
// that drops to an unprivileged user first (setuid from root clears every
// capability, on every thread: the Go runtime applies it to all of them,
// unlike capset, which would act on the calling thread only).
func TestUnprivileged(t *testing.T) {
	if os.Getenv(unprivilegedEnv) == "1" {
		unprivilegedChecks(t)
		return
	}
	if os.Geteuid() != 0 {
		unprivilegedChecks(t) // already unprivileged
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnprivileged$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1")
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	require.NoError(t, err, "the unprivileged child failed")
	assert.Contains(t, string(out), "--- PASS: TestUnprivileged", "the child ran the checks")
}

// unprivilegedChecks runs in the child (or in an unprivileged test run).
func unprivilegedChecks(t *testing.T) {
	if os.Geteuid() == 0 {
		require.NoError(t, syscall.Setgroups(nil))
		require.NoError(t, syscall.Setgid(nobody))
		require.NoError(t, syscall.Setuid(nobody))
	}
	caps, err := effectiveCaps()
	require.NoError(t, err)
	require.False(t, caps.canTrace(), "the capabilities are gone")

	r := newAnonymous(t, testPages, arch.ProtReadWrite)
	p, err := Open(&Options{Ranges: view(r), PerPage: true, Events: true})
	if p != nil {
		p.Close()
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, ErrPermission)
	assert.NotErrorIs(t, err, ErrNotSupported)
	var e *Error
	require.ErrorAs(t, err, &e)
	msg := err.Error()
	t.Logf("the error: %s", msg)
	assert.Contains(t, e.Missing, "CAP_BPF")
	assert.Contains(t, e.Missing, "CAP_PERFMON")
	assert.Contains(t, msg, "root", "says how to run it")
	assert.NotContains(t, msg, "MEMLOCK", "does not blame the memlock limit")
	assert.NotContains(t, msg, "\n", "one line")

	// The fallback still counts.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c := openCounters(t)
	before, err := c.Read()
	require.NoError(t, err)
	writeAll(r)
	after, err := c.Read()
	require.NoError(t, err)
	d := after.Sub(before)
	assert.GreaterOrEqual(t, d.ThreadMinor, uint64(testPages))
	if perfErr := c.PerfErr(); perfErr != nil {
		assert.False(t, d.Perf)
		assert.NotContains(t, perfErr.Error(), "\n")
		assert.True(t, strings.Contains(perfErr.Error(), "perf_event_paranoid"), "says what to change: %v", perfErr)
	} else {
		assert.True(t, d.Perf)
		assert.GreaterOrEqual(t, d.Faults, uint64(testPages))
	}
}
