//go:build linux

package observe

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// built caches the test programs, compiled once per test binary.
var built sync.Map

// build compiles testdata/name.c and returns the executable.
func build(t testing.TB, name string) string {
	t.Helper()
	vmtest.RequireTool(t, "cc", "gcc")
	if exe, ok := built.Load(name); ok {
		return exe.(string)
	}
	dir, err := os.MkdirTemp("", "vmsim-observe-test-")
	require.NoError(t, err)
	exe := filepath.Join(dir, name)
	out, err := exec.Command("cc", "-O1", "-o", exe, filepath.Join("testdata", name+".c")).CombinedOutput()
	require.NoError(t, err, "cc: %s", out)
	built.Store(name, exe)
	return exe
}

func TestMain(m *testing.M) {
	code := m.Run()
	built.Range(func(_, exe any) bool {
		os.RemoveAll(filepath.Dir(exe.(string)))
		return true
	})
	os.Exit(code)
}

// marker returns an argument that names this run of a test program, so
// that its processes can be found in /proc by their command line.
func marker(t *testing.T) string {
	return fmt.Sprintf("vmsim-test-marker-%d-%d", os.Getpid(), time.Now().UnixNano())
}

// running returns the processes whose command line contains m.
func running(m string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline")
		if err == nil && strings.Contains(string(b), m) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tracedByUs lists the processes, zombies included, that a thread of this
// process still traces: none may be left once Run has returned.
func tracedByUs() []int {
	ours := map[string]bool{}
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, e := range tasks {
		ours[e.Name()] = true
	}
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/status")
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "TracerPid:"); ok && ours[strings.TrimSpace(v)] {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// find returns the first event of tgid for which ok holds.
func find(tr *Trace, ok func(e *Event) bool) *Event {
	for i := range tr.Events {
		if ok(&tr.Events[i]) {
			return &tr.Events[i]
		}
	}
	return nil
}

func call(name string) func(e *Event) bool {
	return func(e *Event) bool { return e.Kind == KindSyscall && e.Syscall.Name == name }
}

func TestRunRecordsCallsOutputAndFiles(t *testing.T) {
	exe := build(t, "procs")
	var inDone []byte
	tr, err := Run(context.Background(), exe, &Options{
		Args:  []string{"hello"},
		Setup: func(dir string) error { return os.WriteFile(filepath.Join(dir, "in.txt"), []byte("from setup"), 0o644) },
		Done: func(dir string, tr *Trace) error {
			var err error
			inDone, err = os.ReadFile(filepath.Join(dir, "out.txt"))
			return err
		},
	})
	require.NoError(t, err)
	assert.Equal(t, "hello\n", tr.Stdout.String())
	assert.Equal(t, "oops\n", tr.Stderr.String())
	require.NotNil(t, tr.Exit)
	assert.Equal(t, 3, tr.Exit.Code)
	assert.False(t, tr.Exit.Signaled)
	assert.Nil(t, tr.Stopped)
	assert.Equal(t, "from setup", string(inDone), "Done sees the file the program wrote from the one Setup made")
	assert.Equal(t, "hello\n", tr.Written(tr.PID, 1), "the write's data is recorded")
	open := find(tr, func(e *Event) bool { return e.Kind == KindSyscall && e.Syscall.Path == "out.txt" })
	require.NotNil(t, open, "the openat of out.txt")
	assert.Equal(t, "openat", open.Syscall.Name)
	assert.True(t, open.Syscall.OK())
	assert.Contains(t, open.String(), `openat(AT_FDCWD, "out.txt", O_WRONLY|O_CREAT|O_TRUNC, 0644) = `)
	last := tr.Events[len(tr.Events)-1]
	assert.Equal(t, KindExit, last.Kind)
	assert.Equal(t, "+++ exited with 3 +++", last.Exit.String())
	_, err = os.Stat(tr.Dir)
	assert.ErrorIs(t, err, os.ErrNotExist, "the working directory is removed")
}

func TestHandlerThatReturns(t *testing.T) {
	tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"return"}})
	require.NoError(t, err)
	require.True(t, tr.Exit.OK(), "%v\n%s", tr.Exit, tr.Stderr)
	var addr uintptr
	var code int64
	var got string
	_, err = fmt.Sscanf(tr.Stdout.String(), "%v %d %s", &addr, &code, &got)
	require.NoError(t, err, tr.Stdout.String())

	sigs := tr.Signals(0)
	require.Len(t, sigs, 1, "one fault")
	s := sigs[0].Signal
	assert.Equal(t, syscall.SIGSEGV, s.Signo)
	assert.Equal(t, "SEGV_ACCERR", s.CodeName())
	assert.True(t, s.IsFault())
	assert.Equal(t, uint64(addr), s.Addr, "si_addr is the page the program mapped")
	assert.True(t, s.Access.Known)
	assert.Equal(t, uint64(code), s.Access.Code, "the error code read from the frame is the handler's own REG_ERR")
	assert.True(t, s.Access.Write())
	assert.Equal(t, EndReturned, s.End)

	act := find(tr, func(e *Event) bool {
		return e.Kind == KindSyscall && e.Syscall.Name == "rt_sigaction" && e.Syscall.Int(0) == int(syscall.SIGSEGV)
	})
	require.NotNil(t, act)
	require.NotNil(t, act.Syscall.Action)
	assert.Equal(t, act.Syscall.Action.Handler, s.Handler, "delivered to the handler installed")
	assert.NotZero(t, act.Syscall.Action.Flags&SASiginfo)

	// Inside the handler: the mprotect of the page, then rt_sigreturn.
	var inside []string
	for i := range tr.Events {
		if e := &tr.Events[i]; e.Handler == s {
			inside = append(inside, e.Syscall.Name)
		}
	}
	assert.Equal(t, []string{"mprotect", "rt_sigreturn"}, inside)
	mp := find(tr, func(e *Event) bool { return e.Kind == KindSyscall && e.Syscall.Name == "mprotect" && e.Handler == s })
	assert.Equal(t, uint64(addr), mp.Syscall.Args[0])
	assert.Equal(t, fmt.Sprintf("mprotect(%#x, %d, PROT_READ|PROT_WRITE) = 0", addr, os.Getpagesize()), mp.Syscall.String())
	assert.Equal(t, mp.Seq+1, s.EndSeq, "the handler ends at its rt_sigreturn")
	wr := find(tr, call("write"))
	require.NotNil(t, wr)
	assert.Nil(t, wr.Handler, "the printf after the retried write is outside the handler")
	assert.Contains(t, sigs[0].String(), "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x")
	assert.Contains(t, sigs[0].String(), "(write access; to the handler at 0x")
}

