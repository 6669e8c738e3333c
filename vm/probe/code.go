package probe

import (
	"fmt"
	"strings"
)

// ErrorCode is the error code the CPU pushes with a page fault (x86), as the
// kernel's exceptions:page_fault_user tracepoint reports it. Only the bits
// below NumCodes are kept.
type ErrorCode uint16

// Error-code bits (arch/x86/include/asm/trap_pf.h).
const (
	// CodePresent is set when the page was present: the fault is a
	// protection violation. Clear means the page was not present (not
	// mapped yet, or mapped PROT_NONE, which x86 page tables encode as not
	// present).
	CodePresent ErrorCode = 1 << 0
	// CodeWrite is set for a write access, clear for a read.
	CodeWrite ErrorCode = 1 << 1
	// CodeUser is set when the access came from user mode: always for
	// the page_fault_user tracepoint, never for the kernel-mode faults that
	// Options.KernelMode adds (page_fault_kernel).
	CodeUser ErrorCode = 1 << 2
	// CodeReserved is set when a reserved bit was set in a page-table entry.
	CodeReserved ErrorCode = 1 << 3
	// CodeInstruction is set for an instruction fetch.
	CodeInstruction ErrorCode = 1 << 4
)

// NumCodes is the number of distinct error codes the probe counts: codes
// are masked to their five low bits (CodePresent to CodeInstruction).
const NumCodes = 32

// Present reports whether the page was present (a protection fault).
func (c ErrorCode) Present() bool { return c&CodePresent != 0 }

// Write reports whether the access was a write.
func (c ErrorCode) Write() bool { return c&CodeWrite != 0 }

// User reports whether the access came from user mode.
func (c ErrorCode) User() bool { return c&CodeUser != 0 }

// String prints the code in hex and in words: "0x6 (not-present write
// user)".
func (c ErrorCode) String() string {
	w := []string{"not-present", "read"}
	if c.Present() {
		w[0] = "protection"
	}
	if c.Write() {
		w[1] = "write"
	}
	if c.User() {
		w = append(w, "user")
	} else {
		w = append(w, "kernel")
	}
	if c&CodeReserved != 0 {
		w = append(w, "reserved-bit")
	}
	if c&CodeInstruction != 0 {
		w = append(w, "fetch")
	}
	if c >= NumCodes {
		w = append(w, fmt.Sprintf("other bits %#x", uint16(c&^(NumCodes-1))))
	}
	return fmt.Sprintf("%#x (%s)", uint16(c), strings.Join(w, " "))
}
