package exercise

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// BeyondEOFOptions configure [BeyondEOF]. A nil *BeyondEOFOptions means a
// file of half a page.
type BeyondEOFOptions struct {
	// Size is the size of the file in bytes, from 0 to two pages (the size
	// of the mapping).
	Size int
}

// ErrBadSize is matched by the error of [BeyondEOF] for a file size it
// cannot show.
var ErrBadSize = errors.New("file size out of range")

// BeyondEOF is the exercise the course warns with: a file shorter than the
// mapping. It maps two pages of a file of opts.Size bytes (half a page by
// default) MAP_SHARED, read-write. mmap succeeds; the pages that hold the
// file read its bytes; the tail of the page that holds the end of the file
// reads as zeros, and a write there never reaches the file; a page wholly
// past the end raises SIGBUS, caught as a [*faults.Fault] with its address.
func BeyondEOF(w io.Writer, opts *BeyondEOFOptions) error {
	ps := int(arch.SystemPageSize())
	o := BeyondEOFOptions{Size: ps / 2}
	if opts != nil {
		o = *opts
	}
	if o.Size < 0 || o.Size > pages*ps {
		return fmt.Errorf("exercise beyond-eof: size %d: %w (0 to %d, the size of the mapping)", o.Size, ErrBadSize, pages*ps)
	}
	dir, err := os.MkdirTemp("", "vmsim-beyond-eof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "file")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(w, "fd = open(\"%s\", O_RDWR|O_CREAT|O_TRUNC, 0644)\n", path)
	content := bytes.Repeat([]byte{'x'}, o.Size)
	if _, err := f.Write(content); err != nil {
		return err
	}
	fmt.Fprintf(w, "write(fd, %d × 'x'): the file has %s\n", o.Size, pagesOf(o.Size, ps))

	r, err := vm.NewFile(f, pages, &vm.FileOptions{Shared: true, Options: vm.Options{Prot: arch.ProtReadWrite}})
	if err != nil {
		return fmt.Errorf("exercise beyond-eof: %w", err)
	}
	unmapped := false
	defer func() {
		if !unmapped {
			r.Unmap()
		}
	}()
	base := r.Range().Start
	fmt.Fprintf(w, "p = mmap(NULL, %d, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) = %v: mmap does not check the length against the file\n", pages*ps, base)

	// The checks are printed after the steps, as in the other exercises.
	var checks []func(c *checker)
	mem := r.Bytes()
	var sigbus []*faults.Fault
	for p := range pages {
		start := p * ps
		var got byte
		err := access(r, arch.AccessRead, func() { got = mem[start] })
		var fault *faults.Fault
		switch {
		case errors.As(err, &fault):
			fmt.Fprintf(w, "read p[%d]: caught %v (p + %d)\n", start, fault, int(fault.Address-base))
			sigbus = append(sigbus, fault)
		case err != nil:
			return err
		default:
			fmt.Fprintf(w, "read p[%d] = %s\n", start, QuoteByte(got))
		}
		pastEOF := start >= o.Size
		if pastEOF {
			checks = append(checks, func(c *checker) {
				c.expect(fmt.Sprintf("page %d, wholly past the end of the file, raises SIGBUS", p+1),
					fault != nil && fault.Signal == arch.SIGBUS && fault.Address == base+arch.Addr(start),
					"%s", faultText(fault, base))
			})
			continue
		}
		checks = append(checks, func(c *checker) {
			c.expect(fmt.Sprintf("page %d, which holds file data, reads it", p+1), err == nil && got == 'x', "%s", QuoteByte(got))
		})
		end := min(start+ps, o.Size)
		if end == start+ps {
			continue
		}
		// The page holds the end of the file: its tail is past the end.
		tail := make([]byte, start+ps-end)
		if err := access(r, arch.AccessRead, func() { copy(tail, mem[end:start+ps]) }); err != nil {
			return err
		}
		fmt.Fprintf(w, "read p[%d..%d]: %s (the tail of page %d, past the end of the file)\n", end, start+ps-1, describe(tail), p+1)
		checks = append(checks, func(c *checker) {
			c.expect(fmt.Sprintf("the tail of page %d reads as zeros", p+1), AllBytes(tail, 0), "%s", describe(tail))
		})
		if err := access(r, arch.AccessWrite, func() { mem[end] = 'Z' }); err != nil {
			return err
		}
		fmt.Fprintf(w, "write 'Z' to p[%d]: no fault, it is the same page\n", end)
	}
	if err := r.Sync(0, pages); err != nil {
		return err
	}
	fmt.Fprintf(w, "msync(p, %d, MS_SYNC)\n", pages*ps)
	unmapped = true
	if err := r.Unmap(); err != nil {
		return err
	}
	fmt.Fprintf(w, "munmap(p, %d)\n", pages*ps)
	after, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "the file, read back: %d bytes: %s\n", len(after), describe(after))
	c := &checker{w: w}
	for _, check := range checks {
		check(c)
	}
	c.expect("the file is unchanged: a write past its end never reaches it", bytes.Equal(after, content), "%d bytes", len(after))

	tailAnswer := "It reads as zeros, and what is written there stays in memory and never reaches the file, which keeps its size."
	if o.Size%ps == 0 {
		tailAnswer = "There is none here: the file ends on a page boundary (try a --size that is not a multiple of the page size)."
	}
	faultAnswer := "None does here: the file covers the whole mapping (try a smaller --size)."
	if len(sigbus) > 0 {
		faultAnswer = fmt.Sprintf("SIGBUS, at the first byte of the first page wholly past the end (p + %d). The address is mapped, so it is not SIGSEGV: what is missing is the file's data behind it.", int(sigbus[0].Address-base))
	}
	answers(w,
		answer{"What happens when the program touches a page past the end of the file?", faultAnswer},
		answer{"And the rest of the page that holds the end of the file?", tailAnswer},
	)
	explainText(w,
		"mmap maps whole pages and does not compare the length with the file's size: the file may grow later. At the first touch of a page, the kernel looks for the page in the file. In the page that holds the end of the file, the bytes past the end are zeros (the page cache zero-fills them), and writeback stops at the file's size, so a write there is lost. A page that lies wholly past the end has nothing behind it: the kernel sends SIGBUS.",
		"In Go, runtime/debug.SetPanicOnFault turns the SIGBUS into a panic that package faults recovers, with the faulting address. The runtime's value does not say which signal it was: vm.Region.Classify tells SIGBUS from SIGSEGV by comparing the page's offset in the file with the file's size (fstat). A copy that reads a file through mmap must be ready for this when another process truncates the file: vmsim cp is.",
	)
	return c.err("beyond-eof")
}

// pagesOf says how many pages n bytes fill.
func pagesOf(n, ps int) string {
	switch {
	case n == 0:
		return "0 bytes"
	case n%ps == 0:
		return fmt.Sprintf("%d bytes, exactly %d page(s)", n, n/ps)
	}
	return fmt.Sprintf("%d bytes: it ends inside page %d", n, n/ps+1)
}

func faultText(f *faults.Fault, base arch.Addr) string {
	if f == nil {
		return "no fault"
	}
	return fmt.Sprintf("%v at p + %d", f.Signal, int(f.Address-base))
}
