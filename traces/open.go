package traces

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"vmsim/vm/arch"
)

// Format names.
const (
	// FormatAuto detects the format from the trace's first bytes.
	FormatAuto = "auto"
	// FormatPages is the pages text format: page numbers, w for writes.
	FormatPages = "pages"
	// FormatRW is the rw text format: "R ADDR" or "W ADDR" a line.
	FormatRW = "rw"
	// FormatLackey is the output of valgrind --tool=lackey --trace-mem=yes.
	FormatLackey = "lackey"
	// FormatOracle is libCacheSim's oracleGeneral binary format.
	FormatOracle = "oracle"
	// FormatVMT is vmsim's own binary format.
	FormatVMT = "vmt"
)

var readerFormats = []string{FormatPages, FormatRW, FormatLackey, FormatOracle, FormatVMT}

// Formats returns the names of the formats that [Open] reads ("auto"
// aside), in a fixed order.
func Formats() []string { return append([]string(nil), readerFormats...) }

// ErrUnknownFormat is wrapped by the error for a format name that is not
// known, and for a binary trace whose format cannot be detected.
var ErrUnknownFormat = errors.New("unknown trace format")

// OpenOptions configures [Open] and [NewReader]. The zero value is the
// default.
type OpenOptions struct {
	// Format is one of [Formats], or "auto" (or "") to detect it.
	Format string
	// PageSize is the page size in bytes that addresses of the rw and
	// lackey formats are divided by; 0 means DefaultPageSize.
	PageSize arch.PageSize
	// NoInstr drops the instruction fetches of lackey traces.
	NoInstr bool
}

func (o *OpenOptions) check() (OpenOptions, error) {
	var opts OpenOptions
	if o != nil {
		opts = *o
	}
	if opts.Format == "" {
		opts.Format = FormatAuto
	}
	if opts.Format != FormatAuto && !isReaderFormat(opts.Format) {
		return opts, fmt.Errorf("%w %q (want auto, %s)", ErrUnknownFormat, opts.Format, strings.Join(readerFormats, ", "))
	}
	ps, err := checkPageSize(opts.PageSize)
	opts.PageSize = ps
	return opts, err
}

func isReaderFormat(f string) bool {
	for _, g := range readerFormats {
		if f == g {
			return true
		}
	}
	return false
}

// Open opens the trace at path ("-" is standard input) for reading.
// gzip and zstd compressed traces are decompressed transparently, whatever
// the format. The Closer releases the file and the decompressor (it leaves
// standard input open); call it when done, even after a read error.
//
// Errors: an unknown opts.Format wraps [ErrUnknownFormat], a bad page size
// [ErrPageSize]; a file that cannot be opened gives the *os.PathError; a
// damaged compressed stream or vmt header is reported here too.
func Open(path string, opts *OpenOptions) (Reader, io.Closer, error) {
	o, err := opts.check()
	if err != nil {
		return nil, nil, err
	}
	var f *os.File
	if path == "-" {
		f = os.Stdin
	} else if f, err = os.Open(path); err != nil {
		return nil, nil, err
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		size = fi.Size()
	}
	r, c, err := newReader(f, path, size, o)
	if path != "-" {
		c = append(c, f.Close)
	}
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return r, c, nil
}

// NewReader is Open for a stream that is already open: it decompresses src
// if needed, detects the format if asked, and returns its reader. name
// names the trace in errors. The Closer releases the decompressor, not src.
func NewReader(src io.Reader, name string, opts *OpenOptions) (Reader, io.Closer, error) {
	o, err := opts.check()
	if err != nil {
		return nil, nil, err
	}
	r, c, err := newReader(src, name, -1, o)
	if err != nil {
		c.Close()
		return nil, nil, err
	}
	return r, c, nil
}

// closers closes each of its functions in reverse order and returns the
// first error.
type closers []func() error

// Close implements io.Closer.
func (c closers) Close() error {
	var first error
	for i := len(c) - 1; i >= 0; i-- {
		if err := c[i](); err != nil && first == nil {
			first = err
		}
	}
	return first
}

