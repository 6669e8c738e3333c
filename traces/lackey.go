package traces

import (
	"errors"
	"fmt"
	"io"

	"vmsim/vm/arch"
)

// The lackey format is what valgrind --tool=lackey --trace-mem=yes prints
// (on standard error, or to the file of --log-file):
//
//	==15214== Lackey, an example Valgrind tool
//	I  0401ab70,3
//	 S 1fff000758,8
//	 L 04032e58,8
//	 M 04033e06,1
//
// I is an instruction fetch, L a load, S a store and M a modify (a load then
// a store of the same bytes); ADDR is hex without 0x and SIZE decimal bytes.
// Lines that start with "==" or "--" are valgrind's own messages and are
// skipped, as are blank lines. An access whose bytes cross a page boundary
// touches every page it covers, in address order; an M touches them all for
// the read, then all again for the write.

// maxLackeySize bounds SIZE: real records are at most a vector register
// (64 bytes); a larger one is taken for garbage rather than expanded into
// millions of accesses.
const maxLackeySize = 1 << 16

var (
	errLackeyLine = errors.New("expected I, L, S or M, then ADDR,SIZE (ADDR hex, SIZE decimal)")
	errLackeySize = errors.New("expected SIZE between 1 and 65536")
	errLackeyWrap = errors.New("expected ADDR+SIZE within 64 bits")
)

// LackeyOptions configures a [LackeyReader]. The zero value is the default.
type LackeyOptions struct {
	// PageSize is the page size in bytes; 0 means DefaultPageSize.
	PageSize arch.PageSize
	// NoInstr drops instruction fetches (I records): only data accesses
	// remain.
	NoInstr bool
}

// LackeyReader reads valgrind lackey traces. Instruction fetches and loads
// are reads; stores are writes; a modify is a read then a write. It
// allocates nothing per access.
type LackeyReader struct {
	name    string
	lines   lineReader
	shift   uint
	noInstr bool
	err     error // sticky: returned after the accesses before it

	// The pages of the current record not yet returned: cur..last, then,
	// for a modify, first..last again as writes.
	pending   bool
	cur, last uint64
	first     uint64
	write     bool
	thenWrite bool
}

// NewLackeyReader returns a reader of lackey output from src; name names
// the trace in errors. nil options mean the defaults. The error for a bad
// page size wraps [ErrPageSize].
func NewLackeyReader(src io.Reader, name string, opts *LackeyOptions) (*LackeyReader, error) {
	if opts == nil {
		opts = &LackeyOptions{}
	}
	ps, err := checkPageSize(opts.PageSize)
	if err != nil {
		return nil, err
	}
	return &LackeyReader{name: name, lines: newLineReader(src), shift: ps.Shift(), noInstr: opts.NoInstr}, nil
}

// Read implements [Reader].
func (l *LackeyReader) Read(out []Access) (int, error) {
	n := 0
	for n < len(out) {
		if l.pending {
			out[n] = Access{Page: arch.PageNum(l.cur), Write: l.write}
			n++
			switch {
			case l.cur != l.last:
				l.cur++
			case l.thenWrite:
				l.thenWrite, l.write, l.cur = false, true, l.first
			default:
				l.pending = false
			}
			continue
		}
		if l.err != nil {
			break
		}
		line, err := l.lines.next()
		if err != nil {
			if err == errLineTooLong {
				err = &ParseError{File: l.name, Line: l.lines.line, Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
			}
			l.err = err
			break
		}
		if err := l.parse(line); err != nil {
			l.err = &ParseError{File: l.name, Line: l.lines.line, Token: string(line), Err: fmt.Errorf("%w: %w", ErrSyntax, err)}
		}
	}
	return finish(n, l.err)
}

// parse parses one line and sets the pending pages of its record, if any.
func (l *LackeyReader) parse(line []byte) error {
	i := skipSpace(line, 0)
	if i == len(line) {
		return nil
	}
	if len(line) >= 2 && (line[0] == '=' && line[1] == '=' || line[0] == '-' && line[1] == '-') {
		return nil
	}
	kind := line[i]
	write, modify := false, false
	switch kind {
	case 'I':
		if l.noInstr {
			// Still check the line, so that garbage is not skipped.
			_, _, err := lackeyRecord(line, i+1)
			return err
		}
	case 'L':
	case 'S':
		write = true
	case 'M':
		modify = true
	default:
		return errLackeyLine
	}
	addr, size, err := lackeyRecord(line, i+1)
	if err != nil {
		return err
	}
	l.first = addr >> l.shift
	l.cur = l.first
	l.last = (addr + size - 1) >> l.shift
	l.write = write
	l.thenWrite = modify
	l.pending = true
	return nil
}

// lackeyRecord parses " ADDR,SIZE" from line[i:].
func lackeyRecord(line []byte, i int) (addr, size uint64, err error) {
	if i == len(line) || !isSpace(line[i]) {
		return 0, 0, errLackeyLine
	}
	i = skipSpace(line, i)
	start := i
	for i < len(line) && line[i] != ',' {
		i++
	}
	if i == len(line) {
		return 0, 0, errLackeyLine
	}
	addr, ok := parseHex(line[start:i])
	if !ok {
		return 0, 0, errLackeyLine
	}
	i++
	start = i
	for i < len(line) && !isSpace(line[i]) {
		i++
	}
	size, ok = parseDec(line[start:i])
	if !ok {
		return 0, 0, errLackeyLine
	}
	if skipSpace(line, i) != len(line) {
		return 0, 0, errLackeyLine
	}
	if size == 0 || size > maxLackeySize {
		return 0, 0, errLackeySize
	}
	if addr+(size-1) < addr {
		return 0, 0, errLackeyWrap
	}
	return addr, size, nil
}
