//go:build linux

package observe

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The benchmarks compare the same program run plainly and traced, side by
// side in each iteration, and subtract a run that does no work (N = 0), so
// that the program's start and exit cancel out:
//
//	overhead per unit = ((traced(N) - traced(0)) - (plain(N) - plain(0))) / N

// plainRun runs exe untraced and returns how long it took.
func plainRun(b *testing.B, exe string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	out, err := exec.Command(exe, args...).CombinedOutput()
	require.NoError(b, err, "%s", out)
	return time.Since(start)
}

// tracedRun runs exe under Run and returns how long it took.
func tracedRun(b *testing.B, exe string, args ...string) time.Duration {
	b.Helper()
	start := time.Now()
	tr, err := Run(context.Background(), exe, &Options{Args: args})
	d := time.Since(start)
	require.NoError(b, err)
	require.True(b, tr.Exit.OK(), "%v %v", tr.Exit, tr.Stopped)
	return d
}

// benchOverhead measures mode with n units per run and reports, per unit,
// the plain and traced costs and the tracer's overhead.
func benchOverhead(b *testing.B, mode string, n int, unit string) {
	exe := build(b, "bench")
	count := strconv.Itoa(n)
	var plain0, plainN, traced0, tracedN time.Duration
	b.ReportAllocs()
	for b.Loop() {
		plain0 += plainRun(b, exe, mode, "0")
		plainN += plainRun(b, exe, mode, count)
		traced0 += tracedRun(b, exe, mode, "0")
		tracedN += tracedRun(b, exe, mode, count)
	}
	per := func(d time.Duration) float64 { return float64(d) / float64(b.N) / float64(n) }
	b.ReportMetric(per(plainN-plain0), "plain-ns/"+unit)
	b.ReportMetric(per(tracedN-traced0), "traced-ns/"+unit)
	b.ReportMetric(per((tracedN-traced0)-(plainN-plain0)), "overhead-ns/"+unit)
	b.ReportMetric(float64(traced0)/float64(b.N)/1e6, "traced-start-ms/run")
	b.ReportMetric(float64(plain0)/float64(b.N)/1e6, "plain-start-ms/run")
}

// BenchmarkSyscall: the tracer's cost per system call (getppid: two
// stops, registers read at each).
func BenchmarkSyscall(b *testing.B) {
	n := 20000
	if testing.Short() {
		n = 200
	}
	benchOverhead(b, "getppid", n, "syscall")
}

// BenchmarkFault: the tracer's cost per caught fault and its round trip:
// one SIGSEGV stepped into its handler (the stop at the handler's first
// instruction, the frame's error code and the signal mask read) and three
// system calls (mprotect in the handler, rt_sigreturn, mprotect in main).
func BenchmarkFault(b *testing.B) {
	n := 5000
	if testing.Short() {
		n = 50
	}
	benchOverhead(b, "faults", n, "fault")
}
