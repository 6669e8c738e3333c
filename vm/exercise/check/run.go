package check

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"vmsim/vm/observe"
)

// run is one traced run of a program, with what the grader learned
// beside the trace: memory read while the processes lived, descriptors'
// paths, files read after.
type run struct {
	t *observe.Trace
	// ps is the page size.
	ps uint64
	// snaps are memory contents read while the processes lived (see
	// inspect), the latest of each range only; snapAt finds a range's.
	snaps  []snapshot
	snapAt map[snapKey]int
	// paths are the paths of the descriptors that system calls used, by
	// event: the fd argument of read, write, mmap, ftruncate, lseek, ...
	paths map[int]string
	// files are the contents of files read after the run (by the path
	// the program used), or missing if they did not exist.
	files map[string][]byte
	// kernel are the kernel's own page faults of the first process, if
	// counted; kernelErr why they could not be.
	kernel    []KernelFault
	kernelOn  bool
	kernelErr error
	// cp is the corpus case of a run of the cp exercise.
	cp *cpCase
}

// snapshot is memory of a process read while it was stopped.
type snapshot struct {
	tgid int
	// seq is the event it was read at; when says what the process was
	// doing then, for evidence: "at munmap", "as SIGSEGV killed it".
	seq  int
	when string
	addr uint64
	data []byte
}

// snapKey is a range of memory of one process.
type snapKey struct {
	tgid         int
	addr, length uint64
}

// hooks let a caller of runProgram prepare the directory and look at it
// after the run.
type hooks struct {
	setup func(dir string) error
	// files are read after the run, relative to the directory.
	files []string
}

// maxSnapshot bounds the memory read from one mapping.
const maxSnapshot = 64 << 10

func runProgram(ctx context.Context, exe string, args []string, o *Options, h *hooks) (*run, error) {
	r := &run{ps: uint64(os.Getpagesize()), files: map[string][]byte{}, snapAt: map[snapKey]int{}}
	oo := &observe.Options{
		Args:       args,
		Credential: o.Credential,
		Limits:     o.Limits,
		Inspect:    r.inspect,
		Done: func(dir string, t *observe.Trace) error {
			var names []string
			if h != nil {
				names = append(names, h.files...)
			}
			// The files the program mapped MAP_SHARED, as they are on disk.
			for i := range t.Events {
				e := &t.Events[i]
				if e.Kind == observe.KindSyscall && isOpen(e.Syscall.Name) && e.Syscall.OK() {
					names = append(names, e.Syscall.Path)
				}
			}
			for _, n := range names {
				p := n
				if !filepath.IsAbs(p) {
					p = filepath.Join(dir, p)
				} else if rel, err := filepath.Rel(dir, p); err != nil || strings.HasPrefix(rel, "..") {
					continue // not the program's to show
				}
				if info, err := os.Lstat(p); err == nil && info.Mode().IsRegular() && info.Size() <= 64<<20 {
					if b, err := os.ReadFile(p); err == nil {
						r.files[clean(dir, n)] = b
					}
				}
			}
			return nil
		},
	}
	if h != nil {
		oo.Setup = h.setup
	}
	if o.Kernel != nil {
		oo.Started = func(pid int) error {
			if err := o.Kernel.Start(pid); err != nil {
				return fmt.Errorf("--kernel: %w", err)
			}
			r.kernelOn = true
			return nil
		}
	}
	t, err := observe.Run(ctx, exe, oo)
	if r.kernelOn {
		r.kernel, r.kernelErr = o.Kernel.Stop()
	}
	if err != nil {
		return nil, err
	}
	r.t = t
	r.resolvePaths()
	return r, nil
}

// isOpen reports whether a system call opens a file by its path.
func isOpen(name string) bool { return name == "openat" || name == "open" || name == "creat" }

// clean makes a path the program used relative to its directory.
func clean(dir, p string) string {
	if filepath.IsAbs(p) {
		if rel, err := filepath.Rel(dir, p); err == nil && !strings.HasPrefix(rel, "..") {
			return rel
		}
		return p
	}
	return filepath.Clean(p)
}

