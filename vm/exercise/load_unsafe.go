package exercise

import (
	"unsafe"

	"vmsim/vm/arch"
)

// loadByte reads the byte at address a, as C's *base does. a need not be
// mapped: the load then faults, which is the point.
func loadByte(a arch.Addr) byte {
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return *(*byte)(p)
}
