package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// started is a vmsim process running in the background.
type started struct {
	cmd            *exec.Cmd
	stdout, stderr *bytes.Buffer
	done           chan error
}

// start starts vmsim with args in its own process.
func start(t *testing.T, dir string, stdin io.Reader, args ...string) *started {
	t.Helper()
	s := &started{cmd: vmsimCommand(args...), stdout: new(bytes.Buffer), stderr: new(bytes.Buffer), done: make(chan error, 1)}
	s.cmd.Dir, s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = dir, stdin, s.stdout, s.stderr
	require.NoError(t, s.cmd.Start())
	go func() { s.done <- s.cmd.Wait() }()
	t.Cleanup(func() {
		s.cmd.Process.Kill()
		<-s.done
	})
	return s
}

// stopWith sends sig and waits for the process to exit (it must, within a
// minute: a liveness bound, not a measure of speed), returning its status.
func (s *started) stopWith(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	require.NoError(t, s.cmd.Process.Signal(sig))
	select {
	case <-s.done:
	case <-time.After(time.Minute):
		t.Fatalf("vmsim still running a minute after %v; stderr: %s", sig, s.stderr)
	}
	s.done <- nil // for the cleanup
	return s.cmd.ProcessState.ExitCode()
}

// waitFor waits until path exists (the process got that far), up to a
// minute.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !ok(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("never saw %s", what)
		}
	}
}

// hasOpen reports whether process pid has the file at path open: replay and
// convert open a trace only once they are done with the ones before it.
func hasOpen(pid int, path string) bool {
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return false
	}
	for _, fd := range fds {
		if link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && link == path {
			return true
		}
	}
	return false
}

// isOpening reports whether a thread of process pid waits in open(2): a
// FIFO's open, which waits for a writer.
func isOpening(pid int) bool {
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return false
	}
	for _, task := range tasks {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/syscall", pid, task.Name()))
		if err == nil && strings.HasPrefix(string(b), fmt.Sprint(syscall.SYS_OPENAT)+" ") {
			return true
		}
	}
	return false
}

func mkfifo(t *testing.T, path string) {
	t.Helper()
	require.NoError(t, syscall.Mkfifo(path, 0o600))
}

// TestInterruptPrintsFinishedRows: Ctrl-C while replay waits on a silent
// FIFO (the second trace) stops it at once; the first trace's rows, which
// finished, are printed, and vmsim says it was interrupted, with status
// 130.
func TestInterruptPrintsFinishedRows(t *testing.T) {
	for _, mode := range []string{"sim", "real"} {
		t.Run(mode, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "belady.pages"), []byte("1 2 3 4 1 2 5 1 2 3 4 5\n"), 0o644))
			mkfifo(t, filepath.Join(dir, "silent"))
			// A writer that opens the FIFO and writes nothing: the read,
			// not the open, blocks.
			w, err := os.OpenFile(filepath.Join(dir, "silent"), os.O_RDWR, 0)
			require.NoError(t, err)
			defer w.Close()
			s := start(t, dir, nil, "replay", "--mode", mode, "-p", "fifo", "-f", "3,4", "-o", "csv", "belady.pages", "silent")
			waitFor(t, "vmsim reading the FIFO", func() bool { return hasOpen(s.cmd.Process.Pid, filepath.Join(dir, "silent")) })
			code := s.stopWith(t, syscall.SIGINT)
			assert.Equal(t, 130, code, s.stderr.String())
			assert.Equal(t, "vmsim: interrupted\n", s.stderr.String())
			lines := strings.Split(strings.TrimSpace(s.stdout.String()), "\n")
			require.Len(t, lines, 3, "the header and belady.pages's two rows: %q", s.stdout.String())
			assert.Contains(t, lines[1], "belady.pages,fifo,3,"+mode+",12,12,0,3,9,")
			assert.Contains(t, lines[2], "belady.pages,fifo,4,"+mode+",12,12,0,2,10,")
		})
	}
}

// TestInterruptStopsALongRealReplay: a real-mode replay of an endless trace
// stops at Ctrl-C (it ran on, then printed a full table and exited 0).
func TestInterruptStopsALongRealReplay(t *testing.T) {
	dir := t.TempDir()
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	stop := make(chan struct{})
	go func() { // an endless trace: loop over 50 pages
		defer pw.Close()
		line := []byte(strings.Repeat("1 2 3 4 5 6 7 8 9 10 ", 5) + "\n")
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := pw.Write(line); err != nil {
				return
			}
		}
	}()
	defer close(stop)
	s := start(t, dir, pr, "replay", "--mode", "real", "-p", "lru", "-f", "5", "-")
	pr.Close()
	// Let it replay a while: its user faults show in /proc as minor faults.
	waitFor(t, "the replay under way", func() bool { return minorFaults(s.cmd.Process.Pid) > 20_000 })
	code := s.stopWith(t, syscall.SIGINT)
	assert.Equal(t, 130, code, s.stderr.String())
	assert.Equal(t, "vmsim: interrupted\n", s.stderr.String())
	assert.Empty(t, s.stdout.String(), "no row finished: the one run was cut short")
}

