// Package faults turns hardware memory faults into values and retries the
// faulting access once a handler has resolved it: the Go counterpart of a C
// program's SIGSEGV handler that calls mprotect and returns (or longjmps back
// to a setjmp point).
//
// # What is caught
//
// [Catch], [Registry.Do] and [Registry.Loop] run a function with
// [runtime/debug.SetPanicOnFault] set to true and a deferred recover. When the
// function touches memory the kernel refuses (SIGSEGV on a PROT_NONE or
// unmapped page, SIGBUS past the end of a mapped file or on a userfaultfd
// region in SIGBUS mode), the runtime panics with a [runtime.Error] that has
// an Addr method; that panic is recovered and becomes a [*Fault] carrying the
// faulting address. Faults raised inside assembly (memmove behind copy, clear,
// the bytes package, atomics) are converted too.
//
// # What is re-raised unchanged
//
//   - a nil dereference (an address below 0x1000: the runtime gives no
//     address for those);
//   - every panic that is not a memory fault;
//   - with a [Registry], a fault at an address that no registered area owns.
//
// Real bugs therefore still crash loudly, with the runtime's own value.
//
// # What is not in the fault value
//
// The runtime's panic value holds the address only. The access kind (read or
// write) and the signal (SIGSEGV or SIGBUS) are not in it: a caller that
// knows its kind declares it ([Registry.Do], or the at function of
// [Registry.Loop]), otherwise [Fault.Access] is [arch.AccessUnspecified] and a
// handler should treat it as a read (a write then faults a second time and is
// upgraded). The signal is filled in when the owning handler implements
// [Classifier]; otherwise it is [arch.SignalUnknown].
//
// # The setting is per goroutine
//
// SetPanicOnFault applies to the calling goroutine only and is not inherited
// by goroutines it starts. A goroutine that touches guarded memory without it
// kills the whole process (the runtime cannot recover that). Every goroutine
// that may touch region memory must go through this package. The previous
// setting is restored when the guarded function returns.
//
// # System calls do not fault
//
// An access made by the kernel on the program's behalf (read(2) into a
// PROT_NONE page, write(2) from one) does not raise a signal: the system call
// fails with EFAULT or returns a short count. Grant access to the pages before
// passing region memory to a system call. Faults inside C code called through
// cgo are not converted either.
//
// # Retrying is not instruction restart
//
// After a handler resolves a fault, the guarded function is called again from
// its start. A function that did part of its work before it faulted must keep
// its progress outside itself ([Registry.Loop]), or be idempotent. An
// overlapping copy that faulted half-way is not: split such accesses at page
// boundaries, or make every page they span accessible first.
//
// # Bounded retries
//
// A handler that returns nil without making the access possible would loop
// forever. When the same address faults more than [Registry.MaxRetries] times
// in a row, the guarded call stops with an error that matches
// [ErrUnresolved] and carries the address.
package faults
