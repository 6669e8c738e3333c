package exercise

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

func TestBeyondEOF(t *testing.T) {
	ps := int(arch.SystemPageSize())
	p := func(n int) string { return strconv.Itoa(n) }
	sigbus := func(off int) string {
		return "read p[" + p(off) + "]: caught memory fault (SIGBUS) at ADDR: read access (p + " + p(off) + ")"
	}
	tests := []struct {
		name   string
		opts   *BeyondEOFOptions
		want   []string // lines that must appear, in this order
		absent []string
	}{
		{
			name: "half a page: page 1 works, its tail is zeros, page 2 raises SIGBUS",
			opts: nil,
			want: []string{
				"write(fd, " + p(ps/2) + " × 'x'): the file has " + p(ps/2) + " bytes: it ends inside page 1",
				"read p[0] = 'x'",
				"read p[" + p(ps/2) + ".." + p(ps-1) + "]: " + p(ps/2) + " × 0 (the tail of page 1, past the end of the file)",
				"write 'Z' to p[" + p(ps/2) + "]: no fault, it is the same page",
				sigbus(ps),
				"the file, read back: " + p(ps/2) + " bytes: " + p(ps/2) + " × 'x'",
				"check: page 1, which holds file data, reads it: ok ('x')",
				"check: the tail of page 1 reads as zeros: ok (" + p(ps/2) + " × 0)",
				"check: page 2, wholly past the end of the file, raises SIGBUS: ok (SIGBUS at p + " + p(ps) + ")",
				"check: the file is unchanged: a write past its end never reaches it: ok (" + p(ps/2) + " bytes)",
			},
		},
		{
			name:   "one whole page: no tail, page 2 raises SIGBUS",
			opts:   &BeyondEOFOptions{Size: ps},
			want:   []string{"read p[0] = 'x'", sigbus(ps), "check: page 2, wholly past the end of the file, raises SIGBUS: ok (SIGBUS at p + " + p(ps) + ")"},
			absent: []string{"tail"},
		},
		{
			name: "empty file: even page 1 raises SIGBUS",
			opts: &BeyondEOFOptions{Size: 0},
			want: []string{sigbus(0), sigbus(ps), "check: page 1, wholly past the end of the file, raises SIGBUS: ok (SIGBUS at p + 0)"},
		},
		{
			name:   "the file ends inside page 2: no SIGBUS, the tail of page 2 is zeros",
			opts:   &BeyondEOFOptions{Size: ps + 100},
			want:   []string{"read p[" + p(ps) + "] = 'x'", "read p[" + p(ps+100) + ".." + p(2*ps-1) + "]: " + p(ps-100) + " × 0 (the tail of page 2, past the end of the file)"},
			absent: []string{"SIGBUS at"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, BeyondEOF(&out, tt.opts), out.String())
			got := lines(out.String())
			i := 0
			for _, l := range got {
				if i < len(tt.want) && l == tt.want[i] {
					i++
				}
			}
			assert.Equal(t, len(tt.want), i, "missing in order: %q\nin:\n%s", tt.want[min(i, len(tt.want)-1)], out.String())
			for _, a := range tt.absent {
				assert.NotContains(t, out.String()[:bytes.Index(out.Bytes(), []byte("\nThe course's"))], a)
			}
			assert.NotContains(t, out.String(), "FAILED")
		})
	}
}

func TestBeyondEOFRejectsSizes(t *testing.T) {
	ps := int(arch.SystemPageSize())
	for _, size := range []int{-1, 2*ps + 1} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			var out bytes.Buffer
			assert.ErrorIs(t, BeyondEOF(&out, &BeyondEOFOptions{Size: size}), ErrBadSize)
			assert.Empty(t, out.String())
		})
	}
}
