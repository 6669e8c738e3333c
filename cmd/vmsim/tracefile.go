package main

import (
	"fmt"
	"io"
	"os"

	"vmsim/pager"
	"vmsim/traces"
)

// traceFlags are the input flags shared by the commands that read traces.
type traceFlags struct {
	format   string
	pageSize uint64
}

// loadTrace reads a whole trace (path, or "-" for stdin) into memory with
// dense page ids.
func loadTrace(path string, f traceFlags, stdin io.Reader) (*pager.Trace, error) {
	var src io.Reader
	name := path
	if path == "-" {
		src, name = stdin, "-"
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer file.Close()
		src = file
	}
	var r traces.Reader
	switch f.format {
	case "", "auto", "pages":
		r = traces.NewPagesReader(src, name)
	default:
		return nil, fmt.Errorf("trace format %q is not supported (known: pages)", f.format)
	}
	b := pager.NewBuilder(name)
	buf := make([]traces.Access, 8192)
	for {
		n, err := r.Read(buf)
		for _, a := range buf[:n] {
			b.Add(a.Page, a.Write)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return b.Trace(), nil
}