// inspect reads the memory of a stopped process that the checks look at:
// the range it unmaps at munmap; the mappings its fault handlers made when
// they end (a program may never get to exit: vmsim stops a fault loop, a
// second fault kills it); and, when it is about to exit, to die of a
// signal or to be stopped by vmsim, every small mapping it has.
func (r *run) inspect(t *observe.Trace, tgid int, mem observe.Memory, in observe.Inspection) {
	last := &t.Events[len(t.Events)-1]
	read := func(addr, n uint64, when string) {
		n = min(n, maxSnapshot)
		b := make([]byte, n)
		if got, err := mem.ReadAt(b, addr); err == nil || got > 0 {
			r.keep(snapshot{tgid: tgid, seq: last.Seq, when: when, addr: addr, data: b[:got]})
		}
	}
	all := func(when string) {
		for _, m := range mappingsOf(t, tgid, len(t.Events), true) {
			if m.length <= maxSnapshot {
				read(m.addr, m.length, when)
			}
		}
	}
	switch in.At {
	case observe.AtSyscall:
		switch name := last.Syscall.Name; name {
		case "munmap":
			read(last.Syscall.Args[0], last.Syscall.Args[1], "at munmap")
		case "exit_group", "exit":
			all("at " + name)
		}
	case observe.AtHandlerEnd:
		for _, s := range in.Ended {
			if !s.IsFault() || s.Seq < 0 {
				continue
			}
			when := fmt.Sprintf("as its %s handler returned", observe.SignalName(s.Signo))
			if s.End == observe.EndJumped {
				when = fmt.Sprintf("as it jumped out of its %s handler", observe.SignalName(s.Signo))
			}
			// The handler's events lie between its signal and now.
			for i := s.Seq + 1; i <= last.Seq; i++ {
				e := &t.Events[i]
				if e.Handler == s && e.Kind == observe.KindSyscall && e.Syscall.Name == "mmap" && e.Syscall.OK() {
					read(uint64(e.Syscall.Ret), (e.Syscall.Args[1]+r.ps-1)&^(r.ps-1), when)
				}
			}
		}
	case observe.AtSignal:
		all(fmt.Sprintf("as %s killed it", observe.SignalName(last.Signal.Signo)))
	case observe.AtStop:
		all("before vmsim stopped it")
	}
}

// keep adds a snapshot, in place of an older one of the same range:
// only the latest is ever looked at.
func (r *run) keep(s snapshot) {
	k := snapKey{s.tgid, s.addr, uint64(len(s.data))}
	if i, ok := r.snapAt[k]; ok {
		r.snaps[i] = s
		return
	}
	r.snapAt[k] = len(r.snaps)
	r.snaps = append(r.snaps, s)
}

// mapping is a successful mmap.
type mapping struct {
	ev           *observe.Event
	addr, length uint64
	prot, flags  uint64
	fd           int
	// inherited reports whether a parent mapped it before the fork.
	inherited bool
}

// Protection and mapping bits, as the kernel spells them on every Linux
// architecture this package supports.
const (
	protRead     = 0x1
	protWrite    = 0x2
	mapShared    = 0x1
	mapPrivate   = 0x2
	mapType      = 0xf
	mapFixed     = 0x10
	mapAnonymous = 0x20
	// oCreat is O_CREAT, the same on x86-64 and arm64.
	oCreat = 0x40
)

// byLoader reports whether the dynamic loader made the mapping, before
// main: the program's libraries, their data and thread-local storage,
// never the exercise's memory.
func (r *run) byLoader(m *mapping) bool { return r.t.Loader.Contains(m.ev.Syscall.IP) }

func (m *mapping) shared() bool    { return m.flags&mapType == mapShared || m.flags&mapType == 0x3 }
func (m *mapping) anonymous() bool { return m.flags&mapAnonymous != 0 }
func (m *mapping) contains(a uint64) bool {
	return a >= m.addr && a < m.addr+m.length
}

// mappingsOf returns the mappings process tgid made before event seq, its
// own and those its ancestors made before forking it, oldest first; with
// live, only those still mapped at seq (munmap and MAP_FIXED followed).
func mappingsOf(t *observe.Trace, tgid, seq int, live bool) []*mapping {
	// The chain of ancestors, with the event that forked each.
	forkedAt := map[int]int{tgid: seq}
	for p := tgid; ; {
		parent, at := parentOf(t, p)
		if parent == 0 {
			break
		}
		forkedAt[parent] = at
		p = parent
	}
	var out []*mapping
	ps := uint64(os.Getpagesize())
	for i := range t.Events {
		e := &t.Events[i]
		limit, ok := forkedAt[e.TGID]
		if !ok || e.Seq >= limit || e.Kind != observe.KindSyscall || !e.Syscall.OK() {
			continue
		}
		a := e.Syscall.Args
		switch e.Syscall.Name {
		case "mmap":
			m := &mapping{ev: e, addr: uint64(e.Syscall.Ret), length: (a[1] + ps - 1) &^ (ps - 1), prot: a[2], flags: a[3], fd: e.Syscall.Int(4), inherited: e.TGID != tgid}
			if live {
				// A new mapping replaces what it overlaps (MAP_FIXED).
				out = dropOverlaps(out, m.addr, m.length)
			}
			out = append(out, m)
		case "munmap":
			if live {
				out = dropOverlaps(out, a[0], (a[1]+ps-1)&^(ps-1))
			}
		}
	}
	return out
}

// dropOverlaps removes the mappings that overlap [addr, addr+n).
func dropOverlaps(ms []*mapping, addr, n uint64) []*mapping {
	out := ms[:0]
	for _, m := range ms {
		if m.addr < addr+n && addr < m.addr+m.length {
			continue
		}
		out = append(out, m)
	}
	return out
}

// parentOf returns the process that forked tgid and the fork's event.
func parentOf(t *observe.Trace, tgid int) (int, int) {
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind == observe.KindFork && e.Fork.Child == tgid && !e.Fork.Thread {
			return e.TGID, e.Seq
		}
	}
	return 0, 0
}

