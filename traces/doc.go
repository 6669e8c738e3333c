// Package traces reads, writes and generates memory access traces.
//
// A trace is a sequence of [Access] values: a page number and whether the
// access writes. Readers stream: they fill a caller's buffer batch by batch
// ([Reader]), so memory does not grow with the length of a trace. Every
// malformed record is reported as a [*ParseError] naming the file, the line
// (or the byte offset, for binary formats) and what was expected.
//
// The package is pure Go: it imports neither x/sys/unix nor the real-memory
// packages.
package traces
