//go:build linux

package observe

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ptraceOptions are set on the program's first process; its children
// inherit them.
const ptraceOptions = unix.PTRACE_O_TRACESYSGOOD | unix.PTRACE_O_TRACEFORK | unix.PTRACE_O_TRACEVFORK |
	unix.PTRACE_O_TRACECLONE | unix.PTRACE_O_TRACEEXEC | unix.PTRACE_O_EXITKILL

// syscallTrap is the stop signal of a system-call stop (TRACESYSGOOD).
const syscallTrap = syscall.SIGTRAP | 0x80

// task is one traced thread.
type task struct {
	tid, tgid int
	proc      *process
	// started reports whether the task's first stop has been seen.
	started bool
	// inSyscall is set between a system call's entry and exit stops; sc
	// is that call.
	inSyscall bool
	sc        *Syscall
	// handlers are the signals whose handlers the thread is in,
	// innermost last.
	handlers []*Signal
	// stepping is the signal injected with PTRACE_SINGLESTEP, whose
	// handler (at stepHandler) the next SIGTRAP stop enters.
	stepping    *Signal
	stepHandler uint64
	// mask is the thread's blocked signals as last read, if maskKnown.
	mask      uint64
	maskKnown bool
	// readMask asks for the mask to be read at the call's exit stop.
	readMask bool
}

// process is one traced thread group.
type process struct {
	tgid int
	// actions are the signal actions, by signal number.
	actions [65]Sigaction
	// The last fault and how many times in a row it came with no
	// progress in between.
	faultKey   [4]uint64
	faultCount int
	threads    int
}

func (p *process) fork() *process {
	c := &process{actions: p.actions}
	return c
}

// tracer runs one program. Everything but the fields under mu belongs to
// the tracing thread.
type tracer struct {
	ctx   context.Context
	o     *Options
	lim   Limits
	cred  *Credential
	start time.Time
	trace *Trace
	tasks map[int]*task
	// held are new tracees stopped before their parent's fork event.
	held map[int]bool
	main int
	// recording is false once Limits.Events is reached.
	recording bool

	mu sync.Mutex
	// stopped is the first limit reached, protected by mu.
	stopped *LimitError
	// killing is set once every process is to die, protected by mu.
	killing bool
	// live are the tasks not yet reaped, protected by mu.
	live map[int]bool
	// killedByUs are the processes Run killed, protected by mu.
	killedByUs map[int]bool
	// leftBehind are the processes killed after the grace period,
	// protected by mu.
	leftBehind []int
	grace      *time.Timer
}

func run(ctx context.Context, path string, o *Options) (*Trace, error) {
	orig := path
	if err := archError(); err != nil {
		return nil, err
	}
	cred, err := resolveCredential(o.Credential)
	if err != nil {
		return nil, err
	}
	exe, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(exe); err != nil {
		return nil, err
	}
	if cred != nil {
		// The program's user may not be able to reach the original.
		copied, dir, err := copyExecutable(exe)
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
		exe = copied
	}
	dir, err := os.MkdirTemp("", "vmsim-run-")
	if err != nil {
		return nil, err
	}
	defer removeAll(dir)
	if o.Setup != nil {
		if err := o.Setup(dir); err != nil {
			return nil, fmt.Errorf("observe: set up %s: %w", dir, err)
		}
	}
	if err := giveTo(dir, cred); err != nil {
		return nil, fmt.Errorf("observe: give %s to uid %d: %w", dir, cred.UID, err)
	}
	t := &tracer{
		ctx:        ctx,
		o:          o,
		lim:        o.Limits,
		cred:       cred,
		trace:      &Trace{Dir: dir},
		tasks:      map[int]*task{},
		held:       map[int]bool{},
		live:       map[int]bool{},
		killedByUs: map[int]bool{},
		recording:  true,
	}
	// Every ptrace request must come from the thread that is the tracer:
	// the one that starts the program.
	type result struct{ err error }
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		err := t.traceProgram(exe, orig, dir)
		if !errors.Is(err, errPoisoned) {
			// Otherwise the thread ends with the goroutine.
			runtime.UnlockOSThread()
		}
		done <- result{err}
	}()
	r := <-done
	if r.err != nil {
		return nil, r.err
	}
	if o.Done != nil {
		if err := o.Done(dir, t.trace); err != nil {
			return t.trace, err
		}
	}
	return t.trace, nil
}

