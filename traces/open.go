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
	// detectLen is how much of a trace detection looks at.
	detectLen = 16 << 10
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
	if format == FormatAuto {
		head, err := br.Peek(detectLen)
		if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
			return nil, c, err
		}
		format, err = detect(head, err == nil, size)
		if err != nil {
			return nil, c, fmt.Errorf("%s: %w", name, err)
		}
	}
	switch format {
	case FormatPages:
		return NewPagesReader(br, name), c, nil
	case FormatRW:
		r, err := NewRWReader(br, name, o.PageSize)
		return r, c, err
	case FormatLackey:
		r, err := NewLackeyReader(br, name, &LackeyOptions{PageSize: o.PageSize, NoInstr: o.NoInstr})
		return r, c, err
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
//   - a first line that starts with "==" or "--" (valgrind's messages) or
//     that is a lackey record: lackey;
//   - a first line (blank and # lines aside) that is an rw record: rw;
//   - else pages (an empty trace too).
func Detect(head []byte, size int64) (string, error) {
	return detect(head, len(head) >= detectLen, size)
}

// detect is Detect; truncated says head is only the start of the trace, so
// that its last line may be cut.
func detect(head []byte, truncated bool, size int64) (string, error) {
	if bytes.HasPrefix(head, []byte(VMTMagic)) {
		return FormatVMT, nil
	}
	if isBinary(head) {
		if plausibleOracle(head, size) {
			return FormatOracle, nil
		}
		return "", fmt.Errorf("%w: binary data that is neither vmt nor oracleGeneral", ErrUnknownFormat)
	}
	for len(head) > 0 {
		i := bytes.IndexByte(head, '\n')
		if i < 0 && truncated {
			break // a cut line proves nothing
		}
		line := head
		if i >= 0 {
			line, head = head[:i], head[i+1:]
		} else {
			head = nil
		}
		line = trimCR(line)
		j := skipSpace(line, 0)
		if j == len(line) || line[j] == '#' {
			continue
		}
		if len(line) >= 2 && (line[0] == '=' && line[1] == '=' || line[0] == '-' && line[1] == '-') {
			return FormatLackey, nil
		}
		switch line[j] {
		case 'I', 'L', 'S', 'M':
			if _, _, err := lackeyRecord(line, j+1); err == nil {
				return FormatLackey, nil
			}
		}
		if _, ok, _ := parseRW(line); ok {
			return FormatRW, nil
		}
		return FormatPages, nil
	}
	return FormatPages, nil
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
