//go:build linux && !amd64 && !arm64

package observe

import (
	"fmt"
	"runtime"
)

type regs struct {
	nr     int
	ret    int64
	args   [6]uint64
	ip, sp uint64
}

var sysNames = [...]string{}

var errArch = fmt.Errorf("observe: reading a tracee's registers on %s: only amd64 and arm64 are supported: %w", runtime.GOARCH, ErrNotSupported)

func getRegs(tid int) (regs, error)      { return regs{}, errArch }
func checkArch(r regs) error             { return errArch }
func faultAccess(tid int, r regs) Access { return Access{} }

func archError() error { return errArch }
