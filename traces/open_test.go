package traces

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetect(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		size int64
		want string
	}{
		{"vmt magic", vmtBytes(hdr4k(), 2), -1, FormatVMT},
		{"oracle records", belady, int64(len(belady)), FormatOracle},
		{"oracle of unknown size", belady[:50], -1, FormatOracle},
		{"oracle counted from 0", oracleBytes(oracleRec{0, 1, 1, 1}, oracleRec{0, 1, 1, -1}), 48, FormatOracle},
		{"valgrind banner", []byte("==123== Lackey, an example Valgrind tool\nI  0401ab70,3\n"), -1, FormatLackey},
		{"lackey records without banner", []byte(" L 0401ab70,8\n"), -1, FormatLackey},
		{"lackey instruction first", []byte("I  0401ab70,3\n S 1fff000758,8\n"), -1, FormatLackey},
		{"rw", []byte("R 0x1000\nW 0x2000\n"), -1, FormatRW},
		{"rw after comments", []byte("# trace\n\n# more\nw 4096\n"), -1, FormatRW},
		{"pages", []byte("7,0,1,2,0,3,0,4w"), -1, FormatPages},
		{"pages after comments", []byte("# R 0x1000 in a comment\n1 2 3\n"), -1, FormatPages},
		{"pages with a suffix that looks like rw", []byte("1w 2r\n"), -1, FormatPages},
		{"empty", nil, 0, FormatPages},
		{"only comments", []byte("# nothing\n"), -1, FormatPages},
		{"utf-8 comment", []byte("# trace de la mémoire\n1\n"), -1, FormatPages},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(tt.head, tt.size)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDetectUnknownBinary(t *testing.T) {
	tests := []struct {
		name string
		head []byte
		size int64
	}{
		{"oracle of the wrong size", belady, int64(len(belady)) + 1},
		{"next access at its own record", oracleBytes(oracleRec{0, 1, 1, 0}), 24},
		{"short binary", []byte{0, 1, 2}, 3},
		{"elf header", []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x03\x00>\x00\x01\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00"), 32},
		{"next access past the end of the file", oracleBytes(oracleRec{0, 1, 1, 3}, oracleRec{0, 1, 1, -1}), 48},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Detect(tt.head, tt.size)
			assert.ErrorIs(t, err, ErrUnknownFormat)
		})
	}
}

// writeFile writes data to a file in a temporary directory, compressed as
// asked ("", "gz" or "zst").
func writeFile(t *testing.T, name string, data []byte, compress string) string {
	t.Helper()
	var buf bytes.Buffer
	switch compress {
	case "gz":
		zw := gzip.NewWriter(&buf)
		_, err := zw.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	case "zst":
		zw, err := zstd.NewWriter(&buf)
		require.NoError(t, err)
		_, err = zw.Write(data)
		require.NoError(t, err)
		require.NoError(t, zw.Close())
	default:
		buf.Write(data)
	}
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
	return path
}

func openAll(t *testing.T, path string, opts *OpenOptions) ([]Access, error) {
	t.Helper()
	r, c, err := Open(path, opts)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return ReadAll(r)
}

func TestOpenDetectsAndDecompresses(t *testing.T) {
	textbook, err := os.ReadFile("testdata/textbook.pages")
	require.NoError(t, err)
	lackey, err := os.ReadFile("testdata/small.lackey")
	require.NoError(t, err)
	formats := []struct {
		name string
		data []byte
		want []Access
	}{
		{"pages", textbook, []Access{{7, false}, {0, false}, {1, false}, {2, false}}},
		{"rw", []byte("R 0x1000\nW 0x2000\n"), []Access{{1, false}, {2, true}}},
		{"lackey", lackey, []Access{{0x4001, false}, {0x4002, false}, {0x4003, false}, {0x1fff000, true}}},
		{"oracle", belady, []Access{{1, false}, {2, false}, {3, false}, {4, false}}},
		{"vmt", vmtBytes(counted(4), 7<<1, 8<<1|1, 7<<1|1, 9<<1), []Access{{7, false}, {8, true}, {7, true}, {9, false}}},
	}
	for _, f := range formats {
		for _, compress := range []string{"", "gz", "zst"} {
			t.Run(f.name+"/compress="+compress, func(t *testing.T) {
				path := writeFile(t, "trace."+f.name, f.data, compress)
				got, err := openAll(t, path, nil)
				require.NoError(t, err)
				require.GreaterOrEqual(t, len(got), len(f.want))
				assert.Equal(t, f.want, got[:len(f.want)])

				named, err := openAll(t, path, &OpenOptions{Format: f.name})
				require.NoError(t, err)
				assert.Equal(t, got, named, "an explicit format reads the same")
			})
		}
	}
}

func TestOpenOptions(t *testing.T) {
	lackey := writeFile(t, "t.lackey", []byte("I  1000,1\n L 200000,1\n"), "")
	got, err := openAll(t, lackey, &OpenOptions{NoInstr: true, PageSize: 2 << 20})
	require.NoError(t, err)
	assert.Equal(t, []Access{{1, false}}, got)

	rw := writeFile(t, "t.rw", []byte("W 0x10000\n"), "gz")
	got, err = openAll(t, rw, &OpenOptions{PageSize: 256})
	require.NoError(t, err)
	assert.Equal(t, []Access{{0x100, true}}, got)
}

