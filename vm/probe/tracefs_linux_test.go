//go:build linux

package probe

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// tracefsEnv, set to "1", makes the test binary run TestTracefs's checks as
// the child, in a mount namespace of its own.
const tracefsEnv = "VMSIM_PROBE_TRACEFS_CHILD"

// TestTracefs checks what Open does without tracefs: it falls back to the
// raw tracepoint where tracefs cannot be mounted, says tracefs is missing
// when the tracepoint is asked for, and mounts tracefs where it can. The
// checks unmount tracefs, so they run in a child process with a private
// mount namespace: the machine's mounts are not touched.
func TestTracefs(t *testing.T) {
	if os.Getenv(tracefsEnv) == "1" {
		tracefsChecks(t)
		return
	}
	vmtest.RequireCapability(t, "a mount namespace of its own, to unmount tracefs", "CAP_SYS_ADMIN")
	cmd := exec.Command(os.Args[0], "-test.run=^TestTracefs$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), tracefsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	t.Logf("child:\n%s", out)
	require.NoError(t, err, "the child in its own mount namespace failed")
	assert.Contains(t, string(out), "--- PASS: TestTracefs", "the child ran the checks")
}

// tracefsMounts lists where tracefs is mounted in this namespace.
func tracefsMounts(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("/proc/self/mountinfo")
	require.NoError(t, err)
	defer f.Close()
	var dirs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		if g, f := strings.Fields(post), strings.Fields(pre); len(g) > 0 && g[0] == "tracefs" && len(f) >= 5 {
			dirs = append(dirs, f[4])
		}
	}
	return dirs
}

// countOne checks that p counts a write to a fresh page.
func countOne(t *testing.T, p *Probe) {
	t.Helper()
	r := newAnonymous(t, 1, arch.ProtReadWrite)
	require.NoError(t, p.SetRanges(view(r)))
	r.Bytes()[0] = 1
	c, err := p.Counts()
	require.NoError(t, err)
	assert.Equal(t, uint64(1), c.Total.ByCode[0x6])
}

func tracefsChecks(t *testing.T) {
	for _, d := range tracefsMounts(t) {
		require.NoError(t, unix.Unmount(d, unix.MNT_DETACH), "unmount %s", d)
	}
	require.Empty(t, tracefsMounts(t))
	_, err := findTracefs(false)
	require.Error(t, err)

	t.Run("cannot mount: raw tracepoint", func(t *testing.T) {
		// An empty tmpfs over /sys/kernel leaves no place to mount it.
		require.NoError(t, unix.Mount("tmpfs", "/sys/kernel", "tmpfs", 0, ""))
		defer unix.Unmount("/sys/kernel", 0)
		p := openProbe(t, nil)
		assert.Equal(t, AttachRawTracepoint, p.Attach())
		countOne(t, p)

		_, err := Open(&Options{Attach: AttachTracepoint})
		assert.ErrorIs(t, err, ErrNotSupported)
		var e *Error
		require.ErrorAs(t, err, &e)
		assert.Contains(t, e.Missing, "tracefs")
		assert.Empty(t, tracefsMounts(t))
	})

	t.Run("mounts tracefs", func(t *testing.T) {
		p := openProbe(t, nil)
		assert.Equal(t, AttachTracepoint, p.Attach())
		assert.Equal(t, []string{tracefsDir}, tracefsMounts(t))
		countOne(t, p)
	})
}
