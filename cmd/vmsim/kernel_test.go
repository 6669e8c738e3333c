package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReplayKernelCounts is invariant I5 from the command line: with the
// probe, the kernel's faults on the program's view are explained by the
// user-space ones. Each fault (page not resident) costs two kernel faults
// on the program's view, both not-present: the one that became the signal,
// and the one that maps the page when the access is retried (mprotect and
// MAP_FIXED do not populate page tables). Each protection fault costs one
// kernel protection fault: the mprotect that grants write access leaves a
// writable entry, so the retry does not fault. With userfaultfd the fill
// (UFFDIO_COPY) installs the page table entry itself: one kernel fault per
// user fault, the one that became SIGBUS.
func TestReplayKernelCounts(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the eBPF probe needs root (CAP_BPF and CAP_PERFMON); TestReplayKernelWithoutPrivilege covers the fallback")
	}
	trace := "1 2 3 4 1 2 5 1 2 3 4 5 5w 4w 3 9w 9 1w"
	for _, mech := range []string{"mprotect", "remap", "uffd"} {
		perFault := 2.0
		if mech == "uffd" {
			perFault = 1
		}
		t.Run(mech, func(t *testing.T) {
			out, errOut, code := vmsimIn(t, trace, "replay", "--mode", "real", "--mechanism", mech, "--kernel", "-p", "fifo,lru,opt", "-f", "2,3,4", "-o", "json", "-")
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, errOut)
			for _, r := range jsonRows(t, out) {
				k := r["kernel_faults"].(map[string]any)
				prog := k["program_view"].(map[string]any)
				assert.Equal(t, "ebpf", k["source"])
				assert.Equal(t, perFault*r["faults"].(float64), prog["not_present"], "%v/%v", r["policy"], r["frames"])
				assert.Equal(t, r["protection_faults"], prog["protection"], "%v/%v", r["policy"], r["frames"])
				assert.Equal(t, r["faults"].(float64)+r["protection_faults"].(float64), r["user_faults"])
			}
		})
	}
}

// TestReplayKernelMode: the kernel's own demand paging of plain memory
// faults once per distinct page (not-present), as many times as vmsim's
// cold misses; whether reads map the shared zero page (then a later write
// faults again, as a protection fault) is the kernel's choice, read here,
// not assumed.
func TestReplayKernelMode(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the eBPF probe needs root (CAP_BPF and CAP_PERFMON)")
	}
	trace := "1 2 3 1 2 3 4w 5w 4 5 1w 2w 6 6w"
	out, errOut, code := vmsimIn(t, trace, "replay", "--mode", "kernel", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	k := jsonRows(t, out)[0]
	assert.Equal(t, 6.0, k["faults"], "one first-touch fault per distinct page")
	sim, _, _ := vmsimIn(t, trace, "replay", "-p", "lru", "-f", "6", "-o", "json", "-")
	assert.Equal(t, jsonRows(t, sim)[0]["faults"], k["faults"], "the kernel's first touches are vmsim's cold misses")
	// Pages 1, 2 and 6 are read before they are written: 0 or 3 protection
	// faults, depending on the zero page.
	assert.Contains(t, []float64{0, 3}, k["protection_faults"])

	_, errOut, code = vmsimIn(t, trace, "replay", "--mode", "kernel", "-p", "lru", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--policy does not apply to --mode kernel")
	_, errOut, code = vmsimIn(t, trace, "replay", "--kernel", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--kernel needs --mode real")
}

// TestReplayKernelWithoutPrivilege runs vmsim as an unprivileged user: one
// line says what is missing, and the perf counters stand in.
func TestReplayKernelWithoutPrivilege(t *testing.T) {
	cmd := vmsimCommand("replay", "--mode", "real", "--kernel", "-p", "fifo", "-f", "3", "-o", "json", "-")
	if os.Geteuid() == 0 {
		// Run a copy of this binary as nobody, from a directory nobody may
		// enter.
		dir, err := os.MkdirTemp("", "vmsim-unpriv-")
		require.NoError(t, err)
		defer os.RemoveAll(dir)
		require.NoError(t, os.Chmod(dir, 0o755))
		bin := filepath.Join(dir, "vmsim")
		copyFile(t, os.Args[0], bin)
		cmd = exec.Command(bin, cmd.Args[1:]...)
		cmd.Dir = dir
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	cmd.Env = append(os.Environ(), "TMPDIR=/tmp")
	cmd.Stdin = strings.NewReader("1 2 3 4 1 2 5 1 2 3 4 5")
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), stderr.String())
	lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
	require.Len(t, lines, 1, "one line: %q", stderr.String())
	assert.Contains(t, lines[0], "vmsim: --kernel:")
	assert.Contains(t, lines[0], "root")
	assert.NotContains(t, lines[0], "MEMLOCK")
	assert.Contains(t, lines[0], "perf counters instead")
	row := jsonRows(t, stdout.String())[0]
	assert.Equal(t, 9.0, row["faults"])
	k := row["kernel_faults"].(map[string]any)
	assert.Equal(t, "perf", k["source"])
	// perf counts every user-mode fault of the replaying thread: at least
	// the region's, two per fault.
	assert.GreaterOrEqual(t, k["total"], 18.0)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	src, err := os.Open(from)
	require.NoError(t, err)
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY, 0o755)
	require.NoError(t, err)
	_, err = io.Copy(dst, src)
	require.NoError(t, err)
	require.NoError(t, dst.Close())
}

// TestExerciseKernel: the mprotect and remap exercises with --kernel show
// the kernel's two faults behind user space's one.
func TestExerciseKernel(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the eBPF probe needs root (CAP_BPF and CAP_PERFMON)")
	}
	out, errOut, code := vmsimIn(t, "", "exercise", "mprotect", "--kernel")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "p: 2 kernel faults (2 not present, 0 protection); error codes 0x6 (write, not present) x2")
	out, errOut, code = vmsimIn(t, "", "exercise", "remap", "--kernel")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "base: 2 kernel faults (2 not present, 0 protection); error codes 0x4 (read, not present) x1, 0x6 (write, not present) x1")
}