// traceProgram starts the program exe (a copy of path, or path itself)
// stopped, sets its limits, and traces it to the end. It runs on a locked
// thread.
func (t *tracer) traceProgram(exe, path, dir string) error {
	argv0 := "./" + filepath.Base(path)
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer stdoutR.Close()
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdoutW.Close()
		return err
	}
	defer stderrR.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		stdoutW.Close()
		stderrW.Close()
		return err
	}
	env := t.o.Env
	if env == nil {
		env = []string{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir, "TMPDIR=" + dir, "LANG=C", "LC_ALL=C"}
	}
	attr := &syscall.ProcAttr{
		Dir:   dir,
		Env:   env,
		Files: []uintptr{devnull.Fd(), stdoutW.Fd(), stderrW.Fd()},
		Sys: &syscall.SysProcAttr{
			Ptrace:     true,
			Setpgid:    true,
			Pdeathsig:  syscall.SIGKILL,
			Credential: sysCredential(t.cred),
		},
	}
	t.start = time.Now()
	pid, err := forkExec(exe, append([]string{argv0}, t.o.Args...), attr)
	devnull.Close()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		if errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("observe: trace %s: the kernel refuses ptrace (%v): %s: %w", argv0, err, ptraceHint(), ErrPermission)
		}
		return &os.PathError{Op: "run", Path: path, Err: err}
	}
	t.main = pid
	t.trace.PID = pid

	// The child stops with SIGTRAP once execve has succeeded, before its
	// first instruction.
	var ws unix.WaitStatus
	if _, err := wait4(pid, &ws); err != nil {
		return err
	}
	if !ws.Stopped() {
		return fmt.Errorf("observe: %s ended before its first instruction (status %#x)", argv0, uint32(ws))
	}
	fail := func(err error) error {
		unix.Kill(pid, unix.SIGKILL)
		wait4(pid, &ws)
		return err
	}
	if err := unix.PtraceSetOptions(pid, ptraceOptions); err != nil {
		return fail(fmt.Errorf("observe: PTRACE_SETOPTIONS: %w", err))
	}
	r, err := getRegs(pid)
	if err != nil {
		return fail(fmt.Errorf("observe: read the registers of %s: %w", argv0, err))
	}
	if err := checkArch(r); err != nil {
		return fail(err)
	}
	t.trace.Loader = loaderRange(pid)
	if err := setLimits(pid, t.lim, t.cred); err != nil {
		return fail(err)
	}
	if t.o.Started != nil {
		if err := t.o.Started(pid); err != nil {
			return fail(err)
		}
	}
	p := &process{tgid: pid, threads: 1}
	tk := &task{tid: pid, tgid: pid, proc: p, started: true}
	tk.mask, tk.maskKnown = sigBlocked(pid, pid)
	t.tasks[pid] = tk
	t.trace.Processes = 1
	t.mu.Lock()
	t.live[pid] = true
	t.mu.Unlock()

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); t.capture(stdoutR, &t.trace.Stdout, "stdout") }()
	go func() { defer readers.Done(); t.capture(stderrR, &t.trace.Stderr, "stderr") }()
	stopWatch := t.watch()

	t.resume(tk, 0)
	err = t.loop()
	t.mu.Lock()
	killed := t.killing
	t.mu.Unlock()
	if killed {
		t.reapStrays()
	}
	stopWatch()
	t.mu.Lock()
	if t.grace != nil {
		t.grace.Stop()
	}
	t.mu.Unlock()
	if err != nil {
		t.halt(nil)
		t.drain()
	}
	// Every process has ended; a pipe may still be open in a process that
	// is not ours (passed over a socket): do not wait for it forever.
	finished := make(chan struct{})
	go func() { readers.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(2 * time.Second):
		stdoutR.Close()
		stderrR.Close()
		<-finished
	}
	t.trace.Wall = time.Since(t.start)
	t.mu.Lock()
	t.trace.Stopped = t.stopped
	t.trace.LeftBehind = t.leftBehind
	t.mu.Unlock()
	return err
}

