//go:build linux

package vm

import (
	"unsafe"

	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// mmap maps length bytes; at is nil or the memory to map over (MAP_FIXED).
func mmap(at []byte, length, prot, flags, fd int, off int64) ([]byte, error) {
	var addr unsafe.Pointer
	if at != nil {
		addr = unsafe.Pointer(unsafe.SliceData(at))
	}
	p, err := unix.MmapPtr(fd, off, addr, uintptr(length), prot, flags)
	if err != nil {
		var r arch.Range
		if at != nil {
			r = rangeOf(at)
		}
		return nil, &Error{Op: "mmap", Range: r, Err: err}
	}
	return unsafe.Slice((*byte)(p), length), nil
}

func munmap(b []byte) error {
	if err := unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(b)), uintptr(len(b))); err != nil {
		return &Error{Op: "munmap", Range: rangeOf(b), Err: err}
	}
	return nil
}

func addrOf(b []byte) arch.Addr { return arch.Addr(unsafe.Pointer(unsafe.SliceData(b))) }

func rangeOf(b []byte) arch.Range {
	a := addrOf(b)
	return arch.Range{Start: a, End: a + arch.Addr(len(b))}
}

// unsafeBytes makes a slice over memory at a that the caller is about to map.
func unsafeBytes(a arch.Addr, n int) []byte {
	// a is the address of a mapping outside the Go heap: reinterpret it
	// without the uintptr-to-Pointer conversion that vet rightly distrusts
	// for Go memory.
	p := *(*unsafe.Pointer)(unsafe.Pointer(&a))
	return unsafe.Slice((*byte)(p), n)
}

// mincore reports in vec which pages of b are resident (bit 0 of each byte).
func mincore(b, vec []byte) error {
	_, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(unsafe.SliceData(b))), uintptr(len(b)), uintptr(unsafe.Pointer(unsafe.SliceData(vec))))
	if e != 0 {
		return e
	}
	return nil
}

func rangeOfAlt(b []byte) arch.Range { return rangeOf(b) }
