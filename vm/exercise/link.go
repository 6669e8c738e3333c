package exercise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"golang.org/x/sys/unix"
)

// The links between the parent of a two-process exercise and its second
// process: a child it starts (the Go stand-in for fork), or a peer started
// by hand that meets it at a FIFO.

// link is how the parent meets the second process.
type link interface {
	// who names the second process in the output: "child" or "peer".
	who() string
	// anyProcess reports whether the second process may be any process
	// (started by hand), not only vmsim: it may then map the file another
	// way, or send no report at all.
	anyProcess() bool
	// fork starts the second process, if the parent is the one that
	// starts it. It is called once the parent's mapping exists: the fork
	// point of the C program.
	fork(ctx context.Context) error
	// await tells the second process that the parent has written page 2,
	// and waits until the second process has finished. It returns the
	// lines the second process reported.
	await(ctx context.Context) ([]string, error)
	// close releases what the link holds.
	close()
}

// spawnLink starts a child with two pipes, the Go counterpart of a fork
// followed by a wait on a pipe: the child blocks reading the "go" pipe
// until the parent writes to it, and reports on the other pipe, whose end
// of file tells the parent that the child is done.
type spawnLink struct {
	w     io.Writer
	spawn Spawner
	args  []string
	// extra are descriptors passed after the two pipes (fd 5 on).
	extra []*os.File

	cmd       *exec.Cmd
	goW       *os.File
	reportR   *os.File
	stderr    bytes.Buffer
	stopKill  func() bool
	waitError error
}

func (l *spawnLink) who() string { return "child" }

func (l *spawnLink) anyProcess() bool { return false }

func (l *spawnLink) fork(ctx context.Context) error {
	if l.spawn == nil {
		return ErrNoSpawner
	}
	goR, goW, err := os.Pipe()
	if err != nil {
		return err
	}
	reportR, reportW, err := os.Pipe()
	if err != nil {
		goR.Close()
		goW.Close()
		return err
	}
	defer goR.Close()
	defer reportW.Close()
	l.goW, l.reportR = goW, reportR
	cmd, err := l.spawn(l.args)
	if err != nil {
		return fmt.Errorf("start the child: %w", err)
	}
	cmd.ExtraFiles = append([]*os.File{goR, reportW}, l.extra...)
	cmd.Stdout = nil
	cmd.Stderr = &l.stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the child: %w", err)
	}
	l.cmd = cmd
	l.stopKill = context.AfterFunc(ctx, func() { cmd.Process.Kill() })
	fmt.Fprintf(l.w, "fork(): the child (pid %d) maps the same memory and waits on a pipe\n", cmd.Process.Pid)
	return nil
}

func (l *spawnLink) await(ctx context.Context) ([]string, error) {
	fmt.Fprintln(l.w, "parent: write to the pipe to let the child go; wait(&status)")
	_, goErr := l.goW.Write([]byte("go\n"))
	l.goW.Close()
	out, readErr := io.ReadAll(l.reportR)
	waitErr := l.cmd.Wait()
	l.cmd = nil
	lines := splitLines(out)
	switch {
	case ctx.Err() != nil:
		return lines, ctx.Err()
	case waitErr != nil:
		msg := strings.TrimSpace(l.stderr.String())
		if msg == "" {
			msg = "no message"
		}
		return lines, fmt.Errorf("%w: child: %w: %s", ErrSecondProcess, waitErr, msg)
	case goErr != nil:
		// The child closed its end without waiting: it is gone.
		return lines, fmt.Errorf("%w: tell the child to go: %w", ErrSecondProcess, goErr)
	case readErr != nil:
		return lines, fmt.Errorf("read the child's report: %w", readErr)
	}
	return lines, nil
}

func (l *spawnLink) close() {
	if l.stopKill != nil {
		l.stopKill()
	}
	if l.cmd != nil {
		l.cmd.Process.Kill()
		l.cmd.Wait()
	}
	for _, f := range []*os.File{l.goW, l.reportR} {
		if f != nil {
			f.Close()
		}
	}
}

