// Package live is real-memory demand paging: it binds the decision core of
// package pager to real pages of package vm through the faults of package
// faults.
//
// A [Pager] owns a region of real memory whose pages start inaccessible. A
// touch of a page that is not resident raises a real hardware fault; the
// fault reaches [Pager.HandleFault], which asks the core what to do and
// carries the decision out:
//
//   - evict a victim: revoke access first, save it if it is dirty (through
//     the region's second view, or with Uffd from the write-protected page
//     itself), release its memory;
//   - fill the page (through the second view, or with Uffd in one atomic
//     step), then grant access (read-only, or read-write for a declared
//     write);
//   - on a write fault on a clean resident page, mark it dirty and grant
//     read-write.
//
// No thread ever sees a half-filled page: the program's view grants access
// only once the page is complete, and pages are saved only after the view
// lost write access, so no write is lost.
//
// # Mechanisms
//
// [Mprotect] keeps a memfd mapped twice and changes the protection of the
// program's view page by page. [Remap] maps the memfd's page in place
// (MAP_FIXED) at fault time and maps PROT_NONE anonymous memory over it to
// evict. Both split the kernel's memory areas page by page, so the frame
// budget is bounded by vm.max_map_count: [New] refuses a larger one.
//
// [Uffd] registers anonymous memory with userfaultfd (missing-page and
// write-protect modes, UFFD_FEATURE_SIGBUS). A touch of a missing page, or
// a write to a write-protected one, raises SIGBUS on the faulting goroutine,
// which package faults catches like SIGSEGV: no goroutine reads the
// userfaultfd. A load fills the page in one step (UFFDIO_COPY),
// write-protected for a read, writable for a write; a protection fault
// lifts the write protection (UFFDIO_WRITEPROTECT); an eviction
// write-protects a dirty page, saves it from the program's view (which no
// thread can write any more) and releases it (MADV_DONTNEED), which makes
// it missing again. Page tables change, memory areas do not: the frame
// budget is bounded only by memory. Where userfaultfd cannot be had, [New]
// says what is missing (a [vm.UserfaultError]).
//
// All three count the same faults, protection faults, evictions and
// writebacks as simulation, and UserFaults is Faults + ProtectionFaults with
// each of them (see [Stats]).
//
// # Hits
//
// Hardware sets a page's referenced bit on every access, but user space
// cannot read it. [Pager.Replay] therefore tells the core of every access
// that did not fault (a hit), so that the policy sees the same sequence as in
// simulation and the counts agree (invariant I1). The accessors
// [Pager.ReadAt] and [Pager.WriteAt] do the same, with two approximations
// when goroutines race: a fault that another goroutine resolved first counts
// as a hit (and as a user fault), and an access that a page's eviction
// overtook after it completed counts as a hit the policy does not hear of; a
// page evicted again before the faulting goroutine retries faults, and
// counts, again. Data is never affected (invariant I3). Code that touches
// the region directly through faults reports only its faults, as a kernel
// without accessed bits would see it.
//
// Replay's virtual times continue the Pager's clock, so that replays and
// accesses can follow one another.
//
// # Lock order
//
// Pager.mu, then the region's own lock (inside vm calls), then the store's.
package live
