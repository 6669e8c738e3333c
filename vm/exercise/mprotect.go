package exercise

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// sink keeps loads from being optimised away.
var sink byte

// protFlags spells a protection the way C code does.
func protFlags(p arch.Prot) string {
	if p == arch.ProtNone {
		return "PROT_NONE"
	}
	var s []string
	if p.Read() {
		s = append(s, "PROT_READ")
	}
	if p.Write() {
		s = append(s, "PROT_WRITE")
	}
	if p.Exec() {
		s = append(s, "PROT_EXEC")
	}
	return strings.Join(s, "|")
}

// writeImpliesRead reports whether this CPU's page tables make a writable
// page readable too (x86 has no write-only pages).
func writeImpliesRead() bool {
	switch runtime.GOARCH {
	case "amd64", "386":
		return true
	}
	return false
}

// MprotectOptions configure [Mprotect].
type MprotectOptions struct {
	// Grant is what the handler grants: ProtReadWrite in the course (and
	// with nil options). ProtNone grants nothing.
	Grant arch.Prot
	// MaxRetries bounds the retries of an unresolved fault; zero means
	// faults.DefaultMaxRetries.
	MaxRetries int
	// Observer, if not nil, watches the page (the kernel's faults, with
	// --kernel).
	Observer Observer
}

// Mprotect is the exercise where a SIGSEGV handler calls mprotect: one page
// is mapped PROT_NONE; writing 'c' faults; the handler prints the signal,
// mprotects the page and prints the result; the write is retried; then 'c' is
// read, 'd' written and read. The C program prints the same lines.
//
// With a grant that does not allow both accesses, the retried access faults
// again, and the bounded retry turns the endless loop into an error that the
// exercise shows and expects.
func Mprotect(w io.Writer, opts *MprotectOptions) error {
	o := MprotectOptions{Grant: arch.ProtReadWrite}
	if opts != nil {
		o = *opts
	}
	r, err := vm.NewAnonymous(1, nil)
	if err != nil {
		return err
	}
	defer r.Unmap()
	p := r.Bytes()
	ps := r.PageSize()
	fmt.Fprintf(w, "p = mmap(NULL, %d, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %v\n", ps, r.Range().Start)
	if o.Observer != nil {
		if err := o.Observer.Watch("p", r.Range()); err != nil {
			return err
		}
	}

	faultCount := 0
	var mprotectErr error
	h := &regionHandler{r: r, fn: func(f *faults.Fault) error {
		faultCount++
		fmt.Fprintf(w, "  handler: received %v at %v (%v access)\n", f.Signal, f.Address, f.Access)
		mprotectErr = r.Protect(0, 1, o.Grant)
		ret := 0
		if mprotectErr != nil {
			ret = -1
		}
		fmt.Fprintf(w, "  handler: mprotect(p, %d, %s) = %d\n", ps, protFlags(o.Grant), ret)
		return mprotectErr
	}}
	reg := &faults.Registry{MaxRetries: o.MaxRetries}
	if err := reg.Register(r.Range(), h); err != nil {
		return err
	}

	c := &checker{w: w}
	step := func(kind arch.AccessKind, fn func()) error {
		err := reg.Do(kind, fn)
		var ue *faults.UnresolvedError
		if errors.As(err, &ue) {
			fmt.Fprintf(w, "  the access still faults after %d retries: giving up (%v)\n", ue.Retries, faults.ErrUnresolved)
		}
		return err
	}

	fmt.Fprintln(w, "write 'c' to p[0]")
	errC := step(arch.AccessWrite, func() { p[0] = 'c' })
	var readC byte
	if errC == nil {
		if errC = step(arch.AccessRead, func() { readC = p[0] }); errC == nil {
			fmt.Fprintf(w, "read p[0] = '%c'\n", readC)
		}
	}
	var readD byte
	errD := errC
	if errD == nil {
		fmt.Fprintln(w, "write 'd' to p[0]")
		errD = step(arch.AccessWrite, func() { p[0] = 'd' })
		if errD == nil {
			if errD = step(arch.AccessRead, func() { readD = p[0] }); errD == nil {
				fmt.Fprintf(w, "read p[0] = '%c'\n", readD)
			}
		}
	}

	resolves := o.Grant.SupersetOf(arch.ProtReadWrite) ||
		(o.Grant.Write() && writeImpliesRead())
	if resolves {
		c.expect("one fault", faultCount == 1, "%d caught", faultCount)
		c.expect("values read", errD == nil && readC == 'c' && readD == 'd', "read '%c' then '%c'", readC, readD)
	} else {
		c.expect("the unresolved fault is an error, not a hang", errors.Is(errC, faults.ErrUnresolved), "error: %v", errC != nil)
	}

	mprotectAnswers(w, o.Grant, resolves, faultCount, int(ps))
	switch {
	case o.Grant == arch.ProtReadWrite:
		explain(w,
			"The page starts PROT_NONE, so the first write raises a real hardware fault; the kernel",
			"sends SIGSEGV. In Go, runtime/debug.SetPanicOnFault turns it into a panic that faults.Do",
			"recovers: that is the handler. It calls mprotect(PROT_READ|PROT_WRITE) and returns, and the",
			"write runs again (in C the instruction restarts when the handler returns). From then on the",
			"page is accessible: the read, the second write and the second read do not fault. One fault.")
	case resolves:
		explain(w,
			"The handler granted PROT_WRITE only, yet the reads succeeded without a fault: on this CPU",
			fmt.Sprintf("(%s) page tables cannot express write-only, so the kernel maps a writable page", runtime.GOARCH),
			"readable too. On a CPU that can, the read would fault again, the handler would grant",
			"PROT_WRITE again, and the access would retry forever: vmsim bounds the retries and reports",
			"ErrUnresolved instead (try --prot read or --prot none to see that path here).")
	default:
		explain(w,
			fmt.Sprintf("The handler granted %s, which does not allow the access that faulted. The retried", protFlags(o.Grant)),
			"access faults again at the same address, the handler grants the same thing again, and a C",
			"program would loop forever in and out of its handler. vmsim's retry is bounded: after",
			"MaxRetries faults at one address it stops with ErrUnresolved, naming the address.")
	}
	if o.Observer != nil {
		if err := o.Observer.Report(w, map[string]string{"p": "the write to the PROT_NONE page faults (the signal), and the retried write faults again: mprotect grants access but does not map a page, so the kernel allocates it on the retry. User space saw one of the two."}); err != nil {
			return err
		}
	}
	return c.err("mprotect")
}

