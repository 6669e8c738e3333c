package probe

import (
	"unsafe"

	"vmsim/vm/arch"
)

// RangeOf returns the addresses of b, for watching memory that is known as
// a slice (a region's second view: see vm.Region.AltPage). An empty b gives
// an empty range. b should be mmap'd memory: Go memory can move (a
// goroutine's stack is copied when it grows), and the range would then
// watch the old place.
func RangeOf(b []byte) arch.Range {
	if len(b) == 0 {
		return arch.Range{}
	}
	a := arch.Addr(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	return arch.Range{Start: a, End: a + arch.Addr(len(b))}
}