// TestLoaderMapsBeforeMain tells the dynamic loader's mmaps (the
// libraries, their data) from the program's own (the page of main).
func TestLoaderMapsBeforeMain(t *testing.T) {
	tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"return"}})
	require.NoError(t, err)
	require.NotZero(t, tr.Loader.End, "a dynamic program has a loader")
	ps := uint64(os.Getpagesize())
	var own, loader []*Event
	for _, e := range tr.Syscalls(tr.PID, "mmap") {
		if e.Syscall.Args[1] == ps && e.Syscall.Args[2] == 0 && e.Syscall.Args[3]&0x20 != 0 {
			own = append(own, e) // mmap(NULL, ps, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, ...)
		} else if tr.Loader.Contains(e.Syscall.IP) {
			loader = append(loader, e)
		}
	}
	require.Len(t, own, 1, "main's one PROT_NONE page")
	assert.False(t, tr.Loader.Contains(own[0].Syscall.IP), "main's mmap is the program's: %v from %#x, loader %#x-%#x", own[0], own[0].Syscall.IP, tr.Loader.Start, tr.Loader.End)
	assert.NotEmpty(t, loader, "the loader maps libc")
	for _, e := range loader {
		assert.Less(t, e.Seq, own[0].Seq, "the loader maps before main: %v", e)
	}
}

