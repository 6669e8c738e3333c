package traces

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"

	"vmsim/vm/arch"
)

// The pages format: tokens separated by white space or commas; each token is
// a page number (decimal, or hex with 0x) optionally followed by w (a write)
// or r (a read, the default), in either case; # starts a comment that runs
// to the end of the line. Example: "7,0,1,2,0,3,0,4w".

var errPagesToken = errors.New("expected a page number (decimal or 0x hex), optionally followed by r or w")

// PagesReader reads the pages format. It scans its input in large blocks and
// allocates nothing per access.
type PagesReader struct {
	name string
	src  io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	eof  bool
	line int
	// inComment is set between a # and the end of its line.
	inComment bool
	// started is set once a byte-order mark at the start has been looked
	// for (and skipped).
	started bool
	err     error // sticky error, returned after the accesses before it
}

// NewPagesReader returns a reader of the pages format from src; name names
// the trace in errors.
func NewPagesReader(src io.Reader, name string) *PagesReader {
	return &PagesReader{name: name, src: src, buf: make([]byte, 256<<10), line: 1}
}

// fill reads more input, keeping the unread bytes.
func (p *PagesReader) fill() error {
	if p.r > 0 {
		p.w = copy(p.buf, p.buf[p.r:p.w])
		p.r = 0
	}
	if p.w == len(p.buf) {
		// A single token as long as the buffer: grow, up to a bound that
		// no page number comes near.
		if len(p.buf) >= maxLine {
			return &ParseError{File: p.name, Line: p.line, Err: fmt.Errorf("%w: token longer than 1 MiB: %w", ErrSyntax, errPagesToken)}
		}
		p.buf = append(p.buf, make([]byte, len(p.buf))...)
	}
	n, err := p.src.Read(p.buf[p.w:])
	p.w += n
	if err == io.EOF {
		p.eof = true
		return nil
	}
	return err
}

func isSep(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == '\f' || c == '\v'
}

// Byte classes of the pages format's scanner, which looks each byte up in a
// table instead of comparing it with every separator.
const (
	pagesOther = iota // a byte of a token other than a decimal digit
	pagesDigit
	pagesSep     // white space other than a newline, and commas
	pagesNewline // ends a line
	pagesHash    // starts a comment
)

var pagesClass = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = pagesDigit
	}
	for _, c := range " \t\r,\f\v" {
		t[c] = pagesSep
	}
	t['\n'] = pagesNewline
	t['#'] = pagesHash
	return t
}()

// leadingDigits returns how many of the 8 bytes of x, lowest first, are
// decimal digits before the first that is not, from 1 to 8 (x's lowest
// byte is a digit). A byte below '0' borrows from the bytes above it, and
// one above 0xb9 carries into them, but only above the first non-digit.
func leadingDigits(x uint64) int {
	const lo, hi = 0x3030303030303030, 0x4646464646464646
	nondigit := ((x - lo) | (x + hi)) & 0x8080808080808080
	return bits.TrailingZeros64(nondigit) / 8
}

// parse8 returns the number that the 8 bytes of x spell as decimal digits,
// the lowest byte first, where a byte of 0 counts as a leading zero
// (Lemire's SWAR conversion: pairs, then quads, then the eight).
func parse8(x uint64) uint64 {
	x = (x & 0x0f0f0f0f0f0f0f0f) * 2561 >> 8
	x = (x & 0x00ff00ff00ff00ff) * 6553601 >> 16
	return (x & 0x0000ffff0000ffff) * 42949672960001 >> 32
}

// scan is Read's fast path: it skips separators and parses decimal tokens
// of at most 19 digits (which cannot overflow) with an optional r or w,
// within the buffered block, into out[n:]. It stops at anything else (a
// comment, hex, a longer number, a token cut by the end of the block, bad
// input), which the general path takes, and returns the new n.
func (p *PagesReader) scan(out []Access, n int) int {
	buf, r, w := p.buf[:p.w], p.r, p.w
	line := p.line
	for n < len(out) && r < w {
		switch pagesClass[buf[r]] {
		case pagesSep:
			r++
			continue
		case pagesNewline:
			line++
			r++
			continue
		case pagesDigit:
		default:
			p.r, p.line = r, line
			return n
		}
		i, v := r, uint64(0)
		if r+8 <= w {
			// Up to 8 digits at once, from one 8-byte load.
			x := binary.LittleEndian.Uint64(buf[r:])
			k := leadingDigits(x)
			v = parse8(x << (64 - 8*k))
			i += k
		}
		for i < w && i-r < 19 {
			d := buf[i] - '0'
			if d > 9 {
				break
			}
			v = v*10 + uint64(d)
			i++
		}
		write := false
		if i < w {
			switch buf[i] {
			case 'w', 'W':
				write = true
				i++
			case 'r', 'R':
				i++
			}
		}
		if i < w {
			if pagesClass[buf[i]] < pagesSep {
				break // more token: the general path parses or rejects it
			}
		} else if !p.eof {
			break // the token may go on in the next block
		}
		out[n] = Access{Page: arch.PageNum(v), Write: write}
		n++
		r = i
	}
	p.r, p.line = r, line
	return n
}