const (
	gzipMagic = "\x1f\x8b"
	zstdMagic = "\x28\xb5\x2f\xfd"
	// utf8BOM is the byte-order mark some editors put at the start of
	// text; text readers skip it.
	utf8BOM = "\xef\xbb\xbf"
	// detectLen is how much of a trace detection looks at first: enough
	// for binary formats and for the first line of most text.
	detectLen = 16 << 10
	// detectMax is how far detection looks for the first line that is
	// not blank or a comment, past a long comment or a long first line:
	// beyond the 1 MiB bound of a line.
	detectMax = 2*maxLine + detectLen
)

// newReader decompresses, detects and builds the reader. size is the size
// of src if known (a regular file), else -1.
func newReader(src io.Reader, name string, size int64, o OpenOptions) (Reader, closers, error) {
	var c closers
	// The buffer only serves the peeks: the format readers read 64 KiB or
	// more at a time, which bufio passes straight through once its buffer
	// is drained, instead of copying twice.
	br := bufio.NewReaderSize(src, detectLen)
	magic, _ := br.Peek(4)
	var in io.Reader = br
	switch {
	case bytes.HasPrefix(magic, []byte(zstdMagic)):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("%s: zstd: %w", name, err)
		}
		c = append(c, func() error { zr.Close(); return nil })
		in, size = &errPrefix{zr, name + ": zstd"}, -1
	case bytes.HasPrefix(magic, []byte(gzipMagic)):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, c, fmt.Errorf("%s: gzip: %w", name, err)
		}
		c = append(c, zr.Close)
		in, size = &errPrefix{zr, name + ": gzip"}, -1
	}
	format := o.Format
	if in != io.Reader(br) {
		br = bufio.NewReaderSize(in, detectLen)
	}
	detectedLine := 0
	if format == FormatAuto {
		head, err := br.Peek(detectLen)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, c, err
		}
		var more bool
		format, detectedLine, more, err = detect(head, err == nil, size)
		if err != nil {
			return nil, c, fmt.Errorf("%s: %w", name, err)
		}
		if more {
			// A long comment or first line: look further, through a
			// larger buffer (the small one's bytes are read through it).
			br = bufio.NewReaderSize(br, detectMax)
			head, err = br.Peek(detectMax)
			if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
				return nil, c, err
			}
			format, detectedLine, _, err = detect(head, err == nil, size)
			if err != nil {
				return nil, c, fmt.Errorf("%s: %w", name, err)
			}
		}
	}
	var tr Reader
	switch format {
	case FormatPages:
		tr = NewPagesReader(br, name)
	case FormatRW:
		r, err := NewRWReader(br, name, o.PageSize)
		if err != nil {
			return nil, c, err
		}
		tr = r
	case FormatLackey:
		r, err := NewLackeyReader(br, name, &LackeyOptions{PageSize: o.PageSize, NoInstr: o.NoInstr})
		if err != nil {
			return nil, c, err
		}
		tr = r
	}
	if tr != nil {
		if o.Format == FormatAuto {
			tr = &detectedReader{r: tr, format: format, line: detectedLine}
		}
		return tr, c, nil
	}
	switch format {
	case FormatOracle:
		return NewOracleReader(br, name), c, nil
	default: // FormatVMT
		r := NewVMTReader(br, name)
		if _, err := r.Header(); err != nil {
			return nil, c, err
		}
		return r, c, nil
	}
}

// errPrefix names the trace in the errors of a decompressor.
type errPrefix struct {
	r      io.Reader
	prefix string
}

// Read implements io.Reader.
func (e *errPrefix) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%s: %w", e.prefix, err)
	}
	return n, err
}

// detectedReader names the detected format in the syntax errors of a text
// reader: a reader that the guess chose wrong reports its first record.
type detectedReader struct {
	r      Reader
	format string
	line   int
}

