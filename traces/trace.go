package traces

import (
	"errors"
	"fmt"
	"io"

	"vmsim/vm/arch"
)

// Access is one memory access of a trace.
type Access struct {
	// Page is the page number: an address divided by the page size. (A
	// [DenseReader]'s ReadDense puts the page's dense id here instead.)
	Page arch.PageNum
	// Write reports whether the access writes (else it reads).
	Write bool
}

// Reader reads a trace in batches.
type Reader interface {
	// Read fills buf with up to len(buf) accesses and returns how many. At
	// the end of the trace it returns 0, io.EOF. A malformed record gives a
	// *ParseError; the accesses before it are returned first (n > 0, nil),
	// the error on the next call.
	Read(buf []Access) (int, error)
}

// Writer writes a trace in some format.
type Writer interface {
	// Write appends accesses to the trace. An access the format cannot
	// hold gives an error wrapping ErrPageRange.
	Write(as []Access) error
	// Close writes what is buffered and completes the format (a header, a
	// pass that needs the whole trace). It does not close the underlying
	// io.Writer. The Writer must not be used after.
	Close() error
}

// ErrSyntax is wrapped by parse errors of text formats.
var ErrSyntax = errors.New("syntax error")

// ParseError reports a malformed record.
type ParseError struct {
	// File is the trace's name ("-" for standard input).
	File string
	// Line is the 1-based line of a text format, or 0.
	Line int
	// Offset is the byte offset of a binary record, used when Line is 0.
	Offset int64
	// Token is the offending text, if any.
	Token string
	// Err says what was expected.
	Err error
	// Detected is the format the trace was read as when it was detected
	// rather than named ([FormatAuto]), else "": a syntax error may mean
	// that the guess was wrong.
	Detected string
	// DetectedLine is the line the detection decided on, 0 if none.
	DetectedLine int
}

// Error returns "file:line: what was expected", or "file: byte N: ..." for
// a binary format; for a detected format it adds the guess and the line it
// was made on.
func (e *ParseError) Error() string {
	where := fmt.Sprintf("%s:%d", e.File, e.Line)
	if e.Line == 0 {
		where = fmt.Sprintf("%s: byte %d", e.File, e.Offset)
	}
	msg := fmt.Sprintf("%s: %v", where, e.Err)
	if e.Token != "" {
		msg = fmt.Sprintf("%s: %q: %v", where, e.Token, e.Err)
	}
	switch {
	case e.Detected != "" && e.DetectedLine > 0:
		msg += fmt.Sprintf(" (format detected as %s from line %d)", e.Detected, e.DetectedLine)
	case e.Detected != "":
		msg += fmt.Sprintf(" (format detected as %s)", e.Detected)
	}
	return msg
}

// Unwrap returns Err.
func (e *ParseError) Unwrap() error { return e.Err }

// ReadAll reads every access of r.
func ReadAll(r Reader) ([]Access, error) {
	var all []Access
	buf := make([]Access, 4096)
	for {
		n, err := r.Read(buf)
		all = append(all, buf[:n]...)
		if err == io.EOF {
			return all, nil
		}
		if err != nil {
			return all, err
		}
	}
}

// sliceReader reads accesses from memory.
type sliceReader struct{ a []Access }

// FromSlice returns a Reader over a.
func FromSlice(a []Access) Reader { return &sliceReader{a} }

// Read implements Reader.
func (s *sliceReader) Read(buf []Access) (int, error) {
	if len(s.a) == 0 {
		return 0, io.EOF
	}
	n := copy(buf, s.a)
	s.a = s.a[n:]
	return n, nil
}

// DenseReader is implemented by readers of formats that number pages densely
// (vmt): a replay can take the ids as they come, with no hash table of page
// numbers of its own.
type DenseReader interface {
	Reader
	// Dense reports whether the trace is dense; it may read the header.
	Dense() (bool, error)
	// ReadDense is Read with each access's dense id in Access.Page: 0, 1,
	// 2... in the order of the pages' first accesses, every id at most one
	// more than the largest before it.
	ReadDense(buf []Access) (int, error)
	// Pages returns the page number of each id given so far, indexed by
	// id: a view that the next ReadDense may extend (do not modify it).
	Pages() []arch.PageNum
}

// IDsOnlyReader is implemented by a [DenseReader] that can stop keeping
// the page numbers of its ids (8 bytes per distinct page) for a consumer
// that will only call ReadDense from now on, and never Pages.
type IDsOnlyReader interface {
	DenseReader
	IDsOnly()
}

// Counter is implemented by readers of formats that say how many accesses
// the trace holds (a vmt header), so that a consumer that keeps the whole
// trace can size its memory once instead of growing it.
type Counter interface {
	// Count returns the number of accesses, or false if it is not known.
	Count() (uint64, bool)
}
