// Package multi runs many processes on one memory: a scheduler that
// interleaves them, a replacement scope (global or local), and load control
// (none, the working set, page-fault frequency). It is the setting of
// thrashing (Denning, "The working set model for program behavior", CACM
// 1968; "Thrashing: its causes and prevention", AFIPS FJCC 1968): as more
// processes share the memory, the processor's utilisation rises, then
// collapses once their working sets no longer fit.
//
// It is pure Go, as package pager is, and adds no second engine: every
// access of every process goes through the step of [pager.Pager.Access]
// (invariant I6). Global scope runs one pager over every process's pages;
// local scope one pager per process. Releasing a suspended process's pages
// and changing an allocation use [pager.Pager.Remove] and
// [pager.Pager.SetFrames]. Real memory ([Memory], package pager/live) gives
// each process its own region and carries the same pagers' decisions out:
// the counts are those of the simulation.
//
// # Processes and time
//
//   - Each process has its own trace and its own page numbers: page 5 of
//     one process is not page 5 of another. All share Frames frames.
//   - One processor runs one process at a time. Every access costs
//     AccessTime of processor time (default 10 µs). A process that faults
//     waits for its page: the paging device serves faults one at a time,
//     in the order they come, FaultTime each (default 5 ms), and the
//     processor runs others meanwhile. A write-back is not charged (a
//     page-out daemon writes dirty pages in the background); a protection
//     fault costs nothing beyond its access.
//   - The scheduler is a round robin with a quantum of Quantum accesses
//     (default 1,000): a process runs until its quantum is over (it goes to
//     the back of the queue, behind the processes whose pages came in
//     meanwhile), it faults, it is suspended or it is done. A process whose
//     page comes in joins the back of the queue.
//   - Virtual time, as the policies see it: with global scope, the
//     accesses of every process so far; with local scope, the process's
//     own accesses. opt's next uses are counted in the process's own
//     accesses: exact with local scope or one process, a guess with global
//     scope and several (where a next use falls depends on the schedule).
//   - A process that is done releases its frames (its pages are dropped,
//     not written back).
//
// The defaults: 5 ms is a page-in from a hard disk, an average seek and
// half a rotation (Silberschatz, Galvin and Gagne's Operating System
// Concepts, "Performance of demand paging", take 8 ms). An access of a
// trace stands for the work between two page references it records; at
// 10 µs a fault costs 500 accesses, and the quantum is a time slice of
// 10 ms, the order of a time-sharing scheduler's. What shapes the results
// is the ratio of the two costs, not the units.
//
// # Replacement scope
//
//   - Global: one policy over all frames, any policy of package pager;
//     the victim of a fault may belong to any process.
//   - Local: each process has its own frames and its own instance of the
//     policy; the victim of its fault is one of its own pages. Without
//     load control the allocation is fixed for the run: Equal (Frames/N
//     each, the first Frames%N one more) or Proportional to each process's
//     size, its distinct pages (the floors of the exact shares, the frames
//     left to the largest remainders, then at least one frame each). Local
//     scope needs at least one frame per process.
//
// # Load control
//
// None runs every process all the time.
//
// WorkingSet (Denning's working-set policy) measures each process's
// working set W(t, τ), the distinct pages of its last Tau accesses of its
// own (default 1,000), and keeps the sum of the working sets of the
// processes in memory within Frames:
//
//   - before an access that would make its working set grow, a process
//     whose working set would then not fit in what the others' leave is
//     suspended: its pages are written back if dirty and released, and the
//     access waits. The only process in memory is never suspended.
//   - suspended processes resume in the order they were suspended, each
//     once the working set its waiting access needs fits (with no process
//     in memory, the first resumes whatever it needs). Its pages come back
//     as it faults on them.
//   - with local scope, allocations follow the working sets: a process
//     starts with no frame; at a fault with its frames full it takes a free
//     frame, else it replaces one of its own pages if it holds at least its
//     working set, else it takes a frame from the process that holds the
//     most frames beyond its own working set (that process's policy chooses
//     the page to evict), else it replaces one of its own; a process that
//     has no frame and can get none is suspended. With frames for every
//     page of every process, nothing is ever evicted.
//
// PFF (page-fault frequency; Chu and Opderbeck, "The page fault frequency
// replacement algorithm", AFIPS FJCC 1972, in the form of Silberschatz et
// al., "Page-fault frequency") needs local scope. Processes start with the
// fixed allocation. At each fault, before it is served, the process's
// fault rate is its faults in its last PFFWindow accesses (default 2,000),
// this one included, divided by PFFWindow (by its accesses so far, this
// one included, while it has done fewer):
//
//   - above PFFUpper (default 0.01: more than 20 faults in the window),
//     with its frames full, the process gets one more frame, a free one;
//     if none is free and other processes are in memory, it is suspended.
//     It resumes, in order as above, once one frame more than it had is
//     free, with that allocation.
//   - below PFFLower (default 0.001: this is the only fault in the
//     window), with more than one frame, its allocation shrinks by one
//     (its policy chooses the page to evict if all its frames are used).
//
// The defaults suit the built-in workload ([Workload]), whose processes
// fault once every 1,000 accesses while their loops fit: two faults in the
// window are a process running in its working set, more than twenty one
// that needs more frames.
//
// # What a run reports
//
// For each process and in total ([Result]): accesses, faults, protection
// faults, evictions of its pages (and how many for another process, and
// how many of others' it took), write-backs, pages released at
// suspensions, suspensions, and its time running, waiting for the paging
// device, waiting for the processor and suspended; for the system the
// elapsed simulated time, the processor's utilisation (time running over
// elapsed time), the throughput and the paging device's utilisation; and a
// [Timeline] of accesses and faults over time. [Event]s follow the run step
// by step.
package multi
