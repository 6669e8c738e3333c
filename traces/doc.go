// Package traces reads, writes and generates memory access traces.
//
// A trace is a sequence of [Access] values: a page number and whether the
// access writes. Readers stream: they fill a caller's buffer batch by batch
// ([Reader]), so memory does not grow with the length of a trace, and they
// allocate nothing per access.
//
// # Formats
//
//   - pages ([PagesReader], [PagesWriter]): page numbers as text, "4w" for a
//     write.
//   - rw ([RWReader], [RWWriter]): "R ADDR" / "W ADDR" lines; the page is
//     ADDR divided by the page size.
//   - lackey ([LackeyReader]): the output of valgrind's lackey tool; read
//     only.
//   - oracle ([OracleReader], [OracleWriter]): libCacheSim's oracleGeneral
//     binary records, which carry each access's next use ([NextReader]) but
//     no write bit.
//   - vmt ([VMTReader], [VMTWriter]): vmsim's own binary format, 8 bytes an
//     access, made to decode fast.
//
// docs/traces.md describes each format, its detection and compression.
//
// # Opening a trace
//
// [Open] opens a path (or "-" for standard input), decompresses gzip and
// zstd transparently, detects the format when asked ([Detect]) and returns
// the format's reader; [NewWriter] returns a [Writer] for a format, and
// [CreateAtomic] a file that appears at its path only once complete.
//
// # Errors
//
// Read returns accesses or an error, never both: the accesses before a
// malformed record come first (n > 0, nil), the error on the next call, and
// io.EOF at the end. Every malformed record is reported as a [*ParseError]
// naming the file, the line (or the byte offset, for binary formats) and
// what was expected; it wraps [ErrSyntax] for text, [ErrBadHeader],
// [ErrTruncated] or [ErrBadRecord] for binary formats. Errors of the
// underlying io.Reader pass through unchanged.
//
// The package is pure Go: it imports neither x/sys/unix nor the real-memory
// packages.
package traces