func TestHandlerThatJumps(t *testing.T) {
	tests := []struct {
		mode string
		// blocked: SIGSEGV is left blocked after the jump.
		blocked bool
		faults  int
		exit    string
	}{
		{"siglong", false, 1, "+++ exited with 0 +++"},
		{"long", true, 2, "+++ killed by SIGSEGV +++"},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{tt.mode}})
			require.NoError(t, err)
			sigs := tr.Signals(0)
			require.Equal(t, tt.faults, len(sigs))
			first := sigs[0].Signal
			assert.Equal(t, EndJumped, first.End, "left by a jump, not rt_sigreturn")
			assert.Empty(t, tr.Syscalls(0, "rt_sigreturn"))
			require.True(t, first.MaskAfterKnown)
			assert.Equal(t, tt.blocked, first.MaskBlocks(syscall.SIGSEGV), "mask after the jump: %s", SigsetString(first.MaskAfter))
			assert.Equal(t, tt.exit, tr.Exit.String())
			assert.Equal(t, "jumped\n", tr.Stdout.String())
			if tt.faults == 2 {
				second := sigs[1].Signal
				assert.True(t, second.Blocked, "the second fault finds SIGSEGV blocked")
				assert.Zero(t, second.Handler, "and never reaches the handler")
			}
		})
	}
}

func TestSignalsThatAreNotFaults(t *testing.T) {
	tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"raise"}})
	require.NoError(t, err)
	sigs := tr.Signals(0)
	require.Len(t, sigs, 1)
	s := sigs[0].Signal
	assert.Equal(t, syscall.SIGSEGV, s.Signo)
	assert.False(t, s.IsFault(), "raise is not a fault")
	assert.Equal(t, "SI_TKILL", s.CodeName())
	assert.Equal(t, tr.PID, s.SenderPID)
	assert.Equal(t, EndReturned, s.End)
	assert.Equal(t, "raised\n", tr.Stdout.String())

	t.Run("no handler for the signal", func(t *testing.T) {
		tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"bus"}})
		require.NoError(t, err)
		sigs := tr.Signals(0)
		require.Len(t, sigs, 1)
		assert.Zero(t, sigs[0].Signal.Handler)
		assert.Equal(t, "+++ killed by SIGSEGV +++", tr.Exit.String())
	})
}

func TestForkAndWait(t *testing.T) {
	tr, err := Run(context.Background(), build(t, "procs"), &Options{Args: []string{"fork"}})
	require.NoError(t, err)
	require.True(t, tr.Exit.OK())
	assert.Equal(t, 2, tr.Processes)
	kids := tr.Children(tr.PID)
	require.Len(t, kids, 1)
	child := kids[0]
	assert.Equal(t, "child\n", tr.Written(child, 1), "the child's write is the child's")
	assert.Equal(t, "parent\n", tr.Written(tr.PID, 1))
	assert.Equal(t, "child\nparent\n", tr.Stdout.String())
	ex := tr.ExitOf(child)
	require.NotNil(t, ex)
	assert.Equal(t, 7, ex.Code)

	waits := tr.Syscalls(tr.PID, "wait4")
	require.Len(t, waits, 1)
	w := waits[0].Syscall
	assert.Equal(t, int64(child), w.Ret)
	require.NotNil(t, w.Status)
	assert.True(t, w.Status.Exited())
	assert.Equal(t, 7, w.Status.ExitStatus())
	childExit := find(tr, func(e *Event) bool { return e.Kind == KindExit && e.TGID == child })
	assert.Greater(t, w.Returned, childExit.Seq, "wait4 returned after the child's exit")
	assert.Contains(t, waits[0].String(), "[{WIFEXITED(s) && WEXITSTATUS(s) == 7}]")
}

