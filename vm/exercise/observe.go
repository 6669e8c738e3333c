package exercise

import (
	"io"

	"vmsim/vm/arch"
)

// Observer watches the memory an exercise touches and, at the end, reports
// what it saw: with --kernel, the kernel's own page faults on it. The
// exercise calls Watch as soon as it knows an address range, before it
// touches it, and Report once its checks are printed.
type Observer interface {
	// Watch starts counting on r, labelled for the report.
	Watch(label string, r arch.Range) error
	// Report prints what was counted, and a line of explanation per
	// label from explain (label → text), if given.
	Report(w io.Writer, explain map[string]string) error
}