func TestOpenErrors(t *testing.T) {
	pages := writeFile(t, "t.pages", []byte("1 2 3\n"), "")
	tests := []struct {
		name     string
		path     string
		opts     *OpenOptions
		sentinel error
	}{
		{"unknown format name", pages, &OpenOptions{Format: "csv"}, ErrUnknownFormat},
		{"page size not a power of two", pages, &OpenOptions{PageSize: 1000}, ErrPageSize},
		{"missing file", filepath.Join(t.TempDir(), "nope"), nil, os.ErrNotExist},
		{"unknown binary", writeFile(t, "t.bin", []byte("\x00\x01\x02\x03garbage"), ""), nil, ErrUnknownFormat},
		{"damaged vmt header", writeFile(t, "t.vmt", []byte(VMTMagic+"\x09\x00"+string(make([]byte, 22))), ""), nil, ErrBadHeader},
		{"vmt header named explicitly", pages, &OpenOptions{Format: FormatVMT}, ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, c, err := Open(tt.path, tt.opts)
			assert.ErrorIs(t, err, tt.sentinel)
			assert.Nil(t, r)
			assert.Nil(t, c)
		})
	}
}

func TestOpenDamagedCompression(t *testing.T) {
	data := bytes.Repeat([]byte("1 2 3 4w\n"), 10000)
	tests := []struct{ name, compress string }{{"gzip", "gz"}, {"zstd", "zst"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, "t."+tt.compress, data, tt.compress)
			raw, err := os.ReadFile(path)
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(path, raw[:len(raw)/2], 0o644))
			_, err = openAll(t, path, &OpenOptions{Format: FormatPages})
			require.Error(t, err)
			assert.Contains(t, err.Error(), path+": "+tt.name)
		})
	}
}

func TestNewReaderStream(t *testing.T) {
	r, c, err := NewReader(bytes.NewReader(belady), "-", nil)
	require.NoError(t, err)
	defer c.Close()
	nr, ok := r.(NextReader)
	require.True(t, ok, "an oracle trace offers its next uses through Open")
	_, next, err := ReadAllNext(nr)
	require.NoError(t, err)
	assert.Equal(t, beladyNext, next)
}

func TestFormats(t *testing.T) {
	assert.Equal(t, []string{"pages", "rw", "lackey", "oracle", "vmt"}, Formats())
	assert.Equal(t, []string{"pages", "rw", "oracle", "vmt"}, WriterFormats())
}

func TestNewWriterUnknownFormat(t *testing.T) {
	_, err := NewWriter(FormatLackey, io.Discard, nil)
	assert.ErrorIs(t, err, ErrUnknownFormat)
	_, err = NewWriter(FormatPages, io.Discard, &WriterOptions{PageSize: 12})
	assert.ErrorIs(t, err, ErrPageSize)
}

// TestRoundTripEveryWriter writes a trace in each format and reads it back
// through Open, which detects the format.
func TestRoundTripEveryWriter(t *testing.T) {
	in := []Access{{5, true}, {1, false}, {5, false}, {1<<40 + 3, true}, {0, false}}
	for _, format := range WriterFormats() {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			f, err := CreateAtomic(path)
			require.NoError(t, err)
			defer f.Abort()
			w, err := NewWriter(format, f, nil)
			require.NoError(t, err)
			require.NoError(t, w.Write(in))
			require.NoError(t, w.Close())
			require.NoError(t, f.Commit())

			got, err := openAll(t, path, nil)
			require.NoError(t, err)
			want := in
			if format == FormatOracle {
				want = withoutWrites(in)
			}
			assert.Equal(t, want, got)
		})
	}
}

func withoutWrites(as []Access) []Access {
	out := make([]Access, len(as))
	for i, a := range as {
		out[i] = Access{Page: a.Page}
	}
	return out
}

func TestAtomicFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "trace")
	require.NoError(t, os.WriteFile(path, []byte("old"), 0o600))

	f, err := CreateAtomic(path)
	require.NoError(t, err)
	_, err = f.Write([]byte("new"))
	require.NoError(t, err)
	old, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "old", string(old), "the path keeps the old file until Commit")
	require.NoError(t, f.Abort())
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "Abort removes the temporary file")

	f, err = CreateAtomic(path)
	require.NoError(t, err)
	_, err = f.Write([]byte("new"))
	require.NoError(t, err)
	require.NoError(t, f.Commit())
	assert.NoError(t, f.Abort(), "Abort after Commit does nothing")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(data))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "the replaced file's mode is kept")
	entries, err = os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
}