func TestInspectReadsMemoryAtExit(t *testing.T) {
	var seen string
	var at uint64
	tr, err := Run(context.Background(), build(t, "procs"), &Options{
		Args: []string{"memory"},
		Inspect: func(tr *Trace, tgid int, mem Memory, in Inspection) {
			if in.At != AtSyscall {
				return
			}
			fmt.Sscanf(tr.Written(tgid, 1), "%v", &at)
			b := make([]byte, len("the marker"))
			if _, err := mem.ReadAt(b, at); err == nil {
				seen = string(b)
			}
		},
	})
	require.NoError(t, err)
	require.True(t, tr.Exit.OK())
	assert.NotZero(t, at)
	assert.Equal(t, "the marker", seen)
}

// TestInspectAtTheEndOfHandlersAndBeforeDeath calls Inspect when a
// handler returns or jumps out, when a fault is about to kill the process,
// and before Run kills a program that faults forever: each time with the
// process stopped at the trace's last event, its memory readable.
func TestInspectAtTheEndOfHandlersAndBeforeDeath(t *testing.T) {
	type call struct {
		at    InspectAt
		event string
		ended []HandlerEnd
	}
	tests := []struct {
		mode string
		want []call
	}{
		{"return", []call{{AtHandlerEnd, "rt_sigreturn", []HandlerEnd{EndReturned}}, {AtSyscall, "exit_group", nil}}},
		{"siglong", []call{{AtHandlerEnd, "syscall", []HandlerEnd{EndJumped}}, {AtSyscall, "exit_group", nil}}},
		{"long", []call{{AtHandlerEnd, "syscall", []HandlerEnd{EndJumped}}, {AtSignal, "SIGSEGV", nil}}},
		{"bus", []call{{AtSignal, "SIGSEGV", nil}}},
	}
	var loop []call
	for range DefaultRepeatedFaults - 1 {
		loop = append(loop, call{AtHandlerEnd, "rt_sigreturn", []HandlerEnd{EndReturned}})
	}
	// Run stops the program at the last fault of the loop.
	tests = append(tests, struct {
		mode string
		want []call
	}{"loop", append(loop, call{AtStop, "SIGSEGV", nil})})
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			var got []call
			var unread []string
			tr, err := Run(context.Background(), build(t, "handler"), &Options{
				Args: []string{tt.mode},
				Inspect: func(tr *Trace, tgid int, mem Memory, in Inspection) {
					last := &tr.Events[len(tr.Events)-1]
					c := call{at: in.At, event: "syscall"}
					switch {
					case last.Kind == KindSignal:
						c.event = SignalName(last.Signal.Signo)
					case last.Syscall.Name == "rt_sigreturn" || last.Syscall.Name == "exit_group":
						c.event = last.Syscall.Name
					}
					for _, s := range in.Ended {
						c.ended = append(c.ended, s.End)
						assert.Equal(t, last.Seq, s.EndSeq, "the handler ended at the last event")
					}
					if c.at == AtSyscall && c.event != "exit_group" {
						return // the munmaps of libc's start
					}
					got = append(got, c)
					// The page main mapped: readable even PROT_NONE.
					mm := find(tr, func(e *Event) bool {
						return e.Kind == KindSyscall && e.Syscall.Name == "mmap" && e.Syscall.Args[2] == 0 && !tr.Loader.Contains(e.Syscall.IP)
					})
					b := make([]byte, 1)
					if mm == nil {
						unread = append(unread, "no mmap")
					} else if _, err := mem.ReadAt(b, uint64(mm.Syscall.Ret)); err != nil {
						unread = append(unread, err.Error())
					}
				},
			})
			require.NoError(t, err)
			assert.Equal(t, tt.want, got, "%s", tr.Exit)
			assert.Empty(t, unread, "memory is readable at every call")
		})
	}
}

