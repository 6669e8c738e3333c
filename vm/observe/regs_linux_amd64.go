//go:build linux && amd64

package observe

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/sys/unix"
)

// regs are the registers the tracer reads at a stop.
type regs struct {
	// nr is the system call number (orig_rax), ret its result (rax).
	nr  int
	ret int64
	// args are rdi, rsi, rdx, r10, r8, r9.
	args   [6]uint64
	ip, sp uint64
	cs     uint64
}

func getRegs(tid int) (regs, error) {
	var r unix.PtraceRegs
	if err := unix.PtraceGetRegs(tid, &r); err != nil {
		return regs{}, err
	}
	return regs{
		nr:   int(int64(r.Orig_rax)),
		ret:  int64(r.Rax),
		args: [6]uint64{r.Rdi, r.Rsi, r.Rdx, r.R10, r.R8, r.R9},
		ip:   r.Rip,
		sp:   r.Rsp,
		cs:   r.Cs,
	}, nil
}

// checkArch refuses a 32-bit program: its system calls have other
// numbers and arguments (its code segment is not the 64-bit one, 0x33).
func checkArch(r regs) error {
	if r.cs != 0x33 {
		return fmt.Errorf("observe: a 32-bit x86 program (code segment %#x): only 64-bit programs can be traced: %w", r.cs, ErrNotSupported)
	}
	return nil
}

// Offsets in the x86-64 signal frame: rdx holds &ucontext at the
// handler's first instruction; uc_mcontext starts 40 bytes in, and its
// err and trapno fields 152 and 160 bytes into it.
const (
	ucMcontext = 40
	scErr      = 152
	trapPF     = 14
)

// faultAccess reads the page fault's error code from the signal frame at
// the handler's first instruction.
func faultAccess(tid int, r regs) Access {
	uc := r.args[2]
	b := readBytes(tid, uc+ucMcontext+scErr, 16)
	if len(b) < 16 || binary.LittleEndian.Uint64(b[8:]) != trapPF {
		return Access{}
	}
	return Access{Known: true, Code: binary.LittleEndian.Uint64(b)}
}

func archError() error { return nil }
