package traces

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"

	"vmsim/vm/arch"
)

// The rw format: one access a line, "R ADDR" or "W ADDR" (R and W in either
// case; ADDR decimal, or hex with 0x), blank lines allowed, # starts a
// comment that runs to the end of the line. The page is ADDR / page size.
// Example:
//
//	# a read then a write of the page at 0x7f0000001000
//	R 0x7f0000001000
//	w 139637976731648

var errRWLine = errors.New("expected R ADDR or W ADDR (ADDR decimal or 0x hex)")

// RWReader reads the rw format. It allocates nothing per access.
type RWReader struct {
	name  string
	lines lineReader
	shift uint
	err   error // sticky: returned after the accesses before it
}

// NewRWReader returns a reader of the rw format from src; name names the
// trace in errors. Addresses are divided by pageSize (0 means
// [DefaultPageSize]); the error for a bad page size wraps [ErrPageSize].
func NewRWReader(src io.Reader, name string, pageSize arch.PageSize) (*RWReader, error) {
	ps, err := checkPageSize(pageSize)
	if err != nil {
		return nil, err
	}
	return &RWReader{name: name, lines: newLineReader(src), shift: ps.Shift()}, nil
}

// Read implements [Reader].
func (r *RWReader) Read(out []Access) (int, error) {
	n := 0
	for n < len(out) && r.err == nil {
		line, err := r.lines.next()
		if err != nil {
			r.err = r.lineErr(err)
			break
		}
		a, ok, bad := parseRW(line)
		if bad {
			r.err = &ParseError{File: r.name, Line: r.lines.line, Token: string(line), Err: fmt.Errorf("%w: %w", ErrSyntax, errRWLine)}
			break
		}
		if !ok {
			continue
		}
		a.Page >>= r.shift
		out[n] = a
		n++
	}
	return finish(n, r.err)
}

// lineErr names the line of an overlong line; other errors pass unchanged.
func (r *RWReader) lineErr(err error) error {
	if err == errLineTooLong {
		return &ParseError{File: r.name, Line: r.lines.line, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
	}
	return err
}

// parseRW parses one line. ok is false for a blank or comment line, bad is
// true for a malformed one. The access's Page holds the address.
func parseRW(line []byte) (a Access, ok, bad bool) {
	i := skipSpace(line, 0)
	if i == len(line) || line[i] == '#' {
		return a, false, false
	}
	switch line[i] {
	case 'R', 'r':
	case 'W', 'w':
		a.Write = true
	default:
		return a, false, true
	}
	i++
	if i == len(line) || !isSpace(line[i]) {
		return a, false, true
	}
	i = skipSpace(line, i)
	start := i
	for i < len(line) && !isSpace(line[i]) && line[i] != '#' {
		i++
	}
	addr, good := parseNum(line[start:i])
	if !good {
		return a, false, true
	}
	if i = skipSpace(line, i); i < len(line) && line[i] != '#' {
		return a, false, true
	}
	a.Page = arch.PageNum(addr)
	return a, true, false
}

// RWWriter writes the rw format: "R 0xADDR" or "W 0xADDR" a line, where ADDR
// is the first address of the page.
type RWWriter struct {
	w     io.Writer
	shift uint
	buf   []byte
}

// NewRWWriter returns a writer of the rw format to w, for pages of pageSize
// bytes (0 means [DefaultPageSize]). Call Close at the end.
func NewRWWriter(w io.Writer, pageSize arch.PageSize) (*RWWriter, error) {
	ps, err := checkPageSize(pageSize)
	if err != nil {
		return nil, err
	}
	return &RWWriter{w: w, shift: ps.Shift(), buf: make([]byte, 0, 64<<10)}, nil
}

// ErrPageRange is wrapped by the error of a writer given a page whose
// address, or whose number, the format cannot hold.
var ErrPageRange = errors.New("page out of the format's range")

// Write implements [Writer]. A page whose address overflows 64 bits gives an
// error wrapping [ErrPageRange].
func (rw *RWWriter) Write(as []Access) error {
	for _, a := range as {
		if bits.LeadingZeros64(uint64(a.Page)) < int(rw.shift) {
			return fmt.Errorf("rw: page %#x: address overflows 64 bits: %w", a.Page, ErrPageRange)
		}
		if a.Write {
			rw.buf = append(rw.buf, "W 0x"...)
		} else {
			rw.buf = append(rw.buf, "R 0x"...)
		}
		rw.buf = strconv.AppendUint(rw.buf, uint64(a.Page)<<rw.shift, 16)
		rw.buf = append(rw.buf, '\n')
		if len(rw.buf) > cap(rw.buf)-32 {
			if err := rw.flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

func (rw *RWWriter) flush() error {
	_, err := rw.w.Write(rw.buf)
	rw.buf = rw.buf[:0]
	return err
}

// Close implements [Writer]: it writes what is buffered. It does not close
// the underlying writer.
func (rw *RWWriter) Close() error { return rw.flush() }