// Read implements Reader.
func (p *PagesReader) Read(out []Access) (int, error) {
	if !p.started {
		for p.w-p.r < len(utf8BOM) && !p.eof && p.err == nil {
			p.err = p.fill()
		}
		if bytes.HasPrefix(p.buf[p.r:p.w], []byte(utf8BOM)) {
			p.r += len(utf8BOM)
		}
		p.started = true
	}
	n := 0
	for n < len(out) && p.err == nil {
		if p.r == p.w {
			if p.eof {
				break
			}
			if err := p.fill(); err != nil {
				p.err = err
			}
			continue
		}
		if p.inComment {
			i := bytes.IndexByte(p.buf[p.r:p.w], '\n')
			if i < 0 {
				p.r = p.w // the rest of the block is comment
				continue
			}
			p.r += i
			p.inComment = false
			continue
		}
		if n = p.scan(out, n); n == len(out) || p.r == p.w {
			continue
		}
		c := p.buf[p.r]
		switch {
		case c == '\n':
			p.line++
			p.r++
			continue
		case isSep(c):
			p.r++
			continue
		case c == '#':
			p.inComment = true
			continue
		}
		end := p.r
		for end < p.w && !isSep(p.buf[end]) && p.buf[end] != '#' {
			end++
		}
		if end == p.w && !p.eof {
			// The token may go on in the next block.
			if err := p.fill(); err != nil {
				p.err = err
			}
			continue
		}
		a, ok := parsePagesToken(p.buf[p.r:end])
		if !ok {
			p.err = &ParseError{File: p.name, Line: p.line, Token: string(p.buf[p.r:end]), Err: fmt.Errorf("%w: %w", ErrSyntax, errPagesToken)}
			break
		}
		out[n] = a
		n++
		p.r = end
	}
	if n > 0 {
		return n, nil
	}
	if p.err != nil {
		return 0, p.err
	}
	return 0, io.EOF
}

// parsePagesToken parses "123", "0x7f", "12w", "0x10R".
func parsePagesToken(t []byte) (Access, bool) {
	var a Access
	switch t[len(t)-1] {
	case 'w', 'W':
		a.Write = true
		t = t[:len(t)-1]
	case 'r', 'R':
		t = t[:len(t)-1]
	}
	if len(t) == 0 {
		return a, false
	}
	v, ok := parseNum(t)
	a.Page = arch.PageNum(v)
	return a, ok
}

// PagesWriter writes the pages format: one access per line.
type PagesWriter struct {
	w   io.Writer
	buf []byte
}

// NewPagesWriter returns a writer of the pages format to w. Call Close (or
// Flush) at the end.
func NewPagesWriter(w io.Writer) *PagesWriter {
	return &PagesWriter{w: w, buf: make([]byte, 0, 64<<10)}
}

// Write writes accesses.
func (p *PagesWriter) Write(as []Access) error {
	for _, a := range as {
		p.buf = strconv.AppendUint(p.buf, uint64(a.Page), 10)
		if a.Write {
			p.buf = append(p.buf, 'w')
		}
		p.buf = append(p.buf, '\n')
		if len(p.buf) > cap(p.buf)-32 {
			if err := p.Flush(); err != nil {
				return err
			}
		}
	}
	return nil
}

// Flush writes what is buffered.
func (p *PagesWriter) Flush() error {
	_, err := p.w.Write(p.buf)
	p.buf = p.buf[:0]
	return err
}

// Close implements [Writer]: it writes what is buffered. It does not close
// the underlying writer.
func (p *PagesWriter) Close() error { return p.Flush() }
