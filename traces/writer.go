package traces

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"

	"vmsim/vm/arch"
)

// WriterOptions configures a [Writer]. The zero value is the default.
type WriterOptions struct {
	// PageSize is the page size in bytes; 0 means DefaultPageSize. rw
	// writes each page's first address (page * PageSize), oracle writes it
	// as every object's size, vmt records it in its header; pages ignores
	// it.
	PageSize arch.PageSize
	// Count is the number of accesses that will be written, if known in
	// advance; 0 means unknown. vmt records it in its header (and checks it
	// on Close); oracle uses it to size its buffer.
	Count uint64
}

// writerFormats are the formats a Writer exists for, in the order of
// WriterFormats.
var writerFormats = []string{FormatPages, FormatRW, FormatOracle, FormatVMT}

// WriterFormats returns the names of the formats that [NewWriter] writes.
func WriterFormats() []string { return append([]string(nil), writerFormats...) }

// NewWriter returns a writer of the named format to w; nil options mean the
// defaults. An unknown format (lackey has no writer) gives an error wrapping
// [ErrUnknownFormat]; a bad page size one wrapping [ErrPageSize].
func NewWriter(format string, w io.Writer, opts *WriterOptions) (Writer, error) {
	if opts == nil {
		opts = &WriterOptions{}
	}
	if _, err := checkPageSize(opts.PageSize); err != nil {
		return nil, err
	}
	switch format {
	case FormatPages:
		return NewPagesWriter(w), nil
	case FormatRW:
		return NewRWWriter(w, opts.PageSize)
	case FormatOracle:
		return NewOracleWriter(w, opts)
	case FormatVMT:
		return NewVMTWriter(w, opts)
	}
	return nil, fmt.Errorf("%w %q: can write %s", ErrUnknownFormat, format, strings.Join(writerFormats, ", "))
}

// Compression names, as [CompressionOf] returns them.
const (
	CompressGzip = "gzip"
	CompressZstd = "zstd"
)

// CompressionOf returns the compression a file name asks for by its
// extension: [CompressGzip] for ".gz", [CompressZstd] for ".zst" (either
// case), "" for none. Readers do not need it: they recognise compressed
// input by its first bytes.
func CompressionOf(path string) string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".gz":
		return CompressGzip
	case ".zst":
		return CompressZstd
	}
	return ""
}

// NewFileWriter is [NewWriter] for a trace file named path: the trace is
// compressed as the name's extension asks ([CompressionOf]: ".gz" gzip,
// ".zst" zstd) on its way to w, and Close ends the compressed stream (it
// does not close w). The writer's own format is not guessed from the name.
// A compressed vmt trace whose count is not given says the count is
// unknown: its header cannot be patched through the compressor.
func NewFileWriter(path, format string, w io.Writer, opts *WriterOptions) (Writer, error) {
	var zw io.WriteCloser
	switch CompressionOf(path) {
	case CompressGzip:
		zw = gzip.NewWriter(w)
	case CompressZstd:
		z, err := zstd.NewWriter(w)
		if err != nil {
			return nil, fmt.Errorf("%s: zstd: %w", path, err)
		}
		zw = z
	default:
		return NewWriter(format, w, opts)
	}
	tw, err := NewWriter(format, zw, opts)
	if err != nil {
		zw.Close()
		return nil, err
	}
	return &compressedWriter{Writer: tw, z: zw}, nil
}

// compressedWriter is a Writer whose output goes through a compressor.
type compressedWriter struct {
	Writer
	z io.WriteCloser
}

// Close implements [Writer]: it completes the trace, then the compressed
// stream.
func (c *compressedWriter) Close() error {
	err := c.Writer.Close()
	if zerr := c.z.Close(); err == nil {
		err = zerr
	}
	return err
}

// AtomicFile is a file written under a temporary name in the directory of
// its final path, and renamed to that path by Commit only once complete:
// readers of the path never see a partial trace, and a failed write leaves
// any earlier file in place.
//
//	f, err := traces.CreateAtomic(path)
//	if err != nil { ... }
//	defer f.Abort() // removes the temporary file unless committed
//	... write to f ...
//	return f.Commit()
type AtomicFile struct {
	f       *os.File
	path    string
	written int64 // bytes written by Write
	done    bool
}

// CreateAtomic creates a temporary file beside path (".NAME.tmp*") for
// writing. The final file gets mode 0644 (or the mode of the file it
// replaces).
func CreateAtomic(path string) (*AtomicFile, error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, err
	}
	return &AtomicFile{f: f, path: path}, nil
}

// Write implements io.Writer.
func (a *AtomicFile) Write(p []byte) (int, error) {
	n, err := a.f.Write(p)
	a.written += int64(n)
	return n, err
}

// WriteAt implements io.WriterAt, to patch a header.
func (a *AtomicFile) WriteAt(p []byte, off int64) (int, error) { return a.f.WriteAt(p, off) }

// Commit flushes the file to stable storage and renames it to its final
// path.
func (a *AtomicFile) Commit() error {
	if a.done {
		return errors.New("traces: AtomicFile committed or aborted twice")
	}
	a.done = true
	mode := os.FileMode(0o644)
	if fi, err := os.Stat(a.path); err == nil && fi.Mode().IsRegular() {
		mode = fi.Mode().Perm()
	}
	err := a.f.Chmod(mode)
	if err == nil {
		err = a.f.Sync()
	}
	if cerr := a.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(a.f.Name(), a.path)
	}
	if err != nil {
		os.Remove(a.f.Name())
	}
	return err
}

// Abort closes and removes the temporary file, unless Commit has run: it is
// meant for a defer.
func (a *AtomicFile) Abort() error {
	if a.done {
		return nil
	}
	a.done = true
	err := a.f.Close()
	if rerr := os.Remove(a.f.Name()); err == nil {
		err = rerr
	}
	return err
}