// minorFaults returns the minor faults of process pid so far.
func minorFaults(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	var n int
	if len(fields) > 7 {
		fmt.Sscan(fields[7], &n) // minflt: field 10 of stat
	}
	return n
}

// TestSignalsRemoveTemporaryFiles: convert writes its output under a hidden
// temporary name; SIGTERM and SIGHUP (and SIGINT) while it waits for its
// input stop it with status 128+N, and the temporary file is gone.
func TestSignalsRemoveTemporaryFiles(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			mkfifo(t, filepath.Join(dir, "in"))
			w, err := os.OpenFile(filepath.Join(dir, "in"), os.O_RDWR, 0)
			require.NoError(t, err)
			defer w.Close()
			_, err = w.Write([]byte("1 2 3\n"))
			require.NoError(t, err)
			s := start(t, dir, nil, "convert", "--from", "pages", "in", "out.vmt", "--to", "vmt")
			waitFor(t, "the temporary file", func() bool { return len(hidden(t, dir)) > 0 })
			waitFor(t, "vmsim reading the FIFO", func() bool { return hasOpen(s.cmd.Process.Pid, filepath.Join(dir, "in")) })
			code := s.stopWith(t, sig)
			assert.Equal(t, 128+int(sig), code, s.stderr.String())
			assert.Contains(t, s.stderr.String(), "vmsim: interrupted")
			assert.Empty(t, hidden(t, dir), "no temporary file left")
			assert.NoFileExists(t, filepath.Join(dir, "out.vmt"))
		})
	}
}

// hidden lists the hidden files of dir.
func hidden(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestInterruptWhileOpeningAFIFO: a FIFO that no one opens for writing
// blocks the open itself; Ctrl-C stops that too.
func TestInterruptWhileOpeningAFIFO(t *testing.T) {
	dir := t.TempDir()
	mkfifo(t, filepath.Join(dir, "nobody"))
	s := start(t, dir, nil, "mrc", "nobody")
	waitFor(t, "vmsim opening the FIFO", func() bool { return isOpening(s.cmd.Process.Pid) })
	code := s.stopWith(t, syscall.SIGINT)
	assert.Equal(t, 130, code, s.stderr.String())
	assert.Equal(t, "vmsim: interrupted\n", s.stderr.String())
}

// cpuTime returns the CPU time process pid has used so far (utime and
// stime of /proc/PID/stat, in clock ticks of 1/100 s).
func cpuTime(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The fields after the command name, which may hold spaces: state is
	// the first, utime the 12th and stime the 13th.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	var ut, st int64
	fmt.Sscan(f[11], &ut)
	fmt.Sscan(f[12], &st)
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// TestInterruptAfterTheLoad: opt's sweep and a step table run on a trace
// read whole; a signal once it is read and the run is under way stops them
// at once, with exit 130, what finished printed and nothing else.
func TestInterruptAfterTheLoad(t *testing.T) {
	dir := t.TempDir()
	_, errOut, code := vmsim(t, "gen", "zipf", "--n", "2000000", "--pages", "100000", "--seed", "3", "--to", "vmt", "-o", filepath.Join(dir, "z.vmt"))
	require.Equal(t, 0, code, errOut)
	for _, tt := range []struct {
		name string
		args []string
	}{
		{"opt sweep", []string{"replay", "-p", "opt,lru", "-f", "1000:400000:1000", "-o", "csv", "z.vmt"}},
		{"step table", []string{"step", "-p", "opt", "-f", "4", "-o", "csv", "z.vmt"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := start(t, dir, nil, tt.args...)
			path := filepath.Join(dir, "z.vmt")
			waitFor(t, "vmsim reading the trace", func() bool { return hasOpen(s.cmd.Process.Pid, path) })
			// Reading the trace whole takes a few tens of milliseconds;
			// the run after it, tens of seconds: two seconds of CPU time
			// are well into the run.
			waitFor(t, "two seconds of CPU time", func() bool { return cpuTime(s.cmd.Process.Pid) > 2*time.Second })
			code := s.stopWith(t, syscall.SIGINT)
			assert.Equal(t, 130, code, s.stderr.String())
			assert.Equal(t, "vmsim: interrupted\n", s.stderr.String())
			lines := strings.Split(strings.TrimSpace(s.stdout.String()), "\n")
			if tt.args[0] == "replay" {
				// 800 runs were asked: fewer finished, each a whole row.
				assert.Less(t, len(lines), 801, "the sweep stopped")
				for _, l := range lines[1:] {
					assert.Regexp(t, `^z\.vmt,(opt|lru),\d+,sim,2000000,`, l)
				}
			} else {
				assert.Less(t, len(lines), 2_000_001, "the table stopped before its end")
			}
		})
	}
}