// forkExec starts the program. A copy of it that this process has just
// written may still be open for writing in a child that another goroutine
// is forking (until that child's exec closes it): execve then fails with
// ETXTBSY for a moment, so it is tried again (golang.org/issue/22315).
func forkExec(exe string, argv []string, attr *syscall.ProcAttr) (int, error) {
	delay := time.Millisecond
	for try := 0; ; try++ {
		pid, err := syscall.ForkExec(exe, argv, attr)
		if err != syscall.ETXTBSY || try == 8 {
			return pid, err
		}
		time.Sleep(delay)
		delay *= 2
	}
}

// wait4 waits for one tracee.
func wait4(pid int, ws *unix.WaitStatus) (int, error) {
	for {
		wpid, err := unix.Wait4(pid, ws, unix.WALL, nil)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, os.NewSyscallError("wait4", err)
		}
		return wpid, nil
	}
}

// loop handles stops until every task has ended. It peeks before it
// reaps: this thread may have children that are not the program's (Go
// forks from whichever thread a goroutine runs on), and their exit status
// belongs to whoever started them.
func (t *tracer) loop() error {
	for len(t.tasks) > 0 || len(t.held) > 0 {
		if len(t.tasks) == 1 && len(t.held) == 0 {
			// One task: only it can report (a child it forks is known by
			// the fork event, which it reports first), so wait for it
			// alone and save the peek.
			var tid int
			for tid = range t.tasks {
			}
			var ws unix.WaitStatus
			if _, err := wait4(tid, &ws); err != nil {
				return err
			}
			t.handle(tid, ws)
			continue
		}
		pid, trapped, err := peekChild()
		if err == unix.ECHILD {
			return nil
		}
		if err != nil {
			return os.NewSyscallError("waitid", err)
		}
		if _, ours := t.tasks[pid]; !ours && !trapped && !t.held[pid] {
			if t.tracing(pid) {
				// A process of the program that died (killed with the
				// others) before anything of it reached us: not even its
				// parent's fork event, which a kill can preempt. It is
				// ours to reap; left, it would be the answer to every
				// peek from now on.
				var ws unix.WaitStatus
				if _, err := wait4(pid, &ws); err != nil {
					return err
				}
				t.exited(pid, nil, ws)
				continue
			}
			// Not a tracee: wait for our own tasks one by one until one
			// reports, leaving that child to its owner.
			pid, err = t.pollOwn()
			if err != nil {
				return err
			}
			if pid == 0 {
				continue
			}
			var ws unix.WaitStatus
			if _, err := wait4(pid, &ws); err != nil {
				return err
			}
			t.handle(pid, ws)
			continue
		}
		var ws unix.WaitStatus
		if _, err := wait4(pid, &ws); err != nil {
			return err
		}
		t.handle(pid, ws)
	}
	return nil
}

// pollOwn returns a task of ours (known or held) that has something to
// report, without reaping it, polling for up to 100ms; 0 if none did.
func (t *tracer) pollOwn() (int, error) {
	news := func(tid int) (bool, error) {
		ok, err := hasNews(tid)
		if err != nil && err != unix.ECHILD {
			return false, os.NewSyscallError("waitid", err)
		}
		return ok, nil
	}
	for range 1000 {
		for tid := range t.tasks {
			if ok, err := news(tid); ok || err != nil {
				return tid, err
			}
		}
		for tid := range t.held {
			if ok, err := news(tid); ok || err != nil {
				return tid, err
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	return 0, nil
}

// reapStrays reaps the program's processes that a kill ended before the
// tracer knew them (see loop) and that died after the known ones: only
// their tracer can reap them first, so a stray left behind would stay a
// zombie for as long as this thread lives. It waits up to 2 s for those
// still dying.
func (t *tracer) reapStrays() {
	deadline := time.Now().Add(2 * time.Second)
	for {
		strays := tracees(unix.Gettid())
		if len(strays) == 0 || time.Now().After(deadline) {
			return
		}
		for _, pid := range strays {
			unix.Kill(pid, unix.SIGKILL)
			var ws unix.WaitStatus
			unix.Wait4(pid, &ws, unix.WALL|unix.WNOHANG, nil)
		}
		time.Sleep(time.Millisecond)
	}
}

// tracees lists the processes that thread tracer traces, from /proc.
func tracees(tracer int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if v, ok := statusField(pid, "TracerPid:"); ok && v == tracer {
			pids = append(pids, pid)
		}
	}
	return pids
}

// tracing reports whether this thread traces task tid (its TracerPid in
// /proc), a zombie included.
func (t *tracer) tracing(tid int) bool {
	v, ok := statusField(tid, "TracerPid:")
	return ok && v == unix.Gettid()
}

// statusField reads a numeric field of task tid's /proc status ("Tgid:").
func statusField(tid int, name string) (int, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name); ok {
			n, err := strconv.Atoi(strings.TrimSpace(v))
			return n, err == nil
		}
	}
	return 0, false
}

