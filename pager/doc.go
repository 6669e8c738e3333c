// Package pager is the decision core of vmsim: a resident set with a frame
// budget, per-page state (resident, dirty), statistics, the replacement
// policies, backing stores and the replay engine.
//
// It is pure Go: it imports neither x/sys/unix nor package vm, and never
// touches memory. The same [Pager] serves both modes. In simulation it is
// driven by a trace and its [Backend] is nil. In real mode (package
// pager/live) its Backend carries each decision out on real pages (revoke,
// save, release, fill, grant) and it is driven by the faults those pages
// raise. Because both modes run the same code on the same sequence of
// accesses, they count the same faults (invariant I1).
//
// # The rules every mode follows
//
//   - An access to a non-resident page is a fault (cold misses included). If
//     every frame is in use, the policy chooses a victim; a dirty victim is
//     written back (counted in Writebacks) before its frame is reused.
//   - A write that faults loads its page dirty and writable at once: one
//     fault, no protection fault. (Real mode knows each access's kind when
//     the replay declares it; code that does not declare its kind faults
//     first as a read and pays the protection fault.)
//   - A read that faults loads the page clean and read-only. The first write
//     to a clean resident page is a protection fault: the page becomes dirty
//     and writable. It is not a fault: the page was resident.
//   - The policy hears of every access: Hit for a resident page (also on a
//     protection fault), Insert after a fault, Evict when a frame is needed.
//
// # Policies and the engine
//
// A [Policy] answers only three questions (hit, insert, victim). The replay
// engine owns the trace loop, the dense page ids, next-use knowledge for OPT,
// the counters and the sweeps. Page ids are dense (0, 1, 2... in order of
// first appearance): the trace's page numbers, up to 2^64, are mapped once.
//
// # Errors
//
// A Backend error (a store that cannot be read or written, a failed
// mprotect) is returned by [Pager.Access] with the page state consistent: a
// victim whose write-back failed stays resident and dirty, a page whose fill
// failed stays out, and the access can be retried. The policy takes the
// victim back as a page just loaded (Insert): the counts stay exact, but a
// policy's own state may differ from a run without the failure (arc, which
// had moved the victim to a ghost list, reads it as a ghost hit).
package pager
