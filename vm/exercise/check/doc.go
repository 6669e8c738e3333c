// Package check grades a student's own C solution of each mmap exercise
// by watching it run: it runs the program under package vm/observe and
// holds the exercise's checks against what the program did (its system
// calls, its signals and handlers, its memory and files at the end), not
// against what it printed.
//
// # Exercises as data
//
// An [Exercise] is a list of [Check]s, each with a name, the mistakes it
// catches and how it is decided from a run; [Exercises] lists them in the
// course's order. mprotect, remap, shared-file and shared-anon run the
// program once; cp runs it once per case of a corpus of its own (an empty
// file, one byte, one page, one page and a byte, 4 MiB of random bytes, a
// sparse file, a missing source, an unwritable destination directory,
// source = destination) and decides how it copies from the largest.
//
// # Results
//
// [Grade] returns a [Report]: one [Result] per check, in order, each ok,
// failed or warning, with its evidence (the trace's lines: system calls
// and signals as strace prints them, exits, memory and files read) and an
// explanation for a student: what the evidence shows and, when it fails,
// what a right program does instead. A program that crashes, loops or
// waits forever is stopped by the observer's limits and fails the checks
// it did not meet, with the reason; Grade's error is kept for a program
// that could not be run at all. [Build] compiles a C file; a compiler
// error is a [*CompileError] that holds the compiler's output as it is.
//
// The package imports no command line: cmd/vmsim formats the reports.
package check