// handle acts on one wait status of task pid.
func (t *tracer) handle(pid int, ws unix.WaitStatus) {
	tk := t.tasks[pid]
	if ws.Exited() || ws.Signaled() {
		t.exited(pid, tk, ws)
		return
	}
	if !ws.Stopped() {
		return
	}
	if tk == nil {
		// A new tracee whose parent's fork event has not come yet: hold
		// it stopped until then, to know whose it is. It is live, to be
		// killed with the others: its parent may die before the event.
		t.held[pid] = true
		t.mu.Lock()
		t.live[pid] = true
		killing := t.killing
		t.mu.Unlock()
		if killing {
			t.kill(pid)
		}
		return
	}
	sig := ws.StopSignal()
	if !tk.started {
		tk.started = true
		if sig == syscall.SIGSTOP {
			t.resume(tk, 0)
			return
		}
	}
	switch {
	case sig == syscallTrap:
		t.syscallStop(tk)
	case sig == syscall.SIGTRAP && ws.TrapCause() > 0:
		t.eventStop(tk, ws.TrapCause())
	case sig == syscall.SIGTRAP && tk.stepping != nil:
		t.handlerEntry(tk)
	default:
		t.signalStop(tk, sig)
	}
}

// resume lets tk run to its next system call or signal, delivering sig.
func (t *tracer) resume(tk *task, sig syscall.Signal) {
	unix.PtraceSyscall(tk.tid, int(sig))
}

// add records an event of tk, unless the events limit is reached.
func (t *tracer) add(tk *task, kind Kind) *Event {
	if len(t.trace.Events) >= t.lim.Events {
		if t.recording {
			t.recording = false
			t.halt(&LimitError{Limit: LimitEvents, What: fmt.Sprintf("more than %d system calls and signals", t.lim.Events), Seq: len(t.trace.Events) - 1})
		}
		return &Event{Seq: -1, PID: tk.tid, TGID: tk.tgid, Kind: kind}
	}
	e := Event{Seq: len(t.trace.Events), PID: tk.tid, TGID: tk.tgid, Time: time.Since(t.start), Kind: kind}
	if n := len(tk.handlers); n > 0 {
		e.Handler = tk.handlers[n-1]
	}
	t.trace.Events = append(t.trace.Events, e)
	return &t.trace.Events[len(t.trace.Events)-1]
}

// leaveHandlers ends the handlers whose frames the thread has left, now
// that its stack pointer is sp: it jumped out of them. At a system call
// (atSignal false) the mask it is left with is read from /proc; at a
// signal stop the kernel may already have changed the mask for the new
// signal, and the mask since the jump is the handler's own, read at its
// entry (a system call in between would have shown the jump). It returns
// the handlers left, innermost first.
func (t *tracer) leaveHandlers(tk *task, sp uint64, atSignal bool) []*Signal {
	var left []*Signal
	for n := len(tk.handlers); n > 0; n = len(tk.handlers) {
		h := tk.handlers[n-1]
		// At rt_sigreturn the stack pointer is just above the frame's
		// return address; anything higher is outside the frame.
		if sp <= h.HandlerSP+8 {
			break
		}
		h.End, h.EndSeq = EndJumped, len(t.trace.Events)
		tk.handlers = tk.handlers[:n-1]
		left = append(left, h)
	}
	if len(left) == 0 {
		return nil
	}
	if !atSignal {
		tk.mask, tk.maskKnown = sigBlocked(tk.tgid, tk.tid)
	}
	for _, h := range left {
		h.MaskAfter, h.MaskAfterKnown = tk.mask, tk.maskKnown
	}
	return left
}

