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
	"golang.org/x/sys/unix"

	"vmsim/vm"
	"vmsim/vm/probe"
	"vmsim/vm/vmtest"
)

// inChild runs t again in a child process of the test binary with child
// (vmtest.Child or vmtest.Unprivileged), and reports as it does. The child
// must run as a test binary, not as vmsim (asVmsim); once there, the
// processes it starts are vmsim again.
func inChild(t *testing.T, child func(*testing.T) bool) bool {
	t.Helper()
	if os.Getenv(asVmsim) == "1" {
		t.Setenv(asVmsim, "")
	}
	if child(t) {
		os.Setenv(asVmsim, "1")
		return true
	}
	return false
}

// requireProbe skips t (vmtest.Missing) unless the eBPF probe can load.
func requireProbe(t *testing.T) {
	t.Helper()
	vmtest.RequireRoot(t, "CAP_BPF and CAP_PERFMON, to load the eBPF probe")
}

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
	requireProbe(t) // TestReplayKernelWithoutPrivilege covers the fallback
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
	requireProbe(t)
	zero, err := probe.ZeroPageOnRead()
	vmtest.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	trace := "1 2 3 1 2 3 4w 5w 4 5 1w 2w 6 6w"
	out, errOut, code := vmsimIn(t, trace, "replay", "--mode", "kernel", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	k := jsonRows(t, out)[0]
	assert.Equal(t, 6.0, k["faults"], "one first-touch fault per distinct page")
	sim, _, _ := vmsimIn(t, trace, "replay", "-p", "lru", "-f", "6", "-o", "json", "-")
	assert.Equal(t, jsonRows(t, sim)[0]["faults"], k["faults"], "the kernel's first touches are vmsim's cold misses")
	// Pages 1, 2 and 6 are read before they are written: with the zero
	// page, each write copies it away, a protection fault.
	want := 0.0
	if zero {
		want = 3
	}
	assert.Equal(t, want, k["protection_faults"], "a read maps the shared zero page: %v", zero)
	kf := k["kernel_faults"].(map[string]any)
	assert.Equal(t, "ebpf", kf["source"])
	assert.Equal(t, map[string]any{"not_present": 6.0, "protection": want}, kf["program_view"])

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
	assert.Contains(t, lines[0], "vmsim: the eBPF probe needs root")
	assert.Contains(t, lines[0], "perf counters instead")
	for _, not := range []string{"MEMLOCK", "--kernel:", "probe.", "Counters"} {
		assert.NotContains(t, lines[0], not, "plain words")
	}
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
	requireProbe(t)
	out, errOut, code := vmsimIn(t, "", "exercise", "mprotect", "--kernel")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "p: 2 kernel faults (2 not present, 0 protection); error codes 0x6 (write, not present) x2")
	out, errOut, code = vmsimIn(t, "", "exercise", "remap", "--kernel")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "base: 2 kernel faults (2 not present, 0 protection); error codes 0x4 (read, not present) x1, 0x6 (write, not present) x1")
}

// TestKernelNoCounter refuses bpf(2) and perf_event_open(2) with a seccomp
// filter, as a container can: --kernel and --mode kernel say that no
// kernel counter could be opened, and why, and fail, instead of printing a
// measurement of 0 that never happened.
func TestKernelNoCounter(t *testing.T) {
	if !inChild(t, vmtest.Child) {
		return
	}
	require.NoError(t, vmtest.DenyKernelCounters())
	for _, args := range [][]string{
		{"exercise", "mprotect", "--kernel"},
		{"exercise", "remap", "--kernel"},
		{"replay", "--mode", "kernel", "-"},
		{"replay", "--mode", "real", "--kernel", "-p", "fifo", "-f", "3", "-"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			out, errOut, code := vmsimIn(t, "1 2 3 4 1 2 5", args...)
			assert.Equal(t, 1, code, errOut)
			assert.NotContains(t, out, "this thread:")
			assert.NotContains(t, out, "(perf")
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			require.Len(t, lines, 1, "one line: %q", errOut)
			assert.Contains(t, lines[0], "vmsim: no kernel page-fault counter could be opened")
			assert.Contains(t, lines[0], "seccomp")
			assert.NotContains(t, lines[0], "at most 2 (it is 2)")
			assert.NotContains(t, lines[0], "probe.")
		})
	}
}

// pwriteFaults measures how many kernel-mode faults pwrite(2) out of a
// page of a memfd that is not mapped yet costs on this kernel, into a file
// where the pager's swap store puts its own: the write path may fault its
// source in before it copies with faults disabled.
func pwriteFaults(t *testing.T) float64 {
	t.Helper()
	r, err := vm.NewShared(1, nil)
	require.NoError(t, err)
	defer r.Unmap()
	page, err := r.AltPage(0)
	require.NoError(t, err)
	p, err := probe.Open(&probe.Options{Ranges: []probe.Range{{Range: probe.RangeOf(page)}}, KernelMode: true})
	require.NoError(t, err)
	defer p.Close()
	f, err := os.CreateTemp("", "vmsim-pwrite-")
	require.NoError(t, err)
	defer os.Remove(f.Name())
	defer f.Close()
	_, err = unix.Pwrite(int(f.Fd()), page, 0)
	require.NoError(t, err)
	c, err := p.Counts()
	require.NoError(t, err)
	require.Equal(t, c.Total.Faults, c.Total.Kernel, "kernel-mode faults: %s", c.Total.Codes())
	return float64(c.Total.Faults)
}

// TestReplayKernelSecondView holds the SECOND-VIEW column to what the
// pager does through that view: each fill from the store is a pread(2)
// into a punched page, one kernel-mode fault; each save of a page that was
// not filled since it was loaded (its first write-back) is a pwrite(2)
// out of a page the view never mapped, as many kernel-mode faults as this
// kernel takes for one (pwriteFaults); a save of a filled page faults no
// more. userfaultfd has no second view.
func TestReplayKernelSecondView(t *testing.T) {
	requireProbe(t)
	k := pwriteFaults(t)
	t.Logf("pwrite(2) out of an unmapped page: %v kernel-mode faults", k)
	require.NotZero(t, k)
	tests := []struct {
		name, trace                      string
		writebacks, fills, unfilledSaves float64
	}{
		// fifo, 1 frame: every access evicts the page before.
		{"no write-back", "1 2 1 2", 0, 0, 0},
		{"first write-backs", "1w 2 3w 4", 2, 0, 2},
		{"fills, then a filled page saved", "1w 2 1 2 1w 2", 2, 2, 1},
	}
	for _, mech := range []string{"mprotect", "remap", "uffd"} {
		for _, tt := range tests {
			t.Run(mech+"/"+tt.name, func(t *testing.T) {
				out, errOut, code := vmsimIn(t, tt.trace, "replay", "--mode", "real", "--mechanism", mech, "--kernel", "-p", "fifo", "-f", "1", "-o", "json", "-")
				require.Equal(t, 0, code, errOut)
				r := jsonRows(t, out)[0]
				assert.Equal(t, tt.writebacks, r["writebacks"])
				second := r["kernel_faults"].(map[string]any)["second_view"].(map[string]any)
				want := tt.fills + k*tt.unfilledSaves
				if mech == "uffd" {
					want = 0
				}
				assert.Equal(t, map[string]any{"not_present": want, "protection": 0.0}, second)
			})
		}
	}
}