// Read implements [Reader].
func (d *detectedReader) Read(buf []Access) (int, error) {
	n, err := d.r.Read(buf)
	var pe *ParseError
	if err != nil && errors.As(err, &pe) && pe.Detected == "" {
		pe.Detected, pe.DetectedLine = d.format, d.line
	}
	return n, err
}

// Detect returns the format of a trace from its first bytes, decompressed:
// head is the whole trace, or at least its first 16 KiB. size is the
// trace's length in bytes if known, else -1. The rules, in order:
//
//   - the vmt magic: vmt;
//   - bytes that text never holds (NUL, control characters other than
//     white space): oracle if every complete 24-byte record has a
//     plausible next access (after the record, and within the trace if
//     size is known, which must then be a multiple of 24), else
//     an error wrapping [ErrUnknownFormat];
//   - text (after a UTF-8 byte-order mark, if any), on its first line that
//     is not blank or a # comment: lackey if it starts with "==" or "--"
//     (valgrind's messages) or is a lackey record, rw if it is an rw
//     record, else pages;
//   - no such line: pages (an empty trace too).
//
// [Open] looks up to 2 MiB further when the first 16 KiB end inside
// comments or inside the first line.
func Detect(head []byte, size int64) (string, error) {
	f, _, _, err := detect(head, len(head) >= detectLen, size)
	return f, err
}

// detect is Detect; truncated says head is only the start of the trace, so
// that its last line may be cut. It also returns the line that decided (0
// if none), and whether a longer head could decide otherwise.
func detect(head []byte, truncated bool, size int64) (format string, line int, more bool, err error) {
	if bytes.HasPrefix(head, []byte(VMTMagic)) {
		return FormatVMT, 0, false, nil
	}
	if isBinary(head) {
		if plausibleOracle(head, size) {
			return FormatOracle, 0, false, nil
		}
		return "", 0, false, fmt.Errorf("%w: binary data that is neither vmt nor oracleGeneral", ErrUnknownFormat)
	}
	head = bytes.TrimPrefix(head, []byte(utf8BOM))
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 && truncated {
			// A cut line proves nothing: the rest may hold more of it.
			return FormatPages, 0, true, nil
		}
		text := head
		if i >= 0 {
			text, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line++
		text = trimCR(text)
		j := skipSpace(text, 0)
		if j == len(text) || text[j] == '#' {
			continue
		}
		return detectLine(text, j), line, false, nil
	}
	return FormatPages, 0, truncated, nil
}

// detectLine returns the text format that a line that is not blank or a
// comment, whose first non-space byte is line[j], belongs to.
func detectLine(line []byte, j int) string {
	if len(line) >= 2 && (line[0] == '=' && line[1] == '=' || line[0] == '-' && line[1] == '-') {
		return FormatLackey
	}
	switch line[j] {
	case 'I', 'L', 'S', 'M':
		if _, _, err := lackeyRecord(line, j+1); err == nil {
			return FormatLackey
		}
	}
	if _, ok, _ := parseRW(line); ok {
		return FormatRW
	}
	return FormatPages
}

// isBinary reports whether b holds a byte that text traces never do.
func isBinary(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f' && c != '\v' || c == 0x7f {
			return true
		}
	}
	return false
}

// plausibleOracle reports whether head can start an oracleGeneral trace of
// size bytes (-1: unknown): at least one record, each with a next access
// after it (and within the trace, if its size is known) or none.
func plausibleOracle(head []byte, size int64) bool {
	if size >= 0 && size%OracleRecordSize != 0 {
		return false
	}
	limit := int64(math.MaxInt64)
	if size >= 0 {
		limit = size / OracleRecordSize
	}
	n := len(head) / OracleRecordSize
	if n == 0 {
		return false
	}
	for i := range n {
		nx := int64(binary.LittleEndian.Uint64(head[i*OracleRecordSize+16:]))
		if nx != -1 && nx != math.MaxInt64 && (nx <= int64(i) || nx > limit) {
			return false
		}
	}
	return true
}