func TestLimitsStopTheProgram(t *testing.T) {
	tests := []struct {
		name   string
		prog   string
		mode   string
		limits Limits
		want   Limit
	}{
		{"a handler that resolves nothing faults forever", "handler", "loop", Limits{}, LimitFaultLoop},
		{"a program that waits forever", "procs", "sleep", Limits{Wall: 300 * time.Millisecond}, LimitWall},
		{"a fork bomb", "procs", "bomb", Limits{Processes: 8}, LimitProcesses},
		{"a flood of output", "procs", "flood", Limits{Output: 64 << 10}, LimitOutput},
		{"a CPU hog", "procs", "spin", Limits{CPU: time.Second}, LimitCPU},
		{"a file too big", "procs", "bigfile", Limits{FileSize: 1 << 20}, LimitFileSize},
		{"too many system calls", "procs", "calls", Limits{Events: 2000}, LimitEvents},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := marker(t)
			tr, err := Run(context.Background(), build(t, tt.prog), &Options{Args: []string{tt.mode, m}, Limits: tt.limits})
			require.NoError(t, err)
			require.NotNil(t, tr.Stopped, "stopped at a limit")
			assert.Equal(t, tt.want, tr.Stopped.Limit, "%v", tr.Stopped)
			assert.ErrorIs(t, tr.Stopped, ErrLimit)
			require.NotNil(t, tr.Exit)
			assert.True(t, tr.Exit.Signaled, "killed: %v", tr.Exit)
			assert.Empty(t, running(m), "no process of the program is left")
			assert.Empty(t, tracedByUs(), "no process, not even a zombie, is left traced")
		})
	}
}

// TestKilledBeforeKnown kills fork bombs again and again: a child whose
// parent is killed between the fork and the fork's event reaches the
// tracer as nothing but its death, and must be reaped all the same, or
// the tracer waits for it forever.
func TestKilledBeforeKnown(t *testing.T) {
	exe := build(t, "procs")
	for i := range 20 {
		m := marker(t)
		tr, err := Run(context.Background(), exe, &Options{Args: []string{"bomb", m}, Limits: Limits{Processes: 2 + i%5}})
		require.NoError(t, err)
		require.NotNil(t, tr.Stopped)
		assert.Equal(t, LimitProcesses, tr.Stopped.Limit, "%v", tr.Stopped)
		assert.Empty(t, running(m))
		require.Empty(t, tracedByUs(), "run %d left a process traced", i)
	}
}

func TestFaultLoopSaysWhere(t *testing.T) {
	tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"loop"}, Limits: Limits{RepeatedFaults: 5}})
	require.NoError(t, err)
	require.NotNil(t, tr.Stopped)
	mm := find(tr, func(e *Event) bool {
		return e.Kind == KindSyscall && e.Syscall.Name == "mmap" && e.Syscall.Args[2] == 0 && e.Syscall.OK()
	})
	require.NotNil(t, mm)
	assert.Equal(t, uint64(mm.Syscall.Ret), tr.Stopped.Addr, "the address of the PROT_NONE page")
	assert.Equal(t, 5, len(tr.Signals(0)))
	assert.Equal(t, "+++ killed by vmsim (SIGKILL) +++", tr.Exit.String())
}

func TestNoProcessLeftBehind(t *testing.T) {
	m := marker(t)
	tr, err := Run(context.Background(), build(t, "procs"), &Options{Args: []string{"daemon", m}, Limits: Limits{Grace: 100 * time.Millisecond}})
	require.NoError(t, err)
	assert.True(t, tr.Exit.OK(), "the first process exits normally")
	assert.Nil(t, tr.Stopped)
	assert.Equal(t, 3, tr.Processes)
	require.Len(t, tr.LeftBehind, 1, "the grandchild that left the process group")
	assert.NotEqual(t, tr.PID, tr.LeftBehind[0])
	assert.Empty(t, running(m))
	assert.True(t, tr.ExitOf(tr.LeftBehind[0]).ByTracer)
}

