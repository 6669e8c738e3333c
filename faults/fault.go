package faults

import (
	"errors"
	"fmt"
	"runtime"
	"runtime/debug"

	"vmsim/vm/arch"
)

// ErrUnresolved is matched by the error returned when a handler does not
// resolve a fault: the same address keeps faulting.
var ErrUnresolved = errors.New("fault not resolved by its handler")

// Fault is a memory fault caught in user space.
type Fault struct {
	// Address is the faulting address, exact to the byte for plain loads and
	// stores; for a copy it can be anywhere in the page that faulted.
	Address arch.Addr
	// Signal is SIGSEGV or SIGBUS when the owner of the memory could tell,
	// else SignalUnknown.
	Signal arch.Signal
	// Access is the kind of access declared by the code that faulted, or
	// AccessUnspecified.
	Access arch.AccessKind
	// Cookie is what the guarded call attached to the fault for its
	// handler ([Registry.Loop]), or nil: per-call state (the access in
	// progress) that a handler serving many goroutines at once need not
	// keep in shared fields.
	Cookie any

	// value is the runtime's panic value, re-raised unchanged when nobody
	// owns the fault.
	value any
}

// Addr returns the faulting address, as the runtime's own value does.
func (f *Fault) Addr() uintptr { return uintptr(f.Address) }

// Error describes the fault: "memory fault (SIGSEGV) at 0x7f00: write access".
func (f *Fault) Error() string {
	return fmt.Sprintf("memory fault (%v) at %v: %v access", f.Signal, f.Address, f.Access)
}

// Repanic raises the runtime's original panic value again. Raised after the
// guarded function returned, the crash shows where Repanic was called; the
// registry re-raises unowned faults before that, with the faulting frames
// still on the stack.
func (f *Fault) Repanic() { panic(f.value) }

// UnresolvedError reports a fault whose handler returned without making the
// access possible. It matches [ErrUnresolved].
type UnresolvedError struct {
	Fault   Fault
	Retries int
}

func (e *UnresolvedError) Error() string {
	return fmt.Sprintf("%v: still faulting after %d retries: %v", e.Fault.Address, e.Retries, ErrUnresolved)
}

// Is reports whether target is ErrUnresolved.
func (e *UnresolvedError) Is(target error) bool { return target == ErrUnresolved }

// addresser is the runtime's fault value: a runtime.Error with the address.
type addresser interface {
	runtime.Error
	Addr() uintptr
}

// Catch runs fn with panic-on-fault set and returns the memory fault it
// raised, as a [*Fault], or nil if fn returned normally. Nil dereferences and
// every other panic propagate unchanged. Catch does not retry.
func Catch(fn func()) error {
	if f := catch(fn, nil); f != nil {
		return f
	}
	return nil
}

// catch is Catch returning the concrete type. A fault at an address that no
// area of reg (if not nil) owns is re-raised at once, from the deferred
// function, so that the crash still shows the faulting frames. Its only
// allocation is the Fault, and only when a fault happens.
func catch(fn func(), reg *Registry) (f *Fault) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		a, ok := v.(addresser)
		if !ok {
			panic(v)
		}
		if reg != nil {
			if _, _, owned := reg.Lookup(arch.Addr(a.Addr())); !owned {
				panic(v)
			}
		}
		f = &Fault{Address: arch.Addr(a.Addr()), value: v}
	}()
	fn()
	return nil
}
