//go:build linux && arm64

package observe

import (
	"golang.org/x/sys/unix"
)

// regs are the registers the tracer reads at a stop.
type regs struct {
	// nr is the system call number (x8), ret its result (x0).
	nr  int
	ret int64
	// args are x0 to x5 (at entry).
	args   [6]uint64
	ip, sp uint64
}

// ntPrstatus is the register set of the general registers.
const ntPrstatus = 1

func getRegs(tid int) (regs, error) {
	var r unix.PtraceRegsArm64
	if err := unix.PtraceGetRegSetArm64(tid, ntPrstatus, &r); err != nil {
		return regs{}, err
	}
	return regs{
		nr:   int(int64(r.Regs[8])),
		ret:  int64(r.Regs[0]),
		args: [6]uint64{r.Regs[0], r.Regs[1], r.Regs[2], r.Regs[3], r.Regs[4], r.Regs[5]},
		ip:   r.Pc,
		sp:   r.Sp,
	}, nil
}

// checkArch accepts every arm64 program (32-bit arm is refused by the
// register set's size).
func checkArch(r regs) error { return nil }

// faultAccess is not read on arm64: the syndrome register is in a record
// of the signal frame this package does not decode.
func faultAccess(tid int, r regs) Access { return Access{} }

func archError() error { return nil }
