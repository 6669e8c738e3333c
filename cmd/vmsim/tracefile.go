package main

import (
	"context"
	"errors"
	"io"
	"os"
	"slices"
	"strings"
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

// openTrace opens a trace (path, or "-" for stdin) for streaming; reading
// it fails with ctx's error once ctx is done.
func openTrace(ctx context.Context, path string, f traceFlags, stdin io.Reader) (*openedTrace, error) {
	t := &openedTrace{name: path, read: new(atomic.Int64), close: func() error { return nil }}
	var src io.Reader
	if path == "-" {
		src = stdin
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		if st, err := file.Stat(); err == nil {
			t.size = st.Size()
		}
		src, t.close = file, file.Close
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

// loadTrace reads a whole trace into memory with dense page ids.
func loadTrace(ctx context.Context, path string, f traceFlags, stdin io.Reader) (*pager.Trace, error) {
	t, err := openTrace(ctx, path, f, stdin)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return pager.Load(ctx, path, t.reader, nil)
}
