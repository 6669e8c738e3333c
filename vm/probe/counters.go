package probe

// Sample is one reading of the kernel's software fault counters. Deltas
// between two samples ([Sample.Sub]) are what callers compare.
type Sample struct {
	// Perf reports whether Faults, Minor and Major were read from perf
	// counters; false when perf events were not available
	// ([Counters.PerfErr] says why).
	Perf bool
	// Faults is perf's PERF_COUNT_SW_PAGE_FAULTS for the thread: every
	// user-mode page fault, counted on entry to the fault handler, like the
	// probe (including faults that became signals).
	Faults uint64
	// Minor and Major are PERF_COUNT_SW_PAGE_FAULTS_MIN and _MAJ: faults
	// the kernel resolved, without and with I/O. A fault that became a
	// signal (a fault caught in user space) is in neither.
	Minor, Major uint64
	// ThreadMinor and ThreadMajor are getrusage(RUSAGE_THREAD)'s minflt and
	// majflt: resolved faults of the thread, user and kernel mode alike.
	ThreadMinor, ThreadMajor uint64
	// ProcessMinor and ProcessMajor are getrusage(RUSAGE_SELF)'s: the
	// whole process, every thread.
	ProcessMinor, ProcessMajor uint64
}

// Sub returns s - before, field by field. Perf is s.Perf && before.Perf.
func (s Sample) Sub(before Sample) Sample {
	return Sample{
		Perf:         s.Perf && before.Perf,
		Faults:       s.Faults - before.Faults,
		Minor:        s.Minor - before.Minor,
		Major:        s.Major - before.Major,
		ThreadMinor:  s.ThreadMinor - before.ThreadMinor,
		ThreadMajor:  s.ThreadMajor - before.ThreadMajor,
		ProcessMinor: s.ProcessMinor - before.ProcessMinor,
		ProcessMajor: s.ProcessMajor - before.ProcessMajor,
	}
}

// Signals returns the faults that were neither minor nor major: for a
// thread, the faults that became signals (SIGSEGV, SIGBUS) plus those the
// kernel retried. Zero when the perf counters are missing.
func (s Sample) Signals() uint64 {
	if !s.Perf || s.Faults < s.Minor+s.Major {
		return 0
	}
	return s.Faults - s.Minor - s.Major
}
