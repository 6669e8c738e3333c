package arch

import (
	"fmt"
	"math/bits"
	"os"
)

// Addr is a virtual address in this process.
type Addr uintptr

// String prints the address in hex.
func (a Addr) String() string { return fmt.Sprintf("%#x", uintptr(a)) }

// AddLength returns a+n, or false if the sum overflows.
func (a Addr) AddLength(n uint64) (Addr, bool) {
	end := a + Addr(n)
	if uint64(Addr(n)) != n || end < a {
		return 0, false
	}
	return end, true
}

// PageNum is the number of a page: an address divided by the page size, or the
// index of a page inside a region or a trace. It is a count of pages, never a
// byte address.
type PageNum uint64

// PageSize is a page size in bytes. A valid page size is a power of two.
type PageSize uint64

// SystemPageSize returns the page size of the machine.
func SystemPageSize() PageSize { return PageSize(os.Getpagesize()) }

// Valid reports whether ps is a power of two (and not zero).
func (ps PageSize) Valid() bool { return ps != 0 && ps&(ps-1) == 0 }

// Shift returns log2(ps). ps must be valid.
func (ps PageSize) Shift() uint { return uint(bits.TrailingZeros64(uint64(ps))) }

// Aligned reports whether a is a multiple of ps.
func (ps PageSize) Aligned(a Addr) bool { return uint64(a)&(uint64(ps)-1) == 0 }

// RoundDown returns a rounded down to a page boundary.
func (ps PageSize) RoundDown(a Addr) Addr { return a &^ Addr(ps-1) }

// RoundUp returns a rounded up to a page boundary, or false if that overflows.
func (ps PageSize) RoundUp(a Addr) (Addr, bool) {
	r := ps.RoundDown(a + Addr(ps-1))
	if r < a {
		return 0, false
	}
	return r, true
}

// MustRoundUp is RoundUp that panics on overflow.
func (ps PageSize) MustRoundUp(a Addr) Addr {
	r, ok := ps.RoundUp(a)
	if !ok {
		panic(fmt.Sprintf("arch: page round up of %v overflows", a))
	}
	return r
}

// PageOf returns the number of the page that holds address a (a / ps).
func (ps PageSize) PageOf(a Addr) PageNum { return PageNum(uint64(a) >> ps.Shift()) }

// PageOfOffset returns the page that holds byte offset off (off / ps).
func (ps PageSize) PageOfOffset(off uint64) PageNum { return PageNum(off >> ps.Shift()) }

// Offset returns the offset of a inside its page.
func (ps PageSize) Offset(a Addr) uint64 { return uint64(a) & (uint64(ps) - 1) }

// Bytes returns n pages in bytes, or false if that overflows.
func (ps PageSize) Bytes(n uint64) (uint64, bool) {
	hi, lo := bits.Mul64(n, uint64(ps))
	if hi != 0 {
		return 0, false
	}
	return lo, true
}

// MustBytes is Bytes that panics on overflow.
func (ps PageSize) MustBytes(n uint64) uint64 {
	b, ok := ps.Bytes(n)
	if !ok {
		panic(fmt.Sprintf("arch: %d pages of %d bytes overflow", n, ps))
	}
	return b
}

// PagesRoundUp returns the number of pages needed to hold n bytes.
func (ps PageSize) PagesRoundUp(n uint64) uint64 {
	return n>>ps.Shift() + boolToUint64(n&(uint64(ps)-1) != 0)
}

func boolToUint64(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// Range is the half-open address range [Start, End).
type Range struct {
	Start Addr
	End   Addr
}

// RangeOf returns the range of n bytes that starts at start, or false if it
// would wrap around the address space.
func RangeOf(start Addr, n uint64) (Range, bool) {
	end, ok := start.AddLength(n)
	if !ok {
		return Range{}, false
	}
	return Range{start, end}, true
}

// WellFormed reports whether r.Start <= r.End.
func (r Range) WellFormed() bool { return r.Start <= r.End }

// Length returns the length of r in bytes.
func (r Range) Length() uint64 { return uint64(r.End - r.Start) }

// Empty reports whether r holds no address.
func (r Range) Empty() bool { return r.Start >= r.End }

// Contains reports whether r holds address a.
func (r Range) Contains(a Addr) bool { return r.Start <= a && a < r.End }

// Overlaps reports whether r and o share at least one address.
func (r Range) Overlaps(o Range) bool {
	return r.Start < o.End && o.Start < r.End && !r.Empty() && !o.Empty()
}

// Intersect returns the addresses that r and o share (empty if none).
func (r Range) Intersect(o Range) Range {
	if r.Start < o.Start {
		r.Start = o.Start
	}
	if r.End > o.End {
		r.End = o.End
	}
	if r.End < r.Start {
		r.End = r.Start
	}
	return r
}

// String prints r as [start, end).
func (r Range) String() string { return fmt.Sprintf("[%#x, %#x)", uintptr(r.Start), uintptr(r.End)) }