// mprotectAnswers answers the course's questions from a run that granted
// grant and took faults faults.
func mprotectAnswers(w io.Writer, grant arch.Prot, resolves bool, faults, ps int) {
	call := unbroken(fmt.Sprintf("mprotect(p, %d, %s)", ps, protFlags(grant)))
	var rw, printf string
	switch {
	case grant.SupersetOf(arch.ProtReadWrite):
		rw = fmt.Sprintf("The program reads p[0] after writing it, so the page must allow both. This run granted PROT_READ|PROT_WRITE, and neither the reads nor the second write faulted. PROT_WRITE alone works on x86 (%s here) only because its page tables cannot express write-only: the kernel makes the page readable too. On a CPU that can, the read faults again, and a handler that grants PROT_WRITE again never fixes it.", runtime.GOARCH)
	case resolves:
		rw = fmt.Sprintf("This run granted PROT_WRITE alone, and the reads worked all the same: on this CPU (%s) a writable page is readable too. On a CPU that can map a page write-only, the first read would fault, and the handler's PROT_WRITE could never fix it: grant PROT_READ|PROT_WRITE, which is what the program needs.", runtime.GOARCH)
	default:
		rw = fmt.Sprintf("This run granted %s, which does not even allow the write: the program needs to write and then read the page, so the handler must grant PROT_READ|PROT_WRITE.", protFlags(grant))
	}
	if resolves {
		printf = fmt.Sprintf("Make the write possible: this run's handler called %s once and returned; the kernel restarted the write, which succeeded, and the program went on to its printf (%d fault in all). A handler that changes nothing, or grants too little, returns to a write that faults again at once: the program goes round its handler forever and never reaches the printf.", call, faults)
	} else {
		printf = fmt.Sprintf("Make the write possible, which this run's handler did not: it called %s %d times, the write faulted each time, and the printf after it never ran. A C program would loop forever; vmsim bounds the retries.", call, faults)
	}
	answers(w,
		answer{"Why PROT_READ with PROT_WRITE?", rw},
		answer{"Why a handler for SIGBUS as well as SIGSEGV?", "Linux raises SIGSEGV for an access that a page's protection forbids (si_code SEGV_ACCERR), as this run shows. Other systems (FreeBSD, macOS) raise SIGBUS for the same access, and Linux itself raises SIGBUS for a mapped page of a file past the file's end (" + unbroken("vmsim exercise beyond-eof") + "): a handler for both keeps the program working wherever the fault comes as SIGBUS."},
		answer{"What must the handler do for the printf after the write to run?", printf},
	)
}

// regionHandler handles the faults of one region and lets the region say
// which signal a fault raised.
type regionHandler struct {
	r  *vm.Region
	fn func(f *faults.Fault) error
}

func (h *regionHandler) HandleFault(f *faults.Fault) error { return h.fn(f) }

func (h *regionHandler) Classify(a arch.Addr) arch.Signal { return h.r.Classify(a) }
