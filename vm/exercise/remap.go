package exercise

import (
	"errors"
	"fmt"
	"io"

	"golang.org/x/sys/unix"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// RemapOptions configure [Remap]. A nil *RemapOptions means the defaults.
type RemapOptions struct {
	// Observer, if not nil, watches the address (the kernel's faults,
	// with --kernel).
	Observer Observer
}

// Remap is the exercise where a SIGSEGV handler maps a page and jumps back:
// base points at an address where nothing is mapped; reading base[0] faults;
// the handler maps a fresh private anonymous page at that address (or, if
// something else took it meanwhile, at a fresh address, and updates base),
// stores 'A' there, and the read is retried (the siglongjmp back to the
// sigsetjmp point). It prints base[0] = A.
func Remap(w io.Writer, opts *RemapOptions) error {
	var o RemapOptions
	if opts != nil {
		o = *opts
	}
	// An address with nothing mapped: map a page and unmap it again.
	hole, err := vm.NewAnonymous(1, nil)
	if err != nil {
		return err
	}
	at := hole.Range().Start
	if err := hole.Unmap(); err != nil {
		return err
	}
	ps := hole.PageSize()
	area := arch.Range{Start: at, End: at + arch.Addr(ps)}
	base := at // the C program's char *base
	fmt.Fprintf(w, "base = %v (nothing is mapped there)\n", base)

	var mapped *vm.Region
	defer func() {
		if mapped != nil {
			mapped.Unmap()
		}
	}()
	faultCount := 0
	reg := &faults.Registry{}
	h := faults.HandlerFunc(func(f *faults.Fault) error {
		faultCount++
		fmt.Fprintf(w, "  handler: caught a fault at %v (%v access): nothing mapped there\n", f.Address, f.Access)
		r, err := vm.NewAnonymous(1, &vm.Options{At: at, Prot: arch.ProtReadWrite})
		if errors.Is(err, unix.EEXIST) {
			// Someone mapped the hole meanwhile: map anywhere and move base,
			// which the retried read reads again.
			r, err = vm.NewAnonymous(1, &vm.Options{Prot: arch.ProtReadWrite})
			if err == nil {
				base = r.Range().Start
				fmt.Fprintf(w, "  handler: %v was taken; mapped a page at %v and set base to it\n", at, base)
			}
		}
		if err != nil {
			return err
		}
		mapped = r
		fmt.Fprintf(w, "  handler: mmap(%v, %d, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = %v\n", at, ps, r.Range().Start)
		r.Bytes()[0] = 'A'
		fmt.Fprintln(w, "  handler: base[0] = 'A'; jump back to the faulting read")
		return nil
	})
	if err := reg.Register(area, h); err != nil {
		return err
	}
	if o.Observer != nil {
		if err := o.Observer.Watch("base", area); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "read base[0]")
	var got byte
	if err := reg.Do(arch.AccessRead, func() { got = loadByte(base) }); err != nil {
		return err
	}
	fmt.Fprintf(w, "base[0] = %c\n", got)

	c := &checker{w: w}
	c.expect("one fault", faultCount == 1, "%d caught", faultCount)
	c.expect("base[0] is 'A'", got == 'A', "read %q", got)
	moved := "the page was mapped at base itself, so here returning would have worked too; had something taken the hole, the handler would have mapped the page elsewhere and moved base, and only the jump makes the read use the new base"
	if base != at {
		moved = fmt.Sprintf("the hole was taken, so the handler mapped the page at %v and moved base there: a return would have restarted the read at %v, which still has nothing of ours, and faulted again", base, at)
	}
	answers(w,
		answer{"Why jump back instead of returning?", "Returning restarts the faulting instruction with the address it had computed; jumping back to before the read makes the program compute it again from base. In this run " + moved + "."},
		answer{"Why sigsetjmp and siglongjmp, not setjmp and longjmp?", "While a handler runs, its signal is blocked. siglongjmp to a sigsetjmp(env, 1) point restores the signal mask saved there; a plain longjmp to a setjmp point (which saved no mask) leaves SIGSEGV blocked, and the next fault, which the kernel cannot deliver, kills the process. (Go's runtime manages the masks itself; " + unbroken("vmsim check remap") + " shows it on a C program.)"},
		answer{"What must the handler do for the printf to run?", fmt.Sprintf("Put memory where the read looks: map a page at base (or map one elsewhere and point base at it) before jumping back. This run's handler mapped a page at %v and stored 'A'; the read after the jump found it, and the printf printed base[0] = %c after %d fault.", base, got, faultCount)},
		answer{"Why a handler for SIGBUS as well as SIGSEGV?", "Reading where nothing is mapped raises SIGSEGV (SEGV_MAPERR), as here. SIGBUS comes for an address that is mapped but has nothing behind it: a page of a file past its end. A handler that maps pages of a file would meet it, so the course installs the same handler for both."},
	)
	explain(w,
		"Nothing is mapped at base, so the read raises SIGSEGV (SEGV_MAPERR). The C program's handler",
		"mmaps a page there, writes 'A', and siglongjmps back to the sigsetjmp before the read, which",
		"runs again. In Go the handler is a faults.Handler: the runtime turns the fault into a panic,",
		"faults.Do recovers it, calls the handler, and calls the read again: the retry is the longjmp.",
		"MAP_FIXED_NOREPLACE makes the handler safe: it never maps over something that took the hole.")
	if o.Observer != nil {
		if err := o.Observer.Report(w, map[string]string{"base": "the read of the unmapped address faults (the signal); the handler's store of 'A' into the fresh page faults again, in the kernel only, to allocate it; the retried read finds the page mapped."}); err != nil {
			return err
		}
	}
	return c.err("remap")
}
