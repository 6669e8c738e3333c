//go:build linux

package probe

import (
	"os"

	"golang.org/x/sys/unix"
)

// zeroSink keeps the read of ZeroPageOnRead.
var zeroSink byte

// ZeroPageOnRead reports whether a read of fresh anonymous memory maps the
// shared zero page on this kernel, as the probe sees it: then a write after
// the read faults again, as a protection fault (0x7), to copy it. Whether
// it does depends on the kernel and its configuration; tests that count
// the faults of a read then a write ask here instead of assuming either.
// It opens a probe of its own: its errors are [Open]'s.
func ZeroPageOnRead() (bool, error) {
	ps := os.Getpagesize()
	b, err := unix.Mmap(-1, 0, ps, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return false, &Error{Op: "map a page", Err: os.NewSyscallError("mmap", err)}
	}
	defer unix.Munmap(b)
	// A huge page would be mapped whole by the first fault.
	_ = unix.Madvise(b, unix.MADV_NOHUGEPAGE)
	p, err := Open(&Options{Ranges: []Range{{Range: RangeOf(b)}}})
	if err != nil {
		return false, err
	}
	defer p.Close()
	zeroSink = b[0]
	b[0] = 1
	c, err := p.Counts()
	if err != nil {
		return false, err
	}
	return c.Total.ByCode[CodeUser|CodePresent|CodeWrite] == 1, nil
}
