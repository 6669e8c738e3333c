package main

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// traceFlags are the input flags shared by the commands that read traces.
type traceFlags struct {
	format   string
	pageSize uint64
	noInstr  bool
}

// addTraceFlags declares the input flags on a command.
func addTraceFlags(cmd *cobra.Command, f *traceFlags) {
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "auto", "trace `FORMAT`: auto, "+strings.Join(traces.Formats(), ", ")+" (gzip and zstd are decompressed)")
	fl.Uint64Var(&f.pageSize, "page-size", 4096, "bytes per page, for traces of addresses (rw, lackey)")
	fl.BoolVar(&f.noInstr, "no-instr", false, "lackey: drop instruction fetches")
}

// check validates the input flags.
func (f traceFlags) check(cmd *cobra.Command) error {
	if f.format != "auto" && !slices.Contains(traces.Formats(), f.format) {
		return usageErrorf(cmd, "--format %q: want auto, %s", f.format, strings.Join(traces.Formats(), ", "))
	}
	if !arch.PageSize(f.pageSize).Valid() {
		return usageErrorf(cmd, "--page-size %d: must be a power of two", f.pageSize)
	}
	return nil
}

// openedTrace is a trace being read: its reader, its name, and how far the
// reading got in bytes out of size (0 if unknown, as for stdin).
type openedTrace struct {
	// reader is the format's own reader: pass it on as it is, so that
	// optional interfaces (next uses, dense ids) reach the engine.
	reader traces.Reader
	name   string
	size   int64
	read   *atomic.Int64
	close  func() error
}

// countingReader counts the bytes read through it, for progress bars, and
// stops with the context's error once it is done (Ctrl-C), whatever the
// format and whatever reads it.
type countingReader struct {
	ctx context.Context
	r   io.Reader
	n   *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// asyncReader reads src on a goroutine of its own, a chunk ahead, so that a
// Read blocked on a source that may never answer (a FIFO or a pipe whose
// writer is silent) returns ctx's error once ctx is done. The goroutine, if
// blocked, is abandoned: the command is stopping.
type asyncReader struct {
	ctx  context.Context
	src  io.Reader
	once sync.Once
	ch   chan chunk
	left []byte
	err  error
}

type chunk struct {
	b   []byte
	err error
}

func newAsyncReader(ctx context.Context, src io.Reader) *asyncReader {
	return &asyncReader{ctx: ctx, src: src, ch: make(chan chunk, 1)}
}

func (a *asyncReader) fill() {
	for {
		buf := make([]byte, 64<<10)
		n, err := a.src.Read(buf)
		select {
		case a.ch <- chunk{buf[:n], err}:
		case <-a.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

func (a *asyncReader) Read(p []byte) (int, error) {
	a.once.Do(func() { go a.fill() })
	for len(a.left) == 0 {
		if a.err != nil {
			return 0, a.err
		}
		select {
		case c := <-a.ch:
			a.left, a.err = c.b, c.err
		case <-a.ctx.Done():
			return 0, a.ctx.Err()
		}
	}
	n := copy(p, a.left)
	a.left = a.left[n:]
	return n, nil
}

// mayBlock reports whether reads of src can wait forever: anything but a
// regular file (a pipe, a FIFO, a terminal, a socket).
func mayBlock(src io.Reader) bool {
	f, ok := src.(*os.File)
	if !ok {
		return false // in memory (tests)
	}
	st, err := f.Stat()
	return err != nil || !st.Mode().IsRegular()
}

// openFile opens path for reading; a FIFO's open, which waits for a
// writer, gives up with ctx's error once ctx is done.
func openFile(ctx context.Context, path string) (*os.File, error) {
	if st, err := os.Stat(path); err != nil || st.Mode()&fs.ModeNamedPipe == 0 {
		return os.Open(path)
	}
	type opened struct {
		f   *os.File
		err error
	}
	ch := make(chan opened, 1)
	go func() {
		f, err := os.Open(path)
		ch <- opened{f, err}
	}()
	select {
	case o := <-ch:
		return o.f, o.err
	case <-ctx.Done():
		go func() { // close it if the open ever completes
			if o := <-ch; o.f != nil {
				o.f.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

// openTrace opens a trace (path, or "-" for stdin) for streaming; reading
// it fails with ctx's error once ctx is done, even while a read waits on a
// silent pipe or FIFO.
func openTrace(ctx context.Context, path string, f traceFlags, stdin io.Reader) (*openedTrace, error) {
	t := &openedTrace{name: path, read: new(atomic.Int64), close: func() error { return nil }}
	var src io.Reader
	if path == "-" {
		src = stdin
	} else {
		file, err := openFile(ctx, path)
		if err != nil {
			return nil, err
		}
		if st, err := file.Stat(); err == nil && st.Mode().IsRegular() {
			t.size = st.Size()
		}
		src, t.close = file, file.Close
	}
	if mayBlock(src) {
		src = newAsyncReader(ctx, src)
	}
	src = countingReader{ctx, src, t.read}
	r, closer, err := traces.NewReader(src, path, &traces.OpenOptions{Format: f.format, PageSize: arch.PageSize(f.pageSize), NoInstr: f.noInstr})
	if err != nil {
		t.close()
		return nil, err
	}
	fileClose := t.close
	t.reader = r
	t.close = func() error { return errors.Join(closer.Close(), fileClose()) }
	return t, nil
}

// loadTrace reads a whole trace into memory with dense page ids, within
// the budget of opts.
func loadTrace(ctx context.Context, path string, f traceFlags, stdin io.Reader, opts *pager.LoadOptions) (*pager.Trace, error) {
	t, err := openTrace(ctx, path, f, stdin)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return pager.Load(ctx, path, t.reader, opts)
}

// limitReader stops after n accesses.
type limitReader struct {
	r traces.Reader
	n uint64
}

func (l *limitReader) Read(buf []traces.Access) (int, error) {
	if l.n == 0 {
		return 0, io.EOF
	}
	if uint64(len(buf)) > l.n {
		buf = buf[:l.n]
	}
	k, err := l.r.Read(buf)
	l.n -= uint64(k)
	return k, err
}

// limitNextReader is limitReader for a reader that gives next uses. A next
// use beyond the cut is no next use within the trace replayed.
type limitNextReader struct {
	*limitReader
	nr   traces.NextReader
	seen uint64
}

func (l *limitNextReader) ReadNext(buf []traces.Access, next []uint64) (int, error) {
	if l.n == 0 {
		return 0, io.EOF
	}
	if uint64(len(buf)) > l.n {
		buf = buf[:l.n]
	}
	k, err := l.nr.ReadNext(buf, next)
	end := l.seen + l.n
	for i := range next[:k] {
		if next[i] != traces.NoNext && next[i] >= end {
			next[i] = traces.NoNext
		}
	}
	l.n -= uint64(k)
	l.seen += uint64(k)
	return k, err
}
