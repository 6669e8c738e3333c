package exercise

import (
	"fmt"
	"strings"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// access runs fn, which touches r's memory, with faults caught. Nothing in
// these exercises resolves a fault: a fault is either the point of the
// exercise (SIGBUS beyond the end of a file) or a bug, and it is returned as
// an error that wraps the [*faults.Fault], whose Signal r classifies. A fault
// outside r is not ours and propagates unchanged.
func access(r *vm.Region, kind arch.AccessKind, fn func()) error {
	reg := &faults.Registry{}
	h := &regionHandler{r: r, fn: func(f *faults.Fault) error { return f }}
	if err := reg.Register(r.Range(), h); err != nil {
		return err
	}
	return reg.Do(kind, fn)
}

// peek returns the first n bytes of page p of r, read through r's view.
func peek(r *vm.Region, p arch.PageNum, n int) (string, error) {
	page, err := r.Page(p)
	if err != nil {
		return "", err
	}
	buf := make([]byte, n)
	if err := access(r, arch.AccessRead, func() { copy(buf, page[:n]) }); err != nil {
		return "", err
	}
	return string(buf), nil
}

// fill writes c to every byte of page p of r, through r's view.
func fill(r *vm.Region, p arch.PageNum, c byte) error {
	page, err := r.Page(p)
	if err != nil {
		return err
	}
	return access(r, arch.AccessWrite, func() {
		for i := range page {
			page[i] = c
		}
	})
}

// describe summarises bytes as runs: "4096 × 'c'", or "100 × 'x', 3996 × 0".
func describe(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	var parts []string
	start := 0
	for i := 1; i <= len(b); i++ {
		if i < len(b) && b[i] == b[start] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d × %s", i-start, QuoteByte(b[start])))
		start = i
	}
	return strings.Join(parts, ", ")
}

// QuoteByte prints a byte as C would write it: 'c', or 0 for NUL, or hex.
func QuoteByte(c byte) string {
	if c == 0 {
		return "0"
	}
	if c >= 0x20 && c < 0x7f {
		return fmt.Sprintf("'%c'", c)
	}
	return fmt.Sprintf("%#02x", c)
}

// AllBytes reports whether every byte of b is c (and b is not empty).
func AllBytes(b []byte, c byte) bool {
	for _, x := range b {
		if x != c {
			return false
		}
	}
	return len(b) > 0
}
