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
// # One step function
//
// Every access of every mode goes through one function, the step of
// [Pager.Access]: simulation runs it over batches of accesses ([Pager.Replay],
// [Simulate], [Sweep], [Stream]) with the counters in registers; real mode
// runs it for each fault and each hit it is told of; step tables run it one
// access at a time and read the outcome. The rules above are written once,
// there, and a test holds the batched and the one-at-a-time paths to the
// same calls to the policy, access by access (package pager/pagertest).
//
// # Policies and the engine
//
// A [Policy] answers only three questions (hit, insert, victim). The replay
// engine owns the trace loop, the dense page ids, next-use knowledge for OPT
// ([NeedsNext] says which policies need it), the counters and the sweeps.
// Page ids are dense (0, 1, 2... in order of first appearance): the trace's
// page numbers ([arch.PageNum], up to 2^64) are mapped once, by a [Builder]
// for a trace held in memory or a [Decoder] for one read as a stream; a
// replay consumes [Batch]es from a [Source] either way.
//
// A [Trace] is immutable once built: any number of replays may share it. A
// policy's tables grow with the pages it holds, never with the frame budget
// alone, so a budget larger than the trace's pages costs what its pages do.
//
// # Cancellation and memory
//
// Every replay takes a context and stops at the next batch once it is done,
// with its error; [Sweep] returns the runs that finished. A trace read whole
// into memory ([Load], for OPT when the format gives no next uses) is
// bounded by [LoadOptions.MaxBytes] and refused past it with what it would
// cost ([TooLargeError]).
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
