package traces

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"vmsim/vm/arch"
)

// DefaultPageSize is the page size of text formats that hold addresses (rw,
// lackey) when none is given: 4 KiB.
const DefaultPageSize arch.PageSize = 4096

// MaxPageSize is the largest page size a trace may use: 1 GiB, the largest
// huge page of x86-64. It keeps page sizes within the 32-bit size fields of
// the binary formats.
const MaxPageSize arch.PageSize = 1 << 30

// ErrPageSize is wrapped by the error for a page size that is not a power of
// two between 1 and [MaxPageSize].
var ErrPageSize = errors.New("page size must be a power of two between 1 and 1073741824")

// checkPageSize returns ps, or DefaultPageSize if ps is zero, or an error
// wrapping ErrPageSize.
func checkPageSize(ps arch.PageSize) (arch.PageSize, error) {
	if ps == 0 {
		return DefaultPageSize, nil
	}
	if !ps.Valid() || ps > MaxPageSize {
		return 0, fmt.Errorf("%w: got %d", ErrPageSize, uint64(ps))
	}
	return ps, nil
}

// maxLine bounds the length of one line of a line-oriented format, so that a
// file without newlines cannot make a reader's memory grow without bound.
const maxLine = 1 << 20

// errLineTooLong is reported for a line longer than maxLine.
var errLineTooLong = errors.New("line longer than 1 MiB")

// lineReader splits its input into lines without allocating: the line it
// returns is a slice of its buffer, valid until the next call.
type lineReader struct {
	src  io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	// scanned is how many bytes of buf[r:w] are known to hold no newline.
	scanned int
	eof     bool
	rerr    error // a read error, returned once the data before it is used
	line    int   // number of the last line returned, from 1
}

func newLineReader(src io.Reader) lineReader {
	return lineReader{src: src, buf: make([]byte, 64<<10)}
}

// next returns the next line without its end of line ("\n" or "\r\n"). At
// the end of the input it returns io.EOF; a read error is returned after the
// complete lines read before it.
func (l *lineReader) next() ([]byte, error) {
	for {
		if i := bytes.IndexByte(l.buf[l.r+l.scanned:l.w], '\n'); i >= 0 {
			end := l.r + l.scanned + i
			line := l.buf[l.r:end]
			l.r = end + 1
			l.scanned = 0
			l.line++
			return l.trim(line), nil
		}
		l.scanned = l.w - l.r
		if l.rerr != nil {
			return nil, l.rerr
		}
		if l.eof {
			if l.r == l.w {
				return nil, io.EOF
			}
			line := l.buf[l.r:l.w]
			l.r = l.w
			l.scanned = 0
			l.line++
			return l.trim(line), nil
		}
		if l.w-l.r >= maxLine {
			l.line++
			l.rerr = errLineTooLong
			return nil, errLineTooLong
		}
		l.fill()
	}
}

// fill reads more input after the unread bytes, growing the buffer if a
// line fills it.
func (l *lineReader) fill() {
	if l.r > 0 {
		l.w = copy(l.buf, l.buf[l.r:l.w])
		l.r = 0
	}
	if l.w == len(l.buf) {
		l.buf = append(l.buf, make([]byte, len(l.buf))...)
	}
	n, err := l.src.Read(l.buf[l.w:])
	l.w += n
	switch {
	case err == io.EOF:
		l.eof = true
	case err != nil:
		l.rerr = err
	}
}

// trim removes the end of line's CR and, from the first line, a UTF-8
// byte-order mark.
func (l *lineReader) trim(line []byte) []byte {
	if l.line == 1 {
		line = bytes.TrimPrefix(line, []byte(utf8BOM))
	}
	return trimCR(line)
}

func trimCR(b []byte) []byte {
	if len(b) > 0 && b[len(b)-1] == '\r' {
		return b[:len(b)-1]
	}
	return b
}

// isSpace reports whether c separates fields on a line.
func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\f' || c == '\v' }

// skipSpace returns the index of the first byte of b at or after i that is
// not a space.
func skipSpace(b []byte, i int) int {
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	return i
}

// parseDec parses a decimal number that fits in 64 bits.
func parseDec(t []byte) (uint64, bool) {
	if len(t) == 0 {
		return 0, false
	}
	var v uint64
	for _, c := range t {
		d := uint64(c - '0')
		if d > 9 || v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// parseHex parses hex digits (no prefix) that fit in 64 bits.
func parseHex(t []byte) (uint64, bool) {
	if len(t) == 0 || len(t) > 16 && !leadingZeros(t, len(t)-16) {
		return 0, false
	}
	var v uint64
	for _, c := range t {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return 0, false
		}
		v = v<<4 | uint64(d)
	}
	return v, true
}

func leadingZeros(t []byte, n int) bool {
	for _, c := range t[:n] {
		if c != '0' {
			return false
		}
	}
	return true
}

// parseNum parses a decimal number, or a hex one with 0x or 0X.
func parseNum(t []byte) (uint64, bool) {
	if len(t) > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		return parseHex(t[2:])
	}
	return parseDec(t)
}

// finish turns the outcome of a batch into Read's results: the accesses
// first, then the error (io.EOF at the end) on a call that read none.
func finish(n int, err error) (int, error) {
	if n > 0 {
		return n, nil
	}
	if err == nil {
		return 0, io.EOF
	}
	return 0, err
}
