// Package exercise runs the classic mmap exercises of an operating systems
// course on real memory, checks that each behaves as the course says, and
// explains why.
//
// Every exercise writes what it does and sees to an io.Writer, in the order
// of the C program it stands for, and returns an error matching [ErrCheck]
// when the behaviour differs from the expected one. The C idioms map to Go as
// follows: the SIGSEGV handler is a [faults.Handler]; returning from the
// handler (the instruction restarts) and siglongjmp back to a sigsetjmp point
// are both the retry that [faults.Registry.Do] performs after the handler.
package exercise