func (t *tracer) syscallStop(tk *task) {
	r, err := getRegs(tk.tid)
	if err != nil {
		// It died meanwhile (SIGKILL): its exit status comes next.
		return
	}
	if tk.inSyscall {
		tk.inSyscall = false
		sc := tk.sc
		tk.sc = nil
		if sc != nil {
			sc.Ret, sc.Done, sc.Returned = r.ret, true, len(t.trace.Events)
			t.decodeExit(tk, sc)
		}
		if tk.readMask {
			tk.readMask = false
			tk.mask, tk.maskKnown = sigBlocked(tk.tgid, tk.tid)
		}
		t.resume(tk, 0)
		return
	}
	tk.inSyscall = true
	ended := t.leaveHandlers(tk, r.sp, false)
	ev := t.add(tk, KindSyscall)
	sc := &Syscall{Nr: r.nr, Name: sysName(r.nr), Args: r.args, IP: r.ip, SP: r.sp}
	ev.Syscall = sc
	tk.sc = sc
	t.decodeEntry(tk, sc)
	if len(tk.handlers) == 0 {
		// A system call outside a handler is progress.
		tk.proc.faultCount = 0
	}
	switch sc.Name {
	case "rt_sigreturn":
		if n := len(tk.handlers); n > 0 {
			h := tk.handlers[n-1]
			h.End, h.EndSeq = EndReturned, ev.Seq
			tk.handlers = tk.handlers[:n-1]
			ended = append(ended, h)
		}
		tk.readMask = true
	case "rt_sigprocmask":
		tk.readMask = true
	}
	if len(ended) > 0 {
		t.inspect(tk, ev, Inspection{At: AtHandlerEnd, Ended: ended})
	}
	switch sc.Name {
	case "exit_group", "munmap":
		t.inspect(tk, ev, Inspection{At: AtSyscall})
	case "exit":
		if tk.proc.threads <= 1 {
			t.inspect(tk, ev, Inspection{At: AtSyscall})
		}
	}
	t.resume(tk, 0)
}

// inspect hands the process of tk, stopped at event ev, to
// Options.Inspect; not once the events limit is reached (ev is then not
// the trace's last).
func (t *tracer) inspect(tk *task, ev *Event, in Inspection) {
	if t.o.Inspect != nil && ev.Seq >= 0 {
		t.o.Inspect(t.trace, tk.tgid, procMem{tk.tid}, in)
	}
}

func (t *tracer) decodeEntry(tk *task, sc *Syscall) {
	a := sc.Args
	pid := tk.tid
	switch sc.Name {
	case "write", "pwrite64":
		sc.Data = readBytes(pid, a[1], min(int(a[2]), t.o.CaptureBytes))
	case "open", "creat", "execve", "unlink", "mkdir", "rmdir", "stat", "lstat", "access", "truncate", "chdir", "readlink":
		sc.Path = readString(pid, a[0], 4096)
	case "openat", "unlinkat", "mkdirat", "newfstatat", "fstatat", "faccessat", "faccessat2", "execveat", "statx", "readlinkat", "fchmodat":
		sc.Path = readString(pid, a[1], 4096)
	case "rt_sigaction":
		if b := readBytes(pid, a[1], 32); len(b) == 32 {
			le := binary.LittleEndian
			sc.Action = &Sigaction{Handler: le.Uint64(b), Flags: le.Uint64(b[8:]), Restorer: le.Uint64(b[16:]), Mask: le.Uint64(b[24:])}
		}
	case "rt_sigprocmask":
		if v, ok := readU64(pid, a[1]); ok && a[1] != 0 {
			sc.Set = &v
		}
	case "clone":
		sc.CloneFlags = cloneFlagsArg(a)
	case "clone3":
		if v, ok := readU64(pid, a[0]); ok {
			sc.CloneFlags = v
		}
	}
}

func (t *tracer) decodeExit(tk *task, sc *Syscall) {
	a := sc.Args
	if !sc.OK() {
		return
	}
	switch sc.Name {
	case "rt_sigaction":
		sig := int(a[0])
		if sc.Action != nil && sig > 0 && sig < len(tk.proc.actions) {
			tk.proc.actions[sig] = *sc.Action
		}
	case "wait4":
		if sc.Ret > 0 && a[1] != 0 {
			if b := readBytes(tk.tid, a[1], 4); len(b) == 4 {
				ws := WaitStatus(binary.LittleEndian.Uint32(b))
				sc.Status = &ws
			}
		}
	case "pipe", "pipe2":
		if b := readBytes(tk.tid, a[0], 8); len(b) == 8 {
			sc.FDs = [2]int{int(int32(binary.LittleEndian.Uint32(b))), int(int32(binary.LittleEndian.Uint32(b[4:])))}
		}
	}
}