// resolvePaths follows each process's descriptors (open, close, dup,
// inherited at fork) and notes the path behind the descriptor argument of
// the calls that take one.
func (r *run) resolvePaths() {
	r.paths = map[int]string{}
	tables := map[int]map[int]string{}
	table := func(tgid int) map[int]string {
		if tables[tgid] == nil {
			tables[tgid] = map[int]string{}
		}
		return tables[tgid]
	}
	dir := r.t.Dir
	for i := range r.t.Events {
		e := &r.t.Events[i]
		if e.Kind == observe.KindFork && !e.Fork.Thread {
			child := map[int]string{}
			for fd, p := range table(e.TGID) {
				child[fd] = p
			}
			tables[e.Fork.Child] = child
			continue
		}
		if e.Kind != observe.KindSyscall {
			continue
		}
		sc := e.Syscall
		fds := table(e.TGID)
		switch sc.Name {
		case "read", "write", "pread64", "pwrite64", "lseek", "ftruncate", "fstat", "fsync", "fdatasync", "fallocate", "readv", "writev":
			r.paths[e.Seq] = fds[sc.Int(0)]
		case "mmap":
			if sc.Args[3]&mapAnonymous == 0 {
				r.paths[e.Seq] = fds[sc.Int(4)]
			}
		case "sendfile", "copy_file_range", "splice":
			r.paths[e.Seq] = fds[sc.Int(0)] + "\x00" + fds[sc.Int(map[string]int{"sendfile": 1, "copy_file_range": 2, "splice": 2}[sc.Name])]
		}
		if !sc.OK() {
			continue
		}
		switch sc.Name {
		case "open", "openat", "creat":
			fds[int(sc.Ret)] = clean(dir, sc.Path)
		case "close":
			delete(fds, sc.Int(0))
		case "dup":
			fds[int(sc.Ret)] = fds[sc.Int(0)]
		case "dup2", "dup3":
			fds[sc.Int(1)] = fds[sc.Int(0)]
		case "fcntl":
			if sc.Args[1] == 0 || sc.Args[1] == 1030 { // F_DUPFD, F_DUPFD_CLOEXEC
				fds[int(sc.Ret)] = fds[sc.Int(0)]
			}
		}
	}
}

// pathOf returns the path of the descriptor event e used ("" if unknown).
func (r *run) pathOf(e *observe.Event) string { return r.paths[e.Seq] }

// faults returns the faults (signals raised by the CPU) of process tgid.
func (r *run) faults(tgid int) []*observe.Event {
	var out []*observe.Event
	for _, e := range r.t.Signals(tgid) {
		if e.Signal.IsFault() {
			out = append(out, e)
		}
	}
	return out
}

// inHandler returns the system calls made inside the handler of s.
func (r *run) inHandler(s *observe.Signal) []*observe.Event {
	var out []*observe.Event
	for i := range r.t.Events {
		e := &r.t.Events[i]
		if e.Kind == observe.KindSyscall && e.Handler == s {
			out = append(out, e)
		}
	}
	return out
}

// action returns the last successful rt_sigaction of sig by process tgid
// (or an ancestor before the fork) before event seq, if it set a handler.
func (r *run) action(tgid int, sig syscall.Signal, seq int) *observe.Event {
	var found *observe.Event
	for _, e := range r.t.Syscalls(0, "rt_sigaction") {
		if e.Seq >= seq || (e.TGID != tgid && !r.ancestor(e.TGID, tgid, e.Seq)) {
			continue
		}
		if e.Syscall.OK() && e.Syscall.Int(0) == int(sig) && e.Syscall.Action != nil {
			found = e
		}
	}
	if found == nil || !found.Syscall.Action.IsHandler() {
		return nil
	}
	return found
}

// ancestor reports whether process a forked (directly or not) process b
// after event seq.
func (r *run) ancestor(a, b, seq int) bool {
	for p := b; ; {
		parent, at := parentOf(r.t, p)
		if parent == 0 {
			return false
		}
		if parent == a {
			return at > seq
		}
		p = parent
	}
}

// memory returns the bytes of process tgid at addr as last read (see
// inspect) after event after (the mmap that made them), n of them, and
// the snapshot they were read in.
func (r *run) memory(tgid int, addr, n uint64, after int) ([]byte, *snapshot, bool) {
	var best *snapshot
	for i := range r.snaps {
		s := &r.snaps[i]
		if s.tgid == tgid && s.seq > after && addr >= s.addr && addr+n <= s.addr+uint64(len(s.data)) && (best == nil || s.seq >= best.seq) {
			best = s
		}
	}
	if best == nil {
		return nil, nil, false
	}
	off := addr - best.addr
	return best.data[off : off+n], best, true
}

// output returns what process tgid wrote to stdout and stderr.
func (r *run) output(tgid int) string { return r.t.Written(tgid, 1) + r.t.Written(tgid, 2) }

// children returns the processes the first process forked.
func (r *run) children() []int { return r.t.Children(r.t.PID) }
