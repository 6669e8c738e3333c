package check

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkGrade measures the time to grade one submission, the reference
// program of each exercise, built beforehand (compiling is not counted),
// beside the same program run plainly once (cp: the 4 MiB case), in the
// same iteration.
func BenchmarkGrade(b *testing.B) {
	for _, ex := range Exercises() {
		b.Run("exercise="+ex.Name, func(b *testing.B) {
			exe := build(b, reference(b, ex.Name))
			var plain, graded time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				plainRun(b, exe, ex.Name)
				plain += time.Since(start)
				start = time.Now()
				rep, err := Grade(context.Background(), ex, exe, nil)
				graded += time.Since(start)
				require.NoError(b, err)
				require.True(b, rep.Passed())
			}
			b.ReportMetric(float64(graded)/float64(b.N)/1e6, "ms/submission")
			b.ReportMetric(float64(plain)/float64(b.N)/1e6, "plain-ms/run")
		})
	}
}

// plainRun runs a reference program once without the tracer, in a
// directory of its own (cp on a copy of the largest case).
func plainRun(b *testing.B, exe, exercise string) {
	b.Helper()
	dir := b.TempDir()
	var args []string
	if exercise == "cp" {
		c := &cpCases[bigCase]
		require.NoError(b, c.setup(4096)(dir))
		args = c.args
	}
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(b, err, "%s", out)
}
