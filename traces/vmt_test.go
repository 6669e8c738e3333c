package traces

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

// vmtBytes returns a vmt trace: the header, then the given words.
func vmtBytes(h VMTHeader, words ...uint64) []byte {
	b := h.encode()
	for _, w := range words {
		b = binary.LittleEndian.AppendUint64(b, w)
	}
	return b
}

// hdr4k is a header of 4 KiB pages, count unknown. (A function, not a
// variable: go1.26 miscompiles the inlined encode of a global on s390x.)
func hdr4k() VMTHeader { return VMTHeader{Version: 1, PageSize: 4096} }

func counted(n uint64) VMTHeader {
	return VMTHeader{Version: 1, Flags: VMTFlagCount, PageSize: 4096, Count: n}
}

func TestVMTReader(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want []Access
	}{
		{"reads and writes", vmtBytes(hdr4k(), 7<<1, 3<<1|1, 0), []Access{{7, false}, {3, true}, {0, false}}},
		{"count known", vmtBytes(counted(2), 1<<1, 2<<1|1), []Access{{1, false}, {2, true}}},
		{"largest page that fits a word", vmtBytes(hdr4k(), (escapePage-1)<<1|1), []Access{{escapePage - 1, true}}},
		{"escaped pages", vmtBytes(counted(3), vmtEscape|1, 1<<64-1, vmtEscape, escapePage, 5<<1),
			[]Access{{1<<64 - 1, true}, {escapePage, false}, {5, false}}},
		{"empty trace", vmtBytes(counted(0)), nil},
		{"empty trace, count unknown", vmtBytes(hdr4k()), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadAll(NewVMTReader(bytes.NewReader(tt.in), "t.vmt"))
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
			// The same, one byte at a time and one access a batch.
			r := NewVMTReader(iotest.OneByteReader(bytes.NewReader(tt.in)), "t.vmt")
			var one []Access
			buf := make([]Access, 1)
			for {
				n, err := r.Read(buf)
				if err == io.EOF {
					break
				}
				require.NoError(t, err)
				one = append(one, buf[:n]...)
			}
			assert.Equal(t, tt.want, one)
		})
	}
}

func TestVMTReaderErrors(t *testing.T) {
	bad := func(f func(b []byte)) []byte {
		b := vmtBytes(hdr4k(), 2)
		f(b)
		return b
	}
	tests := []struct {
		name     string
		in       []byte
		sentinel error
		offset   int64
		good     int
		want     string
	}{
		{"empty file", nil, ErrBadHeader, 0, 0, "32"},
		{"short header", []byte(VMTMagic + "\x01\x00"), ErrTruncated, 10, 0, "expected 32"},
		{"bad magic", bad(func(b []byte) { b[1] = 'X' }), ErrBadHeader, 0, 0, "magic"},
		{"future version", bad(func(b []byte) { b[8] = 2 }), ErrBadHeader, 0, 0, "expected version 1, got 2"},
		{"unknown flag", bad(func(b []byte) { b[10] = 4 }), ErrBadHeader, 0, 0, "flags"},
		{"page size not a power of two", bad(func(b []byte) { b[12] = 3 }), ErrBadHeader, 0, 0, "page size"},
		{"zero page size", bad(func(b []byte) { b[13], b[12] = 0, 0 }), ErrBadHeader, 0, 0, "page size"},
		{"count without its flag", bad(func(b []byte) { b[16] = 1 }), ErrBadHeader, 0, 0, "count 0"},
		{"reserved bytes", bad(func(b []byte) { b[31] = 1 }), ErrBadHeader, 0, 0, "reserved"},
		{"truncated record", append(vmtBytes(hdr4k(), 2, 4), 1, 2, 3), ErrTruncated, 48, 2, "expected an 8-byte record, got 3 bytes"},
		{"escape at the end", vmtBytes(hdr4k(), 2, vmtEscape), ErrTruncated, 40, 1, "page word after the escape"},
		{"escaped small page", vmtBytes(hdr4k(), 2, vmtEscape, 7), ErrBadRecord, 40, 1, "expected an escaped page"},
		{"fewer than the count", vmtBytes(counted(3), 2, 4), ErrTruncated, 48, 2, "expected 3 accesses"},
		{"more than the count", vmtBytes(counted(1), 2, 4), ErrBadRecord, 40, 1, "count of 1"},
		{"dense: an id before its page", vmtBytes(dense(), vmtNew, 5, 0<<1, 1<<1), ErrBadRecord, 56, 2, "expected an id below 1"},
		{"dense: an escape word", vmtBytes(dense(), vmtEscape, 1<<63), ErrBadRecord, 32, 0, "expected an id or a new page"},
		{"dense: new page at the end", vmtBytes(dense(), vmtNew|1), ErrTruncated, 32, 0, "page word after the escape"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadAll(NewVMTReader(bytes.NewReader(tt.in), "t.vmt"))
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, tt.sentinel)
			assert.Equal(t, "t.vmt", pe.File)
			assert.Equal(t, 0, pe.Line)
			assert.Equal(t, tt.offset, pe.Offset)
			assert.Len(t, got, tt.good, "the accesses before the error are returned")
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), "t.vmt: byte ")
		})
	}
}

