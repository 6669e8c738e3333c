package traces

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

func readRW(t *testing.T, s string, ps arch.PageSize) ([]Access, error) {
	t.Helper()
	r, err := NewRWReader(strings.NewReader(s), "t.rw", ps)
	require.NoError(t, err)
	return ReadAll(r)
}

func TestRWReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		ps   arch.PageSize
		want []Access
	}{
		{"hex and decimal addresses", "R 0x1000\nW 8192\n", 0, []Access{{1, false}, {2, true}}},
		{"either case", "r 0X2fff\nw 0x3000\nR 0\nW 1", 0, []Access{{2, false}, {3, true}, {0, false}, {0, true}}},
		{"address inside a page", "R 4095\nR 4096", 0, []Access{{0, false}, {1, false}}},
		{"comments, blank lines and tabs", "# head\n\n\tR\t0x1000  # the first\n  \nW 0x1000#x\n", 0, []Access{{1, false}, {1, true}}},
		{"crlf line ends", "R 0x1000\r\nW 0x2000\r\n", 0, []Access{{1, false}, {2, true}}},
		{"page size 2 MiB", "R 0x200000\nW 0x3fffff\nR 0x400000", 2 << 20, []Access{{1, false}, {1, true}, {2, false}}},
		{"page size 1", "R 7", 1, []Access{{7, false}}},
		{"largest address", "W 0xffffffffffffffff", 0, []Access{{1<<52 - 1, true}}},
		{"empty", "", 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRW(t, tt.in, tt.ps)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestRWReaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		line  int
		token string
		good  int
	}{
		{"unknown op", "R 1\nX 0x10", 2, "X 0x10", 1},
		{"no address", "R 1\nW\n", 2, "W", 1},
		{"no space after op", "R0x10", 1, "R0x10", 0},
		{"word op", "READ 0x10", 1, "READ 0x10", 0},
		{"bad hex", "\n\nW 0xzz", 3, "W 0xzz", 0},
		{"overflow", "R 18446744073709551616", 1, "R 18446744073709551616", 0},
		{"trailing field", "R 0x10 8", 1, "R 0x10 8", 0},
		{"pages format", "1,2,3", 1, "1,2,3", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readRW(t, tt.in, 0)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, ErrSyntax)
			assert.Equal(t, "t.rw", pe.File)
			assert.Equal(t, tt.line, pe.Line)
			assert.Equal(t, tt.token, pe.Token)
			assert.Len(t, got, tt.good, "the accesses before the error are returned")
			assert.Contains(t, err.Error(), "expected R ADDR or W ADDR")
		})
	}
}

func TestRWReaderBadPageSize(t *testing.T) {
	for _, ps := range []arch.PageSize{3, 4097, 1 << 31} {
		_, err := NewRWReader(strings.NewReader(""), "x", ps)
		assert.ErrorIs(t, err, ErrPageSize, "page size %d", ps)
	}
}

func TestRWReaderTestdata(t *testing.T) {
	f, err := os.Open("testdata/small.rw")
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	r, err := NewRWReader(f, "small.rw", 0)
	require.NoError(t, err)
	got, err := ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, []Access{{1, false}, {1, true}, {2, false}, {3, true}}, got)
}

func TestRWReaderSmallReads(t *testing.T) {
	in := "# c\nR 0x1000\n# long comment " + strings.Repeat("x", 100000) + "\nW 0x5000"
	r, err := NewRWReader(iotest.OneByteReader(strings.NewReader(in)), "x", 0)
	require.NoError(t, err)
	got, err := ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, []Access{{1, false}, {5, true}}, got)
}

func TestRWReaderLineTooLong(t *testing.T) {
	in := "R 0x1000\nR " + strings.Repeat("1", maxLine+10) + "\n"
	got, err := readRW(t, in, 0)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 2, pe.Line)
	assert.ErrorIs(t, err, ErrSyntax)
	assert.Len(t, got, 1)
}

func TestRWReaderPassesIOErrors(t *testing.T) {
	// The complete line before the failure is returned first.
	src := io.MultiReader(strings.NewReader("R 0x1000\n"), iotest.ErrReader(io.ErrUnexpectedEOF))
	r, err := NewRWReader(src, "x", 0)
	require.NoError(t, err)
	got, err := ReadAll(r)
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, []Access{{1, false}}, got)
}

func TestRWRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		ps   arch.PageSize
		in   []Access
	}{
		{"4 KiB pages", 0, []Access{{0, false}, {7, true}, {1<<52 - 1, true}, {42, false}}},
		{"byte pages", 1, []Access{{1<<64 - 1, false}, {3, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewRWWriter(&buf, tt.ps)
			require.NoError(t, err)
			require.NoError(t, w.Write(tt.in))
			require.NoError(t, w.Close())
			r, err := NewRWReader(&buf, "rt", tt.ps)
			require.NoError(t, err)
			got, err := ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, tt.in, got)
		})
	}
}

func TestRWWriterOutOfRange(t *testing.T) {
	w, err := NewRWWriter(io.Discard, 4096)
	require.NoError(t, err)
	assert.ErrorIs(t, w.Write([]Access{{Page: 1 << 52}}), ErrPageRange)
}

func TestRWWriterText(t *testing.T) {
	var buf bytes.Buffer
	w, err := NewRWWriter(&buf, 0)
	require.NoError(t, err)
	require.NoError(t, w.Write([]Access{{1, false}, {2, true}}))
	require.NoError(t, w.Close())
	assert.Equal(t, "R 0x1000\nW 0x2000\n", buf.String())
}
