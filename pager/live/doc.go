// Package live is real-memory demand paging: it binds the decision core of
// package pager to real pages of package vm through the faults of package
// faults.
//
// A [Pager] owns a region of real memory whose pages start inaccessible. A
// touch of a page that is not resident raises a real hardware fault; the
// fault reaches [Pager.HandleFault], which asks the core what to do and
// carries the decision out:
//
//   - evict a victim: revoke access first, save it through the region's
//     second view if it is dirty, release its memory;
//   - fill the page through the second view, then grant access (read-only,
//     or read-write for a declared write);
//   - on a write fault on a clean resident page, mark it dirty and grant
//     read-write.
//
// No thread ever sees a half-filled page: the program's view grants access
// only once the page is complete, and pages are saved only after the view
// lost access, so no write is lost.
//
// # Mechanisms
//
// [Mprotect] keeps a memfd mapped twice and changes the protection of the
// program's view page by page. [Remap] maps the memfd's page in place
// (MAP_FIXED) at fault time and maps PROT_NONE anonymous memory over it to
// evict. Both split the kernel's memory areas page by page, so the frame
// budget is bounded by vm.max_map_count: [New] refuses a larger one.
//
// # Hits
//
// Hardware sets a page's referenced bit on every access, but user space
// cannot read it. [Pager.Replay] therefore tells the core of every access
// that did not fault (a hit), so that the policy sees the same sequence as in
// simulation and the counts agree (invariant I1). The accessors
// [Pager.ReadAt] and [Pager.WriteAt] do the same. Code that touches the
// region directly through faults reports only its faults, as a kernel
// without accessed bits would see it.
//
// # Lock order
//
// Pager.mu, then the region's own lock (inside vm calls), then the store's.
package live
