package main

import (
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"vmsim/pager"
	"vmsim/traces"
)

// traceFlags are the input flags shared by the commands that read traces.
type traceFlags struct {
	format   string
	pageSize uint64
}

// openedTrace is a trace being read: its reader, its name, and how far the
// reading got in bytes out of size (0 if unknown, as for stdin).
type openedTrace struct {
	traces.Reader
	name  string
	size  int64
	read  *atomic.Int64
	close func() error
}

// countingReader counts the bytes read through it, for progress bars.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// openTrace opens a trace (path, or "-" for stdin) for streaming.
func openTrace(path string, f traceFlags, stdin io.Reader) (*openedTrace, error) {
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
	src = countingReader{src, t.read}
	switch f.format {
	case "", "auto", "pages":
		t.Reader = traces.NewPagesReader(src, path)
	default:
		t.close()
		return nil, fmt.Errorf("trace format %q is not supported (known: pages)", f.format)
	}
	return t, nil
}

// loadTrace reads a whole trace into memory with dense page ids.
func loadTrace(path string, f traceFlags, stdin io.Reader) (*pager.Trace, error) {
	t, err := openTrace(path, f, stdin)
	if err != nil {
		return nil, err
	}
	defer t.close()
	return pager.Load(path, t, nil)
}