// eventStop handles a PTRACE_EVENT stop.
func (t *tracer) eventStop(tk *task, event int) {
	switch event {
	case unix.PTRACE_EVENT_FORK, unix.PTRACE_EVENT_VFORK, unix.PTRACE_EVENT_CLONE:
		msg, err := unix.PtraceGetEventMsg(tk.tid)
		if err != nil {
			break
		}
		child := int(msg)
		how := map[int]string{unix.PTRACE_EVENT_FORK: "fork", unix.PTRACE_EVENT_VFORK: "vfork", unix.PTRACE_EVENT_CLONE: "clone"}[event]
		thread := false
		if event == unix.PTRACE_EVENT_CLONE && tk.sc != nil {
			thread = tk.sc.CloneFlags&unix.CLONE_THREAD != 0
		}
		ev := t.add(tk, KindFork)
		ev.Fork = &Fork{Child: child, Thread: thread, How: how}
		nt := &task{tid: child, tgid: child, mask: tk.mask, maskKnown: tk.maskKnown}
		if thread {
			nt.tgid, nt.proc = tk.tgid, tk.proc
			tk.proc.threads++
		} else {
			nt.proc = tk.proc.fork()
			nt.proc.tgid, nt.proc.threads = child, 1
			t.trace.Processes++
			if t.trace.Processes > t.lim.Processes {
				t.halt(&LimitError{Limit: LimitProcesses, What: fmt.Sprintf("more than %d processes (a fork bomb?)", t.lim.Processes), Seq: ev.Seq})
			}
		}
		t.tasks[child] = nt
		t.mu.Lock()
		t.live[child] = true
		killing := t.killing
		t.mu.Unlock()
		if killing {
			t.kill(child)
		}
		if t.held[child] {
			delete(t.held, child)
			nt.started = true
			t.resume(nt, 0)
		}
	case unix.PTRACE_EVENT_EXEC:
		path := ""
		if tk.sc != nil {
			path = tk.sc.Path
		}
		// A successful exec resets the handlers (ignored signals stay
		// ignored) and ends every handler the thread was in.
		for i := range tk.proc.actions {
			if tk.proc.actions[i].Handler != SigIgnore {
				tk.proc.actions[i] = Sigaction{}
			}
		}
		for _, h := range tk.handlers {
			h.End, h.EndSeq = EndJumped, len(t.trace.Events)
		}
		tk.handlers = nil
		ev := t.add(tk, KindExec)
		ev.Exec = &Exec{Path: path}
	}
	t.resume(tk, 0)
}