// TestNewFileWriterCompressesByExtension writes a trace in every format
// under each kind of name: the file starts with the compressor's magic as
// the extension asks, and reads back whole.
func TestNewFileWriterCompressesByExtension(t *testing.T) {
	in := []Access{{5, true}, {1, false}, {5, false}, {1<<40 + 3, true}, {0, false}}
	names := []struct {
		name, magic string
	}{
		{"t.trace", ""}, {"t.trace.gz", gzipMagic}, {"T.TRACE.GZ", gzipMagic}, {"t.trace.zst", zstdMagic},
	}
	for _, format := range WriterFormats() {
		for _, n := range names {
			t.Run(format+"/"+n.name, func(t *testing.T) {
				path := filepath.Join(t.TempDir(), n.name)
				f, err := CreateAtomic(path)
				require.NoError(t, err)
				defer f.Abort()
				w, err := NewFileWriter(path, format, f, nil)
				require.NoError(t, err)
				require.NoError(t, w.Write(in))
				require.NoError(t, w.Close())
				require.NoError(t, f.Commit())

				raw, err := os.ReadFile(path)
				require.NoError(t, err)
				if n.magic != "" {
					assert.True(t, bytes.HasPrefix(raw, []byte(n.magic)), "compressed as the name says")
				} else {
					assert.False(t, bytes.HasPrefix(raw, []byte(gzipMagic)) || bytes.HasPrefix(raw, []byte(zstdMagic)), "not compressed")
				}
				got, err := openAll(t, path, nil)
				require.NoError(t, err)
				want := in
				if format == FormatOracle {
					want = withoutWrites(in)
				}
				assert.Equal(t, want, got)
			})
		}
	}
}

func TestCompressionOf(t *testing.T) {
	for path, want := range map[string]string{
		"a.pages": "", "a.pages.gz": CompressGzip, "dir.gz/a": "", "a.vmt.zst": CompressZstd, "A.ZST": CompressZstd, "-": "",
	} {
		assert.Equal(t, want, CompressionOf(path), path)
	}
}

// TestDetectPastLongLines reads rw traces whose first line that is not a
// comment starts after the first 16 KiB, or is longer than that: once read
// as pages, with a misleading syntax error.
func TestDetectPastLongLines(t *testing.T) {
	long := strings.Repeat("x", 20<<10)
	tests := []struct {
		name string
		in   string
		want []Access
	}{
		{"a comment longer than 16 KiB first", "# " + long + "\nR 0x1000\nW 0x2000\n", []Access{{1, false}, {2, true}}},
		{"many comment lines first", strings.Repeat("# "+long[:100]+"\n", 300) + "W 0x3000\n", []Access{{3, true}}},
		{"a first record with a long comment", "R 0x1000 # " + long + "\nW 0x2000\n", []Access{{1, false}, {2, true}}},
		{"a first record after long blank space", strings.Repeat(" ", 20<<10) + "\nR 0x5000\n", []Access{{5, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, c, err := NewReader(strings.NewReader(tt.in), "t.rw", nil)
			require.NoError(t, err)
			defer c.Close()
			got, err := ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestDetectedFormatInErrors checks that a syntax error of a detected
// format names the format and the line it was detected from, and that one
// of a named format does not.
func TestDetectedFormatInErrors(t *testing.T) {
	in := "# pages, then rw by mistake\n1 2\nR 0x1000\n"
	r, c, err := NewReader(strings.NewReader(in), "t.trace", nil)
	require.NoError(t, err)
	defer c.Close()
	_, err = ReadAll(r)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, ErrSyntax)
	assert.Equal(t, 3, pe.Line)
	assert.Equal(t, FormatPages, pe.Detected)
	assert.Equal(t, 2, pe.DetectedLine)
	assert.Contains(t, err.Error(), "(format detected as pages from line 2)")

	r, c, err = NewReader(strings.NewReader(in), "t.trace", &OpenOptions{Format: FormatPages})
	require.NoError(t, err)
	defer c.Close()
	_, err = ReadAll(r)
	require.ErrorAs(t, err, &pe)
	assert.Empty(t, pe.Detected, "a named format is not a guess")
}

// TestByteOrderMark reads text traces that start with a UTF-8 byte-order
// mark, detected or named, whole or a byte at a time.
func TestByteOrderMark(t *testing.T) {
	tests := []struct {
		format string
		in     string
		want   []Access
	}{
		{FormatPages, utf8BOM + "1 2w\n", []Access{{1, false}, {2, true}}},
		{FormatPages, utf8BOM + "# comment\n3\n", []Access{{3, false}}},
		{FormatRW, utf8BOM + "R 0x1000\nW 0x2000\n", []Access{{1, false}, {2, true}}},
		{FormatLackey, utf8BOM + "==1== Lackey\n L 2000,8\n", []Access{{2, false}}},
		{FormatLackey, utf8BOM + " S 3000,8\n", []Access{{3, true}}},
	}
	for _, tt := range tests {
		for _, format := range []string{FormatAuto, tt.format} {
			for _, split := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%q/format=%s/bytewise=%v", tt.format, tt.in[3:], format, split), func(t *testing.T) {
					var src io.Reader = strings.NewReader(tt.in)
					if split {
						src = iotest.OneByteReader(src)
					}
					r, c, err := NewReader(src, "t", &OpenOptions{Format: format})
					require.NoError(t, err)
					defer c.Close()
					got, err := ReadAll(r)
					require.NoError(t, err)
					assert.Equal(t, tt.want, got)
				})
			}
		}
	}
}
