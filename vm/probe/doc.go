// Package probe counts the kernel's own page faults on this process: the
// ground truth that user-space fault counts are compared with.
//
// # The probe
//
// [Open] loads an eBPF program, built at run time with cilium/ebpf's asm
// package (no C compiler, no object file: a plain go build is enough), and
// attaches it to the x86 tracepoint exceptions:page_fault_user, which the
// kernel fires on entry to its handler for every user-mode page fault. The
// tracepoint's record layout (address at 8, ip at 16, error_code at 24) is
// read from tracefs' format file and checked before loading; tracefs is
// mounted if it is not and the process may. Without tracefs the program
// goes on the raw tracepoint page_fault_user instead, whose arguments are
// the tracepoint's TP_PROTO (address, regs, error_code). [Options.Attach]
// forces either.
//
// The program drops, in the kernel, the faults of other processes (by
// tgid) and those outside the watched ranges ([Options.Ranges], at most
// [MaxRanges], changeable with [Probe.SetRanges]); the Go runtime's own
// threads fault too, so watch only the regions being studied. It counts the
// rest per range and per [ErrorCode] in a per-CPU array, optionally per page
// in a hash map ([Options.PerPage]), and optionally streams each fault,
// in order, through a ring buffer ([Options.Events], [Probe.ReadEvents]).
// [Probe.Counts] sums them: not-present versus protection faults (error-code
// bit 1), reads versus writes (bit 2), per range label and per page.
//
// # Errors: nil, ErrPermission, ErrNotSupported
//
// Open needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN (root has them).
// Without them it fails before asking the kernel, with an [*Error] that
// matches [ErrPermission] and says which capability is missing and how to
// run it; it never blames RLIMIT_MEMLOCK for missing privilege. A kernel
// without eBPF, the tracepoint (non-x86) or, with Events, the ring buffer
// (Linux 5.8) gives an error matching [ErrNotSupported] that names what is
// missing. Other errors are failures. Every error is one line. On systems
// other than Linux every constructor returns [ErrNotSupported].
//
// Importing the package has no side effect: nothing runs at init (in
// particular not cilium's rlimit package, which probes the kernel at
// start-up in every binary that imports it). RLIMIT_MEMLOCK is raised
// lazily by Open, and only on kernels older than 5.11, which charge BPF
// memory to it.
//
// # The fallback: Counters
//
// [Counters] needs no privilege: perf's software counters PAGE_FAULTS,
// PAGE_FAULTS_MIN and PAGE_FAULTS_MAJ for the calling thread (user-mode
// faults, allowed at the default kernel.perf_event_paranoid of 2), and
// getrusage's minflt and majflt for the thread and the process. The perf
// counters count an OS thread, not a goroutine: runtime.LockOSThread the
// goroutine that makes the accesses before [OpenCounters], and read from it.
//
// # How the counts relate
//
// The kernel counts a fault each time the CPU traps, user space only when
// a fault becomes a signal. So one fault caught in user space costs one or
// two kernel faults, and resolved faults cost kernel faults that user space
// never sees. perf's PAGE_FAULTS equals the probe's count for the same
// thread and addresses; PAGE_FAULTS_MIN and getrusage's minflt miss the
// faults that became signals ([Sample.Signals]). docs/kernel.md gives the
// measured relations for each way vmsim resolves a fault.
//
// # Concurrency
//
// The methods of [Probe] and [Counters] are safe for concurrent use; counts
// read while faults happen are a snapshot that may or may not include them.
package probe
