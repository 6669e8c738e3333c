package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// requireSlurm skips t (see vmtest.Missing) unless the Slurm commands are
// installed and a cluster answers with a node that takes jobs.
func requireSlurm(t *testing.T) {
	t.Helper()
	vmtest.RequireTool(t, "sbatch", "slurm-wlm")
	out, err := exec.Command("scontrol", "ping").CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("is UP")) {
		first, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
		vmtest.Missing(t, fmt.Sprintf("a running Slurm cluster (scontrol ping: %s; start one on this machine, as root, with .ci/slurm-up)", first))
	}
	out, err = exec.Command("sinfo", "-h", "-o", "%T").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "idle") && !strings.Contains(string(out), "mixed") {
		vmtest.Missing(t, fmt.Sprintf("a Slurm node that takes jobs (sinfo: %s)", strings.TrimSpace(string(out))))
	}
}

// TestSlurmJobArray submits the shipped job array script,
// docs/cluster/sweep.sbatch, to the Slurm cluster of this machine (CI
// starts one with .ci/slurm-up) over the traces of a small sweep, waits
// for every task, and checks what the tasks wrote: one log and one results
// file per task, each task its own shard, and merged, byte for byte the
// records of the whole sweep run here. The tasks run as whoever runs the
// test (root in CI), in a directory under TMPDIR: on a cluster of more
// than one node, TMPDIR must be a directory every node shares.
func TestSlurmJobArray(t *testing.T) {
	requireSlurm(t)
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	script, err := filepath.Abs("../../docs/cluster/sweep.sbatch")
	require.NoError(t, err)
	const n = 3

	// A liveness bound, not a measure: a node that never runs the tasks
	// fails the test instead of hanging it.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sbatch := exec.CommandContext(ctx, "sbatch", "--wait", "--parsable",
		fmt.Sprintf("--array=0-%d", n-1), "--cpus-per-task=1", "--mem=500M", "--time=5",
		"--job-name=vmsim-test-sweep", "--chdir="+dir, script)
	sbatch.Env = scriptEnv(manifest, filepath.Join(dir, "results"))
	var stdout, stderr bytes.Buffer
	sbatch.Stdout, sbatch.Stderr = &stdout, &stderr
	require.NoError(t, sbatch.Start())
	t.Cleanup(func() {
		if id := strings.TrimSpace(stdout.String()); id != "" {
			exec.Command("scancel", id).Run() // a job still there after a failure
		}
	})
	err = sbatch.Wait()
	logs, _ := filepath.Glob(filepath.Join(dir, "vmsim-test-sweep-*.log"))
	var logText strings.Builder
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		fmt.Fprintf(&logText, "--- %s\n%s", filepath.Base(l), b)
	}
	require.NoError(t, err, "sbatch --wait: %s%s\n%s", stdout.String(), stderr.String(), logText.String())
	id := strings.TrimSpace(stdout.String())
	require.NotEmpty(t, id, "sbatch --parsable prints the job's id")

	for i := range n {
		b, err := os.ReadFile(filepath.Join(dir, fmt.Sprintf("vmsim-test-sweep-%s_%d.log", id, i)))
		require.NoError(t, err, "task %d's log\n%s", i, logText.String())
		assert.Contains(t, string(b), fmt.Sprintf("vmsim: sweep: shard %d/%d: ", i, n), "task %d ran shard %d", i, i)
		assert.FileExists(t, filepath.Join(dir, "results", fmt.Sprintf("shard-%d.jsonl", i)))
	}
	assert.Len(t, logs, n)
	checkMergedArray(t, dir, manifest, jobs, n)
}
