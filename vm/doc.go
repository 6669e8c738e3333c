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
// # Userfaultfd
//
// With [Options.Userfault] the program's view of an Anonymous or Shared
// region is registered with a userfaultfd in missing-page and write-protect
// modes, with UFFD_FEATURE_SIGBUS: every page starts missing, and a touch
// of a missing page, or a write to a write-protected one, raises SIGBUS on
// the faulting thread (package faults catches it as it catches SIGSEGV).
// [Region.Fill] installs a page atomically (UFFDIO_COPY), write-protected or
// writable; [Region.WriteProtect] sets or lifts write protection
// (UFFDIO_WRITEPROTECT); [Region.Drop] makes pages missing again. None of
// these changes a memory area: a userfaultfd region stays one area however
// many pages it holds, so it is not bounded by vm.max_map_count. Remapping
// its pages with MAP_FIXED is refused ([ErrUserfault]): the new area would
// not be registered. [CheckUserfault] says whether the kernel and the
// process allow it; docs/uffd.md has the details.
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
// [ErrClosed], [ErrUserfault], [ErrNoUserfault]. A userfaultfd that cannot
// be had is a [*UserfaultError], matching [ErrNotSupported] or
// os.ErrPermission.
//
// The package is Linux-only; on other systems the constructors return
// [ErrNotSupported].
package vm
