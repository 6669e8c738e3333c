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
//
// The two-process exercises ([SharedFile], [SharedAnon]) need a second
// process where the C program forks. Go cannot fork, so the exercise starts
// its own program again through a [Spawner], and that program must call
// [RunChild]; what fork would inherit is passed as descriptors: the pipes
// that order the steps (instead of the course's sleep) and, for shared
// anonymous memory, a memfd. [SharedFilePeer] is the other process started
// by hand, which meets a waiting parent at a FIFO next to the file.
//
// Every access to mapped memory runs through package faults, so that a
// SIGBUS past the end of a file ([BeyondEOF]) is a value, not a crash.
package exercise