func TestVMTHeader(t *testing.T) {
	in := vmtBytes(VMTHeader{Version: 1, Flags: VMTFlagCount, PageSize: 2 << 20, Count: 1}, 2)
	h, err := NewVMTReader(bytes.NewReader(in), "x").Header()
	require.NoError(t, err)
	assert.True(t, h.CountKnown())
	assert.Equal(t, uint64(1), h.Count)
	assert.EqualValues(t, 2<<20, h.PageSize)

	_, err = NewVMTReader(bytes.NewReader([]byte("nope")), "x").Header()
	assert.ErrorIs(t, err, ErrBadHeader)
}

func TestVMTRoundTrip(t *testing.T) {
	in := []Access{{0, false}, {7, true}, {escapePage - 1, false}, {escapePage, true}, {1<<64 - 1, false}, {42, true}, {7, false}, {0, true}}
	tests := []struct {
		name  string
		opts  *WriterOptions
		count bool
	}{
		{"count unknown", nil, false},
		{"count given", &WriterOptions{Count: uint64(len(in)), PageSize: 64 << 10}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			w, err := NewVMTWriter(&buf, tt.opts)
			require.NoError(t, err)
			require.NoError(t, w.Write(in[:2]))
			require.NoError(t, w.Write(in[2:]))
			require.NoError(t, w.Close())
			assert.Equal(t, VMTHeaderSize+8*len(in)+8*6, buf.Len(), "8 bytes an access, 8 more for each of the 6 pages")
			r := NewVMTReader(&buf, "rt")
			h, err := r.Header()
			require.NoError(t, err)
			assert.Equal(t, tt.count, h.CountKnown())
			got, err := ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, in, got)
		})
	}
}

func TestVMTWriterCountMismatch(t *testing.T) {
	w, err := NewVMTWriter(io.Discard, &WriterOptions{Count: 3})
	require.NoError(t, err)
	require.NoError(t, w.Write([]Access{{1, false}}))
	assert.ErrorContains(t, w.Close(), "wrote 1 accesses, but the header says 3")
}

func TestVMTWriterPatchesCountIntoAtomicFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out.vmt")
	f, err := CreateAtomic(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Abort() })
	w, err := NewVMTWriter(f, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write([]Access{{1, false}, {2, true}}))
	require.NoError(t, w.Close())
	require.NoError(t, f.Commit())

	data, err := os.ReadFile(path)
	require.NoError(t, err)
	h, err := NewVMTReader(bytes.NewReader(data), path).Header()
	require.NoError(t, err)
	assert.True(t, h.CountKnown())
	assert.Equal(t, uint64(2), h.Count)
}

// dense returns the header this package's writer writes: dense, count
// unknown.
func dense() VMTHeader {
	return VMTHeader{Version: VMTVersion, Flags: VMTFlagDense, PageSize: 4096}
}

func TestVMTDense(t *testing.T) {
	// Pages 1000, 7, 1000, 1<<64-1, 7: ids 0, 1, 0, 2, 1.
	in := vmtBytes(dense(), vmtNew, 1000, vmtNew|1, 7, 0<<1|1, vmtNew, 1<<64-1, 1<<1)
	pages, err := ReadAll(NewVMTReader(bytes.NewReader(in), "d"))
	require.NoError(t, err)
	assert.Equal(t, []Access{{1000, false}, {7, true}, {1000, true}, {1<<64 - 1, false}, {7, false}}, pages)

	r := NewVMTReader(bytes.NewReader(in), "d")
	d, err := r.Dense()
	require.NoError(t, err)
	require.True(t, d)
	var ids []Access
	buf := make([]Access, 2) // small batches: new pages across calls
	for {
		n, err := r.ReadDense(buf)
		ids = append(ids, buf[:n]...)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
	}
	assert.Equal(t, []Access{{0, false}, {1, true}, {0, true}, {2, false}, {1, false}}, ids)

	plain := NewVMTReader(bytes.NewReader(vmtBytes(hdr4k(), 2)), "p")
	d, err = plain.Dense()
	require.NoError(t, err)
	assert.False(t, d)
	_, err = plain.ReadDense(buf)
	assert.ErrorContains(t, err, "without the dense flag")
}

// TestVMTReaderIDsOnly: after IDsOnly a dense trace reads the same ids,
// checks them as before, keeps no page numbers, and refuses Read.
func TestVMTReaderIDsOnly(t *testing.T) {
	var as []Access
	for i := range 10_000 {
		as = append(as, Access{Page: arch.PageNum((i*7)%501) << 20, Write: i%3 == 0})
	}
	var buf bytes.Buffer
	w, err := NewVMTWriter(&buf, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(as))
	require.NoError(t, w.Close())

	read := func(idsOnly bool) []Access {
		r := NewVMTReader(bytes.NewReader(buf.Bytes()), "t.vmt")
		dense, err := r.Dense()
		require.NoError(t, err)
		require.True(t, dense)
		if idsOnly {
			r.IDsOnly()
		}
		var out []Access
		b := make([]Access, 333)
		for {
			n, err := r.ReadDense(b)
			out = append(out, b[:n]...)
			if err == io.EOF {
				break
			}
			require.NoError(t, err)
		}
		if idsOnly {
			assert.Nil(t, r.Pages(), "no table kept")
		} else {
			assert.Len(t, r.Pages(), 501)
		}
		return out
	}
	assert.Equal(t, read(false), read(true))

	r := NewVMTReader(bytes.NewReader(buf.Bytes()), "t.vmt")
	r.IDsOnly()
	_, err = r.Read(make([]Access, 10))
	assert.ErrorContains(t, err, "Read of a dense vmt trace after IDsOnly")
}