func TestPrivilegesAreDropped(t *testing.T) {
	vmtest.RequireRoot(t, "to run the program as another user")
	exe := build(t, "procs")
	tests := []struct {
		name string
		cred *Credential
		want string
	}{
		{"nobody by default", nil, fmt.Sprintf("uid=%d gid=%d groups=0\n", Nobody, Nobody)},
		{"a chosen user", &Credential{UID: 4242, GID: 4343}, "uid=4242 gid=4343 groups=0\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr, err := Run(context.Background(), exe, &Options{Args: []string{"ids"}, Credential: tt.cred})
			require.NoError(t, err)
			assert.Equal(t, tt.want, tr.Stdout.String())
		})
	}
	_, err := Run(context.Background(), exe, &Options{Args: []string{"ids"}, Credential: &Credential{}})
	assert.ErrorIs(t, err, ErrPermission, "never as root")
}

// TestUnprivileged traces as an ordinary user: ptrace of one's own child
// needs no privilege, and the program runs as that user.
func TestUnprivileged(t *testing.T) {
	if !vmtest.Unprivileged(t) {
		return
	}
	tr, err := Run(context.Background(), build(t, "handler"), &Options{Args: []string{"return"}})
	require.NoError(t, err)
	assert.True(t, tr.Exit.OK())
	sigs := tr.Signals(0)
	require.Len(t, sigs, 1)
	assert.Equal(t, EndReturned, sigs[0].Signal.End)
	assert.True(t, sigs[0].Signal.Access.Write())

	tr, err = Run(context.Background(), build(t, "procs"), &Options{Args: []string{"ids"}})
	require.NoError(t, err)
	assert.Equal(t, fmt.Sprintf("uid=%d gid=%d groups=0\n", os.Getuid(), os.Getgid()), tr.Stdout.String())

	_, err = Run(context.Background(), build(t, "procs"), &Options{Credential: &Credential{UID: 4242, GID: 4242}})
	assert.ErrorIs(t, err, ErrPermission, "an ordinary user cannot run it as another")

	m := marker(t)
	tr, err = Run(context.Background(), build(t, "procs"), &Options{Args: []string{"bomb", m}, Limits: Limits{Processes: 8}})
	require.NoError(t, err)
	require.NotNil(t, tr.Stopped)
	assert.Equal(t, LimitProcesses, tr.Stopped.Limit)
	assert.Empty(t, running(m))
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script")
	require.NoError(t, os.WriteFile(notExec, []byte("not a program"), 0o644))
	_, err := Run(context.Background(), filepath.Join(dir, "missing"), nil)
	assert.ErrorIs(t, err, os.ErrNotExist)
	_, err = Run(context.Background(), notExec, nil)
	var pe *os.PathError
	assert.ErrorAs(t, err, &pe)
}

// TestConcurrentRunsKeepOthersChildren runs tracers side by side with
// goroutines that start and wait for their own commands: no tracer may
// reap a child that is not its program's, and no trace may mix with
// another's.
func TestConcurrentRunsKeepOthersChildren(t *testing.T) {
	exe := build(t, "procs")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var others sync.WaitGroup
	errs := make(chan error, 64)
	for range 4 {
		others.Add(1)
		go func() {
			defer others.Done()
			for ctx.Err() == nil {
				if err := exec.Command("true").Run(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var runs sync.WaitGroup
	traces := make([]*Trace, 8)
	runErrs := make([]error, 8)
	for i := range traces {
		runs.Add(1)
		go func() {
			defer runs.Done()
			traces[i], runErrs[i] = Run(context.Background(), exe, &Options{Args: []string{"fork"}})
		}()
	}
	runs.Wait()
	cancel()
	others.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err, "a command of another goroutine lost its exit status")
	}
	for i, tr := range traces {
		require.NoError(t, runErrs[i])
		assert.Equal(t, "child\nparent\n", tr.Stdout.String())
		assert.Equal(t, 2, tr.Processes)
		for _, e := range tr.Events {
			assert.True(t, e.TGID == tr.PID || e.TGID == tr.Children(tr.PID)[0], "event of another program: %v", e.String())
		}
	}
}
