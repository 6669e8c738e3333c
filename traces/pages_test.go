package traces

import (
	"bytes"
	"encoding/binary"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func readPages(t *testing.T, s string) ([]Access, error) {
	t.Helper()
	return ReadAll(NewPagesReader(strings.NewReader(s), "t.pages"))
}

func TestPagesReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Access
	}{
		{"commas", "7,0,1,2", []Access{{7, false}, {0, false}, {1, false}, {2, false}}},
		{"writes and reads", "4w 5r 6W 0x10R", []Access{{4, true}, {5, false}, {6, true}, {16, false}}},
		{"hex", "0x7f,0XFF", []Access{{0x7f, false}, {0xff, false}}},
		{"comments and blank lines", "# header\n1 # one\n\n  2,\t3 #x\n#end", []Access{{1, false}, {2, false}, {3, false}}},
		{"largest page", "18446744073709551615", []Access{{1<<64 - 1, false}}},
		{"empty", "", nil},
		{"only a comment", "# nothing", nil},
		{"no final newline", "1\n2", []Access{{1, false}, {2, false}}},
		{"comma runs", "1,,2 ,, 3", []Access{{1, false}, {2, false}, {3, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPages(t, tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPagesReaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		line  int
		token string
		good  int
	}{
		{"letters", "1 2\nabc 3", 2, "abc", 2},
		{"bad suffix", "1x", 1, "1x", 0},
		{"overflow", "18446744073709551616", 1, "18446744073709551616", 0},
		{"bad hex", "0xg1", 1, "0xg1", 0},
		{"bare w", "1 w", 1, "w", 1},
		{"negative", "\n\n-1", 3, "-1", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readPages(t, tt.in)
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, ErrSyntax)
			assert.Equal(t, "t.pages", pe.File)
			assert.Equal(t, tt.line, pe.Line)
			assert.Equal(t, tt.token, pe.Token)
			assert.Len(t, got, tt.good, "the accesses before the error are returned")
			assert.Contains(t, err.Error(), "expected a page number")
		})
	}
}

func TestPagesReaderSmallReads(t *testing.T) {
	// Tokens and comments split across reads of one byte.
	in := "# c\n12w, 0x1f\n# long comment " + strings.Repeat("x", 1000) + "\n345"
	got, err := ReadAll(NewPagesReader(iotest.OneByteReader(strings.NewReader(in)), "x"))
	require.NoError(t, err)
	assert.Equal(t, []Access{{12, true}, {0x1f, false}, {345, false}}, got)
}

func TestPagesReaderLongInput(t *testing.T) {
	// More than one buffer of input, line numbers kept across refills.
	var b strings.Builder
	for i := range 100000 {
		b.WriteString("123456w\n")
		_ = i
	}
	b.WriteString("oops\n")
	got, err := ReadAll(NewPagesReader(strings.NewReader(b.String()), "big"))
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 100001, pe.Line)
	assert.Len(t, got, 100000)
}

func TestPagesRoundTrip(t *testing.T) {
	in := []Access{{0, false}, {7, true}, {1<<64 - 1, true}, {42, false}}
	var buf bytes.Buffer
	w := NewPagesWriter(&buf)
	require.NoError(t, w.Write(in))
	require.NoError(t, w.Flush())
	got, err := ReadAll(NewPagesReader(&buf, "rt"))
	require.NoError(t, err)
	assert.Equal(t, in, got)
}

func TestPagesReaderTokenTooLong(t *testing.T) {
	got, err := readPages(t, "1\n2 "+strings.Repeat("7", 2<<20))
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.ErrorIs(t, err, ErrSyntax)
	assert.Equal(t, 2, pe.Line)
	assert.Contains(t, err.Error(), "token longer than 1 MiB")
	assert.Len(t, got, 2)
}

func TestPagesReaderPassesIOErrors(t *testing.T) {
	_, err := ReadAll(NewPagesReader(iotest.ErrReader(io.ErrUnexpectedEOF), "x"))
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

// TestSWARDigits checks the 8-byte digit scan against a byte-by-byte one on
// every byte value after each number of leading digits, and the conversion
// of every digit count.
func TestSWARDigits(t *testing.T) {
	for k := 1; k <= 8; k++ {
		for c := 0; c < 256; c++ {
			b := []byte("12345678")
			if k < 8 {
				b[k] = byte(c)
				for j := k + 1; j < 8; j++ {
					b[j] = byte(255 - c) // garbage above the first non-digit
				}
			}
			want := k
			if k < 8 && '0' <= c && c <= '9' {
				want = k + 1
				for want < 8 && '0' <= b[want] && b[want] <= '9' {
					want++
				}
			}
			x := binary.LittleEndian.Uint64(b)
			require.Equal(t, want, leadingDigits(x), "%q", b)
			v, err := strconv.ParseUint(string(b[:want]), 10, 64)
			require.NoError(t, err)
			assert.Equal(t, v, parse8(x<<(64-8*want)), "%q", b[:want])
		}
	}
}