// signalStop handles a signal-delivery-stop (or a group-stop).
func (t *tracer) signalStop(tk *task, sig syscall.Signal) {
	info, err := getSiginfo(tk.tid)
	if err != nil {
		// A group-stop (EINVAL): let it go on; or the task died (ESRCH).
		t.resume(tk, 0)
		return
	}
	r, err := getRegs(tk.tid)
	if err != nil {
		return
	}
	ended := t.leaveHandlers(tk, r.sp, true)
	s := &Signal{
		Signo: syscall.Signal(info.signo), Code: info.code, Errno: info.errno,
		IP: r.ip, SP: r.sp,
	}
	if info.code <= 0 || s.Signo == syscall.SIGCHLD {
		s.SenderPID, s.SenderUID = int(info.pid), int(info.uid)
	} else {
		s.Addr = info.addr
	}
	bit := uint64(1) << (uint(sig) - 1)
	s.Blocked = tk.maskKnown && tk.mask&bit != 0
	ev := t.add(tk, KindSignal)
	ev.Signal = s
	s.Seq = ev.Seq
	if len(ended) > 0 {
		t.inspect(tk, ev, Inspection{At: AtHandlerEnd, Ended: ended})
	}
	var le *LimitError
	switch sig {
	case syscall.SIGXCPU:
		le = &LimitError{Limit: LimitCPU, What: fmt.Sprintf("more than %v of CPU time (SIGXCPU)", t.lim.CPU), Seq: ev.Seq}
	case syscall.SIGXFSZ:
		le = &LimitError{Limit: LimitFileSize, What: fmt.Sprintf("a file larger than %d bytes (SIGXFSZ)", t.lim.FileSize), Seq: ev.Seq}
	}
	if s.IsFault() {
		p := tk.proc
		key := [4]uint64{uint64(s.Signo), uint64(s.Code), s.Addr, s.IP}
		if key == p.faultKey {
			p.faultCount++
		} else {
			p.faultKey, p.faultCount = key, 1
		}
		if p.faultCount >= t.lim.RepeatedFaults {
			le = &LimitError{Limit: LimitFaultLoop, Addr: s.Addr, Seq: ev.Seq,
				What: fmt.Sprintf("%d %s faults in a row at %#x (instruction %#x) with no progress in between: the faulting instruction restarts forever", p.faultCount, signalName(s.Signo), s.Addr, s.IP)}
		}
	}
	act := tk.proc.actions[sig]
	// Memory is read before the kill: once SIGKILL is sent, the process
	// may be gone at any moment.
	switch {
	case le != nil:
		t.inspect(tk, ev, Inspection{At: AtStop})
		t.halt(le)
	case fatal(s, act):
		t.inspect(tk, ev, Inspection{At: AtSignal})
	}
	if s.Blocked && s.IsFault() {
		// The kernel unblocks the signal and resets its action: the
		// process dies.
		tk.proc.actions[sig] = Sigaction{}
		t.resume(tk, sig)
		return
	}
	if act.IsHandler() && sig != syscall.SIGKILL && sig != syscall.SIGSTOP {
		if act.Flags&SAResetHand != 0 {
			tk.proc.actions[sig] = Sigaction{}
		}
		tk.stepping, tk.stepHandler = s, act.Handler
		// Step into the handler: the kernel stops the thread at its
		// first instruction, with the signal frame set up.
		if _, _, e := unix.Syscall6(unix.SYS_PTRACE, unix.PTRACE_SINGLESTEP, uintptr(tk.tid), 0, uintptr(sig), 0, 0); e != 0 {
			tk.stepping = nil
		}
		return
	}
	t.resume(tk, sig)
}

// fatal reports whether delivering signal s with action act ends the
// process: a fault it cannot handle (blocked, or with no handler: the
// kernel then forces the default action, even over SIG_IGN), or a signal
// whose default action ends it.
func fatal(s *Signal, act Sigaction) bool {
	if s.IsFault() {
		return s.Blocked || !act.IsHandler()
	}
	if act.Handler != SigDefault {
		return false
	}
	switch s.Signo {
	case syscall.SIGCHLD, syscall.SIGCONT, syscall.SIGURG, syscall.SIGWINCH, // ignored
		syscall.SIGSTOP, syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU: // stop
		return false
	}
	return true
}

// handlerEntry handles the stop at a handler's first instruction.
func (t *tracer) handlerEntry(tk *task) {
	s, want := tk.stepping, tk.stepHandler
	tk.stepping = nil
	r, err := getRegs(tk.tid)
	if err != nil {
		return
	}
	if r.ip == want {
		s.Handler, s.HandlerSP = r.ip, r.sp
		if s.IsFault() {
			s.Access = faultAccess(tk.tid, r)
		}
		tk.handlers = append(tk.handlers, s)
		tk.mask, tk.maskKnown = sigBlocked(tk.tgid, tk.tid)
	}
	t.resume(tk, 0)
}

// exited handles the end of task pid.
func (t *tracer) exited(pid int, tk *task, ws unix.WaitStatus) {
	t.mu.Lock()
	delete(t.live, pid)
	byUs := t.killedByUs[pid] || (tk != nil && t.killedByUs[tk.tgid])
	remaining := len(t.live)
	t.mu.Unlock()
	delete(t.held, pid)
	if tk == nil {
		return
	}
	delete(t.tasks, pid)
	for _, h := range tk.handlers {
		h.End, h.EndSeq = EndDied, len(t.trace.Events)
	}
	tk.handlers = nil
	tk.proc.threads--
	if tk.tid != tk.tgid {
		return
	}
	if tk.sc != nil && !tk.sc.Done {
		tk.sc.Returned = len(t.trace.Events)
	}
	ex := &Exit{Code: ws.ExitStatus(), Signaled: ws.Signaled(), Core: ws.CoreDump()}
	if ws.Signaled() {
		ex.Code = 0
		ex.Signal = ws.Signal()
		ex.ByTracer = byUs && ws.Signal() == syscall.SIGKILL
	}
	ev := t.add(tk, KindExit)
	ev.Exit = ex
	if pid == t.main {
		t.trace.Exit = ex
		if remaining > 0 {
			t.mu.Lock()
			t.grace = time.AfterFunc(t.lim.Grace, t.killLeftBehind)
			t.mu.Unlock()
		}
	}
}

