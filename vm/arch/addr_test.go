package arch

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestPageSize(t *testing.T) {
	ps := PageSize(4096)
	assert.True(t, ps.Valid())
	assert.False(t, PageSize(0).Valid())
	assert.False(t, PageSize(3000).Valid())
	assert.Equal(t, uint(12), ps.Shift())
	assert.True(t, SystemPageSize().Valid())

	tests := []struct {
		name     string
		a        Addr
		down, up Addr
		upOK     bool
		page     PageNum
		off      uint64
		aligned  bool
	}{
		{"zero", 0, 0, 0, true, 0, 0, true},
		{"aligned stays", 0x3000, 0x3000, 0x3000, true, 3, 0, true},
		{"inside a page", 0x3001, 0x3000, 0x4000, true, 3, 1, false},
		{"last byte of a page", 0x3fff, 0x3000, 0x4000, true, 3, 0xfff, false},
		{"round up overflows", math.MaxUint64&^0 - 1, math.MaxUint64 &^ 0xfff, 0, false, PageNum(uint64(math.MaxUint64-1) >> 12), 0xffe, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.down, ps.RoundDown(tt.a))
			up, ok := ps.RoundUp(tt.a)
			assert.Equal(t, tt.upOK, ok)
			if ok {
				assert.Equal(t, tt.up, up)
				assert.Equal(t, tt.up, ps.MustRoundUp(tt.a))
			} else {
				assert.Panics(t, func() { ps.MustRoundUp(tt.a) })
			}
			assert.Equal(t, tt.page, ps.PageOf(tt.a))
			assert.Equal(t, tt.off, ps.Offset(tt.a))
			assert.Equal(t, tt.aligned, ps.Aligned(tt.a))
		})
	}
}

func TestPageBytes(t *testing.T) {
	ps := PageSize(4096)
	b, ok := ps.Bytes(3)
	assert.True(t, ok)
	assert.Equal(t, uint64(12288), b)
	_, ok = ps.Bytes(1 << 53)
	assert.False(t, ok, "2^53 pages of 4 KiB overflow 64 bits")
	assert.Panics(t, func() { ps.MustBytes(1 << 53) })
	assert.Equal(t, uint64(0), ps.PagesRoundUp(0))
	assert.Equal(t, uint64(1), ps.PagesRoundUp(1))
	assert.Equal(t, uint64(1), ps.PagesRoundUp(4096))
	assert.Equal(t, uint64(2), ps.PagesRoundUp(4097))
	assert.Equal(t, PageNum(2), ps.PageOfOffset(8192))
}

func TestRange(t *testing.T) {
	r := Range{0x1000, 0x3000}
	tests := []struct {
		name      string
		o         Range
		overlaps  bool
		intersect Range
	}{
		{"same", r, true, r},
		{"inside", Range{0x1800, 0x2000}, true, Range{0x1800, 0x2000}},
		{"touching end is apart", Range{0x3000, 0x4000}, false, Range{0x3000, 0x3000}},
		{"touching start is apart", Range{0x0, 0x1000}, false, Range{0x1000, 0x1000}},
		{"straddles end", Range{0x2000, 0x5000}, true, Range{0x2000, 0x3000}},
		{"empty inside overlaps nothing", Range{0x2000, 0x2000}, false, Range{0x2000, 0x2000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.overlaps, r.Overlaps(tt.o))
			assert.Equal(t, tt.overlaps, tt.o.Overlaps(r))
			assert.Equal(t, tt.intersect, r.Intersect(tt.o))
		})
	}
	assert.True(t, r.Contains(0x1000))
	assert.True(t, r.Contains(0x2fff))
	assert.False(t, r.Contains(0x3000), "end is excluded")
	assert.Equal(t, uint64(0x2000), r.Length())
	assert.Equal(t, "[0x1000, 0x3000)", r.String())
	assert.True(t, r.WellFormed())
	assert.False(t, Range{2, 1}.WellFormed())

	_, ok := RangeOf(Addr(math.MaxUint64-10), 100)
	assert.False(t, ok, "end wraps")
	got, ok := RangeOf(0x1000, 0x10)
	assert.True(t, ok)
	assert.Equal(t, Range{0x1000, 0x1010}, got)
}

func TestProt(t *testing.T) {
	tests := []struct {
		p    Prot
		want string
	}{
		{ProtNone, "---"},
		{ProtRead, "r--"},
		{ProtReadWrite, "rw-"},
		{ProtWrite, "-w-"},
		{ProtAll, "rwx"},
		{Prot(0x10) | ProtRead, "r--?"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) { assert.Equal(t, tt.want, tt.p.String()) })
	}
	assert.True(t, ProtReadWrite.SupersetOf(ProtRead))
	assert.False(t, ProtRead.SupersetOf(ProtReadWrite))
	assert.Equal(t, ProtReadWrite, ProtRead.Union(ProtWrite))
	assert.Equal(t, ProtRead, ProtAll.Intersect(ProtRead))
	assert.Equal(t, ProtRead, AccessUnspecified.Prot(), "an undeclared access is treated as a read")
	assert.Equal(t, ProtReadWrite, AccessWrite.Prot())
	assert.Equal(t, "write", AccessWrite.String())
	assert.Equal(t, "SIGBUS", SIGBUS.String())
}