func splitLines(b []byte) []string {
	s := strings.TrimRight(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// childFiles are the descriptors a spawned child finds: the pipe it waits
// on, the pipe it reports on, then the exercise's own (the memfd).
const (
	childGoFD     = 3
	childReportFD = 4
	childMemFD    = 5
)

// childLink returns the child's ends of the pipes: a wait function that
// blocks until the parent writes "go", and the report writer.
func childLink() (wait func() error, rep *os.File) {
	goR := os.NewFile(childGoFD, "go pipe")
	rep = os.NewFile(childReportFD, "report pipe")
	wait = func() error {
		defer goR.Close()
		buf := make([]byte, 3)
		if _, err := io.ReadFull(goR, buf); err != nil || string(buf) != "go\n" {
			return fmt.Errorf("wait for the parent: got %q: %v", buf, err)
		}
		return nil
	}
	return wait, rep
}

// fifoPath is where a parent waits for a peer to announce itself.
func fifoPath(file string) string { return file + ".peer" }

// fifoLink waits for a peer started by hand. The parent writes page 2
// first; then it creates the FIFO FILE.peer and opens it for reading
// without blocking, which marks it as waiting; then it prints how to start
// the peer. The peer opens the FIFO for writing without blocking, which
// fails unless a parent is waiting (so a peer started too early fails
// clearly instead of reading the file before the parent wrote it), writes
// its report there and closes it: the end of file tells the parent that
// the peer is done.
type fifoLink struct {
	w       io.Writer
	file    string
	private bool
	fifo    string
	made    bool
}

func (l *fifoLink) who() string { return "peer" }

func (l *fifoLink) anyProcess() bool { return true }

func (l *fifoLink) fork(ctx context.Context) error { return nil }

func (l *fifoLink) await(ctx context.Context) ([]string, error) {
	l.fifo = fifoPath(l.file)
	if err := unix.Mkfifo(l.fifo, 0o600); errors.Is(err, unix.EEXIST) {
		// A parent that was killed left its FIFO: take it over. Anything
		// else by that name is not ours to remove.
		if info, serr := os.Lstat(l.fifo); serr != nil || info.Mode()&os.ModeNamedPipe == 0 {
			return nil, &os.PathError{Op: "mkfifo", Path: l.fifo, Err: fmt.Errorf("%w, and is not a FIFO", err)}
		}
		os.Remove(l.fifo)
		if err := unix.Mkfifo(l.fifo, 0o600); err != nil {
			return nil, &os.PathError{Op: "mkfifo", Path: l.fifo, Err: err}
		}
	} else if err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: l.fifo, Err: err}
	}
	l.made = true
	fd, err := unix.Open(l.fifo, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: l.fifo, Err: err}
	}
	defer unix.Close(fd)
	flag := ""
	if l.private {
		flag = " --private"
	}
	fmt.Fprintf(l.w, "parent: waiting at %s for a peer: in another terminal run\n", l.fifo)
	fmt.Fprintf(l.w, "parent:   vmsim exercise shared-file --peer %s%s\n", l.file, flag)
	out, err := readUntilEOF(ctx, fd)
	return splitLines(out), err
}

func (l *fifoLink) close() {
	if l.made {
		os.Remove(l.fifo)
	}
}

// readUntilEOF reads the FIFO opened at fd (non-blocking, read side) until
// a writer has come and gone, or ctx is done. It polls instead of reading
// first: a read on a FIFO that no writer has opened yet returns end of file
// at once, whereas poll waits for the first writer.
func readUntilEOF(ctx context.Context, fd int) ([]byte, error) {
	cancelR, cancelW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer cancelR.Close()
	defer cancelW.Close()
	stop := context.AfterFunc(ctx, func() { cancelW.Write([]byte{1}) })
	defer stop()
	var out []byte
	buf := make([]byte, 4096)
	for {
		fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}, {Fd: int32(cancelR.Fd()), Events: unix.POLLIN}}
		if _, err := unix.Poll(fds, -1); err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			return out, os.NewSyscallError("poll", err)
		}
		if fds[1].Revents != 0 {
			return out, ctx.Err()
		}
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return out, os.NewSyscallError("read", err)
		case n == 0:
			return out, nil
		}
		out = append(out, buf[:n]...)
	}
}

// openAsPeer opens the FIFO of file for writing, which fails with
// [ErrNotWaiting] unless a parent is waiting on it.
func openAsPeer(file string) (*os.File, error) {
	fifo := fifoPath(file)
	fd, err := unix.Open(fifo, unix.O_WRONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	switch {
	case errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENXIO):
		return nil, fmt.Errorf("%s: %w (start \"vmsim exercise shared-file --file %s\" first): %v", fifo, ErrNotWaiting, file, err)
	case err != nil:
		return nil, &os.PathError{Op: "open", Path: fifo, Err: err}
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), fifo), nil
}
