//go:build linux

package vm

import (
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The argument structures of the userfaultfd ioctls, as in
// <linux/userfaultfd.h>. golang.org/x/sys/unix v0.50.0 has only the system
// call number; TestUserfaultABI checks these against the C header.
type (
	uffdioAPI struct {
		api      uint64
		features uint64
		ioctls   uint64
	}
	uffdioRange struct {
		start uint64
		len   uint64
	}
	uffdioRegister struct {
		rng    uffdioRange
		mode   uint64
		ioctls uint64
	}
	uffdioCopy struct {
		dst  uint64
		src  uint64
		len  uint64
		mode uint64
		copy int64
	}
	uffdioWriteprotect struct {
		rng  uffdioRange
		mode uint64
	}
)

// ioc encodes an ioctl number as the kernel's _IOC macro does (x86, arm64,
// riscv and most others: 2 direction bits, 14 size bits, 8 type bits, 8
// number bits).
func ioc(dir, typ, nr, size uintptr) uintptr { return dir<<30 | size<<16 | typ<<8 | nr }

const (
	iocNone  = 0
	iocWrite = 1
	iocRead  = 2
	uffdio   = 0xAA
)

// The ioctl numbers.
var (
	userfaultfdIocNew = ioc(iocNone, uffdio, 0x00, 0)
	uffdioAPINr       = ioc(iocRead|iocWrite, uffdio, 0x3F, unsafe.Sizeof(uffdioAPI{}))
	uffdioRegisterNr  = ioc(iocRead|iocWrite, uffdio, 0x00, unsafe.Sizeof(uffdioRegister{}))
	uffdioCopyNr      = ioc(iocRead|iocWrite, uffdio, 0x03, unsafe.Sizeof(uffdioCopy{}))
	uffdioWriteprotNr = ioc(iocRead|iocWrite, uffdio, 0x06, unsafe.Sizeof(uffdioWriteprotect{}))
)

func ioctlAPI(fd int, a *uffdioAPI) error {
	return errnoErr(unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uffdioAPINr, uintptr(unsafe.Pointer(a))))
}

func ioctlRegister(fd int, a *uffdioRegister) error {
	return errnoErr(unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uffdioRegisterNr, uintptr(unsafe.Pointer(a))))
}

func ioctlWriteprotect(fd int, a *uffdioWriteprotect) error {
	return errnoErr(unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uffdioWriteprotNr, uintptr(unsafe.Pointer(a))))
}

// ioctlCopy copies src to dst (UFFDIO_COPY). src is Go memory: it is kept
// alive, and cannot move, while the kernel reads it.
func ioctlCopy(fd int, dst []byte, src []byte, mode uint64) error {
	a := uffdioCopy{
		dst:  uint64(uintptr(unsafe.Pointer(unsafe.SliceData(dst)))),
		src:  uint64(uintptr(unsafe.Pointer(unsafe.SliceData(src)))),
		len:  uint64(len(dst)),
		mode: mode,
	}
	err := errnoErr(unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uffdioCopyNr, uintptr(unsafe.Pointer(&a))))
	runtime.KeepAlive(src)
	return err
}

// newUserfaultDevice asks an open /dev/userfaultfd for a descriptor.
func newUserfaultDevice(dev int, flags uintptr) (int, error) {
	fd, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(dev), userfaultfdIocNew, flags)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

func errnoErr(_, _ uintptr, e unix.Errno) error {
	if e != 0 {
		return e
	}
	return nil
}
