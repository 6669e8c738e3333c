// Package vm is the mechanism half of vmsim: real memory from mmap, page
// protections, second views and remapping. It knows nothing of replacement
// policies; package pager decides, and its real-memory binding carries the
// decisions out with the calls here.
//
// # Regions
//
// A [Region] is a run of pages of the system page size, reserved at a fixed
// address for its whole life. Four kinds exist:
//
//   - [NewAnonymous]: private anonymous memory (malloc's memory).
//   - [NewShared]: a memfd mapped twice: the program's view, whose pages carry
//     per-page protections, and an always-writable second view for the pager
//     ([Region.AltPage]). The pager fills and saves pages through the second
//     view while the program's view denies access, so no thread ever sees a
//     half-filled page and no write is lost.
//   - [NewFile] with Shared: a file mapped MAP_SHARED (writes reach the file),
//     with a second view when the file is writable.
//   - [NewFile] without Shared: a file mapped MAP_PRIVATE (copy on write; the
//     file never changes).
//
// [Memfd] makes the anonymous memory file behind shared memory as an
// *os.File: mapped with NewFile, and passed to a child process through
// exec.Cmd.ExtraFiles, it is how processes share memory without a file name.
//
// With [Options.Reserve] the program's view starts as a PROT_NONE anonymous
// reservation and the backing pages appear only where [Region.Remap] maps
// them in place (MAP_FIXED); [Region.Reserve] takes them away again. This is
// the "remap" mechanism of the classic exercise where a SIGSEGV handler maps
// a page and jumps back.
//
// Regions are madvise(MADV_NOHUGEPAGE) unless [Options.HugePages] is set, so
// that each first touch faults on one page, not on 2 MiB.
//
// # Limits
//
// Each change of protection of a single page splits a kernel memory area
// (VMA) in two or three. The kernel caps the areas of a process at
// vm.max_map_count ([MapLimit]); past it mprotect fails with ENOMEM, reported
// as an error matching [ErrMapLimit], and the Go runtime's own allocations
// can fail fatally. [Region.Mappings] says how many areas a region's view
// occupies now: callers keep it well below the limit.
//
// # Errors
//
// Every failing system call is reported as an [*Error] that names the
// operation and the address range and wraps the errno. Misuse is an error
// too, never a crash: [ErrZeroLength], [ErrUnaligned], [ErrOutOfRange],
// [ErrClosed].
//
// The package is Linux-only; on other systems the constructors return
// [ErrNotSupported].
package vm