// kill sends SIGKILL to one process and notes that Run killed it.
// Preconditions: killing is set.
func (t *tracer) kill(tid int) {
	t.mu.Lock()
	t.killedByUs[tid] = true
	t.mu.Unlock()
	unix.Kill(tid, unix.SIGKILL)
}

// halt stops the program: the first limit reached is recorded (le may be
// nil), and every process is killed. It may be called from any goroutine.
func (t *tracer) halt(le *LimitError) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.stopped == nil && le != nil {
		t.stopped = le
	}
	t.killing = true
	t.killAllLocked()
}

// killAllLocked kills the program's process group and every live task.
// Preconditions: mu is held.
func (t *tracer) killAllLocked() {
	for tid := range t.live {
		t.killedByUs[tid] = true
		unix.Kill(tid, unix.SIGKILL)
	}
	if t.main != 0 {
		unix.Kill(-t.main, unix.SIGKILL)
	}
}

// killLeftBehind kills what still runs Limits.Grace after the first
// process ended.
func (t *tracer) killLeftBehind() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.live) == 0 {
		return
	}
	seen := map[int]bool{}
	for tid := range t.live {
		if tgid := t.tgidLocked(tid); !seen[tgid] {
			seen[tgid] = true
			t.leftBehind = append(t.leftBehind, tgid)
		}
	}
	t.killing = true
	t.killAllLocked()
}

// tgidLocked reads the thread group of a live task from /proc: the
// tracing thread owns the task table.
func (t *tracer) tgidLocked(tid int) int {
	if n, ok := statusField(tid, "Tgid:"); ok {
		return n
	}
	return tid
}

// drain reaps every task after a tracing error, so that none is left.
func (t *tracer) drain() {
	deadline := time.Now().Add(5 * time.Second)
	for len(t.tasks) > 0 && time.Now().Before(deadline) {
		for tid := range t.tasks {
			var ws unix.WaitStatus
			wpid, err := unix.Wait4(tid, &ws, unix.WALL|unix.WNOHANG, nil)
			if err == unix.ECHILD || (wpid == tid && (ws.Exited() || ws.Signaled())) {
				delete(t.tasks, tid)
			}
		}
		time.Sleep(time.Millisecond)
	}
}

// watch enforces the wall-clock limit and the caller's context from
// another goroutine; the returned function stops it.
func (t *tracer) watch() func() {
	stop := make(chan struct{})
	timer := time.NewTimer(t.lim.Wall)
	go func() {
		defer timer.Stop()
		select {
		case <-stop:
		case <-timer.C:
			t.halt(&LimitError{Limit: LimitWall, What: fmt.Sprintf("still running after %v of wall-clock time (waiting forever?)", t.lim.Wall), Seq: -1})
		case <-t.ctx.Done():
			t.halt(&LimitError{Limit: LimitCanceled, What: "canceled: " + t.ctx.Err().Error(), Seq: -1})
		}
	}()
	return func() { close(stop) }
}

// capture reads one output stream into out, up to Limits.Output bytes;
// more stops the program.
func (t *tracer) capture(r io.Reader, out *Output, name string) {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if keep := t.lim.Output - len(out.Data); keep > 0 {
				out.Data = append(out.Data, buf[:min(n, keep)]...)
			}
			out.Total += int64(n)
			if out.Total > int64(t.lim.Output) {
				t.halt(&LimitError{Limit: LimitOutput, What: fmt.Sprintf("more than %d bytes on %s", t.lim.Output, name), Seq: -1})
			}
		}
		if err != nil {
			return
		}
	}
}

// cloneFlagsArg returns clone's flags argument (the first on x86-64 and
// arm64).
func cloneFlagsArg(a [6]uint64) uint64 { return a[0] }

func sysName(nr int) string {
	if nr >= 0 && nr < len(sysNames) && sysNames[nr] != "" {
		return sysNames[nr]
	}
	return "syscall_" + strconv.Itoa(nr)
}
