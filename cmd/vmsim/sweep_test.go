package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"vmsim/pager/sweep"
	"vmsim/vm/vmtest"
)

// sweepFlagsForTest are the flags of the sweeps of these tests, given to
// sweep and merge alike.
var sweepFlagsForTest = []string{"-p", "fifo,lru,opt,clock,arc", "-f", "3,8,20"}

// sweepTraces generates the traces of a small sweep in dir/traces, with a
// manifest dir/traces/traces.list, and returns the manifest's path and the
// number of jobs: five traces of different kinds and sizes, one of them a
// copy of another (the same bytes: the same jobs).
func sweepTraces(t *testing.T, dir string) (string, int) {
	t.Helper()
	td := filepath.Join(dir, "traces")
	require.NoError(t, os.MkdirAll(td, 0o755))
	for _, g := range [][]string{
		{"loop.pages", "loop", "--pages", "30", "--n", "3000", "--writes", "0.2"},
		{"zipf.pages", "zipf", "--pages", "200", "--n", "20000", "--writes", "0.3", "--seed", "2"},
		{"uniform.rw", "uniform", "--pages", "64", "--n", "5000", "--to", "rw", "--writes", "0.5"},
		{"phases.vmt", "phases", "--pages", "400", "--ws", "40", "--n", "40000", "--to", "vmt"},
		{"belady.pages", "belady"},
	} {
		_, errOut, code := vmsim(t, append([]string{"gen", g[1], "-o", filepath.Join(td, g[0])}, g[2:]...)...)
		require.Equal(t, 0, code, errOut)
	}
	b, err := os.ReadFile(filepath.Join(td, "loop.pages"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(td, "loop-copy.pages"), b, 0o644))
	manifest := filepath.Join(td, "traces.list")
	require.NoError(t, os.WriteFile(manifest, []byte("# the traces of the test sweep\n*.pages\nuniform.rw\nphases.vmt\n"), 0o644))
	return manifest, 5 * 5 * 3 // five distinct traces, five policies, three frame counts
}

// sweepArgs is a command line of sweep or merge over the test's sweep.
func sweepArgs(cmd, manifest string, more ...string) []string {
	return append(append([]string{cmd, "-m", manifest}, sweepFlagsForTest...), more...)
}

// records parses JSON Lines of records, failing on any bad line.
func records(t *testing.T, data string) []sweep.Record {
	t.Helper()
	f, err := sweep.Read(strings.NewReader(data), "output")
	require.NoError(t, err)
	require.Empty(t, f.Damaged)
	require.Zero(t, f.Torn)
	return f.Records
}

// TestSweepShardsMergeToTheWholeSweep: however many shards a sweep is cut
// into, merging their files gives, byte for byte, the records of the
// sweep run whole; each job once, the copy of a trace adding none.
func TestSweepShardsMergeToTheWholeSweep(t *testing.T) {
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	whole, errOut, code := vmsim(t, sweepArgs("sweep", manifest)...)
	require.Equal(t, 0, code, errOut)
	recs := records(t, whole)
	require.Len(t, recs, jobs)
	assert.Contains(t, errOut, fmt.Sprintf("shard 0/1: %d jobs: %d run, 15 the same as another trace's (same bytes)", jobs+15, jobs))
	ids := map[string]bool{}
	for _, r := range recs {
		ids[r.Job] = true
		assert.NotEqual(t, "loop.pages", r.Trace, "its jobs are those of loop-copy.pages, the first name for its bytes")
	}
	assert.Len(t, ids, jobs, "every id once")

	for _, n := range []int{1, 2, 3, 7, 40} {
		t.Run(fmt.Sprintf("%d shards", n), func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("n%d", n))
			var files []string
			for i := range n {
				file := filepath.Join(out, fmt.Sprintf("shard-%d.jsonl", i))
				_, errOut, code := vmsim(t, sweepArgs("sweep", manifest, "--shard", fmt.Sprintf("%d/%d", i, n), "--resume", file)...)
				require.Equal(t, 0, code, errOut)
				files = append(files, file)
			}
			merged := filepath.Join(out, "all.jsonl")
			require.Len(t, files, n)
			// merge expands the pattern itself.
			_, errOut, code := vmsim(t, sweepArgs("merge", manifest, "-o", merged, filepath.Join(out, "shard-*.jsonl"))...)
			require.Equal(t, 0, code, errOut)
			assert.Contains(t, errOut, "vmsim: merge: loop.pages has the same bytes as loop-copy.pages: its jobs are loop-copy.pages's")
			got, err := os.ReadFile(merged)
			require.NoError(t, err)
			assert.Equal(t, whole, string(got))
		})
	}
}

// TestSweepResumesAfterAKill: a results file cut in the middle of a line
// (as SIGKILL in the middle of a write leaves it) is resumed: the
// incomplete line is cut off, the jobs it holds whole are not run again,
// and the file ends with every job once.
func TestSweepResumesAfterAKill(t *testing.T) {
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	whole, _, code := vmsim(t, sweepArgs("sweep", manifest)...)
	require.Equal(t, 0, code)
	lines := strings.SplitAfter(whole, "\n")
	file := filepath.Join(dir, "r.jsonl")
	kept := strings.Join(lines[:20], "")
	require.NoError(t, os.WriteFile(file, []byte(kept+lines[20][:33]), 0o644))

	_, errOut, code := vmsim(t, sweepArgs("sweep", manifest, "--resume", file)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, "vmsim: sweep: "+file+":21: an incomplete last line (the run that wrote it was stopped in the middle): cut off, its job runs again")
	// The 20 lines are belady.pages's 15 jobs and 5 of loop-copy.pages's,
	// which are loop.pages's too.
	assert.Contains(t, errOut, fmt.Sprintf("%d jobs: %d run, 25 already in %s, 10 the same as another trace's", jobs+15, jobs-20, file))
	got, err := os.ReadFile(file)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(got), kept), "the whole lines stay as they were")
	assert.ElementsMatch(t, records(t, whole), records(t, string(got)))

	_, errOut, code = vmsim(t, sweepArgs("sweep", manifest, "--resume", file)...)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, errOut, fmt.Sprintf("%d jobs: 0 run, %d already in", jobs+15, jobs+15))
	again, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, string(got), string(again), "a finished shard run again adds nothing")

	t.Run("a damaged line stops the run, the file as it was", func(t *testing.T) {
		damaged := strings.Replace(string(got), `"faults":`, `"faults":1`, 1)
		require.NoError(t, os.WriteFile(file, []byte(damaged), 0o644))
		_, errOut, code := vmsim(t, sweepArgs("sweep", manifest, "--resume", file)...)
		assert.Equal(t, 1, code)
		assert.Contains(t, errOut, "vmsim: "+file+":1: not a valid sweep record: hits")
		after, err := os.ReadFile(file)
		require.NoError(t, err)
		assert.Equal(t, damaged, string(after))
	})
}

// TestSweepPlan: --plan prints every shard's passes, which together hold
// every trace's jobs once, and runs nothing.
func TestSweepPlan(t *testing.T) {
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	out, errOut, code := vmsim(t, sweepArgs("sweep", manifest, "--shard", "1/3", "--plan")...)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, []string{"SHARD", "TRACE", "PART", "JOBS", "BYTES"}, strings.Fields(lines[0]))
	shards := map[string]bool{}
	total := 0
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		require.Len(t, f, 5, l)
		shards[f[0]] = true
		n, err := strconv.Atoi(f[3])
		require.NoError(t, err)
		total += n
	}
	assert.Equal(t, map[string]bool{"0": true, "1": true, "2": true}, shards)
	assert.Equal(t, jobs+15, total, "every trace's jobs, the copy's included")
	assert.Empty(t, errOut, "--plan runs nothing")
}

func TestSweepAndMergeUsage(t *testing.T) {
	dir := t.TempDir()
	manifest, _ := sweepTraces(t, dir)
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no traces", []string{"sweep", "-p", "lru"}, 2, "no traces: give TRACE arguments"},
		{"standard input", []string{"sweep", "-"}, 2, "a sweep reads files, not standard input"},
		{"a shard past the last", sweepArgs("sweep", manifest, "--shard", "4/4"), 2, `--shard: bad shard "4/4": I counts from 0`},
		{"a shard that is no shard", sweepArgs("sweep", manifest, "--shard", "two"), 2, `want I/N, like 0/4`},
		{"--plan and --resume", sweepArgs("sweep", manifest, "--plan", "--resume", "r.jsonl"), 2, "--plan and --resume: --plan runs nothing"},
		{"an unknown policy", []string{"sweep", "-m", manifest, "-p", "belady"}, 2, `--policy: "belady"`},
		{"a pattern that matches nothing", []string{"sweep", filepath.Join(dir, "*.vmt")}, 1, "no file matches"},
		{"a manifest line that matches nothing", []string{"sweep", "-m", filepath.Join(dir, "bad.list")}, 1, filepath.Join(dir, "bad.list") + ":2: no file matches"},
		{"merge of which sweep", []string{"merge", "-p", "lru", "r.jsonl"}, 2, "which sweep? give its traces with --manifest FILE or --trace PATH"},
		{"merge of nothing", []string{"merge", "-m", manifest}, 2, "needs at least 1 RESULTS file"},
		{"merge of a pattern that matches nothing", []string{"merge", "-m", manifest, filepath.Join(dir, "*.jsonl")}, 1, "merge: no file matches"},
		{"merge reads standard input once", []string{"merge", "-m", manifest, "-", "-"}, 2, "standard input (-) can be read only once"},
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.list"), []byte("traces/loop.pages\nnone*\n"), 0o644))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.err)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
		})
	}
}

// TestMergeReportsEachProblem: merge names each class of problem on a line
// of its own, exits 1 and writes nothing, not even a temporary file.
func TestMergeReportsEachProblem(t *testing.T) {
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	var files []string
	for i := range 3 {
		file := filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i))
		_, errOut, code := vmsim(t, sweepArgs("sweep", manifest, "--shard", fmt.Sprintf("%d/3", i), "--resume", file)...)
		require.Equal(t, 0, code, errOut)
		files = append(files, file)
	}
	shard0, err := os.ReadFile(files[0])
	require.NoError(t, err)
	n0 := strings.Count(string(shard0), "\n")
	first := records(t, strings.SplitAfter(string(shard0), "\n")[0])[0]

	// The same job with other counts, consistent in themselves.
	other := first
	other.Hits++
	other.Faults--
	other.MissRatio = other.Stats.MissRatio()
	conflict := filepath.Join(dir, "conflict.jsonl")
	require.NoError(t, os.WriteFile(conflict, other.AppendLine(nil), 0o644))
	damaged := filepath.Join(dir, "damaged.jsonl")
	require.NoError(t, os.WriteFile(damaged, []byte("{\"job\":\"x\"}\n"+string(first.AppendLine(nil))+"{\"job\":"), 0o644))

	out := filepath.Join(dir, "all.jsonl")
	tests := []struct {
		name  string
		args  []string
		lines []string
	}{
		{"a shard missing", append([]string{"-o", out}, files[1:]...), []string{
			fmt.Sprintf("vmsim: merge: missing %d of %d jobs: job ", n0, jobs),
			fmt.Sprintf("vmsim: merge: %d missing: nothing written", n0),
		}},
		{"records that disagree", append([]string{"-o", out, conflict}, files...), []string{
			"vmsim: merge: 1 job with records that disagree: job " + first.Job + " (" + first.Trace + ", " + first.Policy + fmt.Sprintf(", %d frames): %s:1 says %d faults, %s:1 says %d faults", first.Frames, conflict, other.Faults, files[0], first.Faults),
			"vmsim: merge: 1 in conflict: nothing written",
		}},
		{"damaged lines, and a torn one", append([]string{"-o", out, damaged}, files...), []string{
			"vmsim: merge: " + damaged + ":3: an incomplete last line (the run that wrote it was stopped in the middle): ignored",
			"vmsim: merge: 1 record dropped as copies of others (the same job with the same counts)",
			"vmsim: merge: 1 damaged line: " + damaged + ":1: not a valid sweep record: no field",
			"vmsim: merge: 1 damaged line: nothing written",
		}},
		{"records of other flags", append([]string{"-o", out, "-f", "3,8"}, files...), []string{
			fmt.Sprintf("vmsim: merge: %d records of jobs outside this sweep (another sweep's, or other flags than merge's): ", jobs/3),
			fmt.Sprintf("vmsim: merge: %d unknown: nothing written", jobs/3),
		}},
	}
	same := "vmsim: merge: loop.pages has the same bytes as loop-copy.pages: its jobs are loop-copy.pages's"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.lines = append([]string{same}, tt.lines...)
			stdout, errOut, code := vmsim(t, sweepArgs("merge", manifest, tt.args...)...)
			assert.Equal(t, 1, code, errOut)
			assert.Empty(t, stdout)
			got := strings.Split(strings.TrimSuffix(errOut, "\n"), "\n")
			require.Len(t, got, len(tt.lines), errOut)
			for i, want := range tt.lines {
				assert.True(t, strings.HasPrefix(got[i], want), "line %d:\n got %s\nwant %s...", i, got[i], want)
			}
			assert.NoFileExists(t, out)
			assert.Empty(t, hidden(t, dir), "no temporary file left")
		})
	}
}

// TestSweepSIGTERMLeavesWholeLines: SIGTERM (what Slurm sends at a time
// limit) in the middle of a long trace stops the sweep with 143; the
// records of the traces finished are in the file, whole; run again, the
// sweep skips them and does the rest.
func TestSweepSIGTERMLeavesWholeLines(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{"a.pages": "1 2 3 4 1 2 5 1 2 3 4 5\n", "b.pages": "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1\n"} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
	// z: a billion accesses in a few hundred KiB, one zstd frame of a
	// million repeated a thousand times (the frames of a stream follow one
	// another): minutes of replay, far more than the test waits.
	var frame bytes.Buffer
	enc, err := zstd.NewWriter(&frame, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
	require.NoError(t, err)
	line := []byte(strings.Repeat("1 2 3 4 5 6 7 8 9 10 ", 10) + "\n")
	for range 1_000_000 / 100 {
		_, err := enc.Write(line)
		require.NoError(t, err)
	}
	require.NoError(t, enc.Close())
	z := filepath.Join(dir, "z.pages.zst")
	require.NoError(t, os.WriteFile(z, bytes.Repeat(frame.Bytes(), 1000), 0o644))

	file := filepath.Join(dir, "r.jsonl")
	args := []string{"sweep", "-p", "lru", "-f", "4", "--resume", file, "a.pages", "b.pages", "z.pages.zst"}
	s := start(t, dir, nil, args...)
	waitFor(t, "the records of a and b", func() bool {
		b, _ := os.ReadFile(file)
		return bytes.Count(b, []byte("\n")) == 2
	})
	waitFor(t, "the replay of z", func() bool { return hasOpen(s.cmd.Process.Pid, z) })
	code := s.stopWith(t, syscall.SIGTERM)
	assert.Equal(t, 143, code, s.stderr.String())
	assert.Equal(t, "vmsim: sweep: shard 0/1: 3 jobs: 2 run, 1 left\nvmsim: interrupted by SIGTERM\n", s.stderr.String())
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	recs := records(t, string(b))
	require.Len(t, recs, 2)
	assert.Equal(t, []string{"a.pages", "b.pages"}, []string{recs[0].Trace, recs[1].Trace})

	// z, replaced by a short trace, is a new job; a and b are done.
	require.NoError(t, os.WriteFile(z, frame.Bytes(), 0o644))
	cmd := vmsimCommand(args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "vmsim: sweep: shard 0/1: 3 jobs: 1 run, 2 already in "+file+"\n", string(out))
	after, err := os.ReadFile(file)
	require.NoError(t, err)
	require.True(t, bytes.HasPrefix(after, b))
	final := records(t, string(after))
	require.Len(t, final, 3)
	assert.Equal(t, uint64(1_000_000), final[2].Accesses)
}

// TestSweepScriptRunsAnArray: the shipped Slurm script, run by bash as
// Slurm would run each task of an array (its SLURM_ variables set), gives
// shards that merge to the whole sweep; a task run again adds nothing.
// TestSlurmJobArray runs the same script under a real Slurm.
func TestSweepScriptRunsAnArray(t *testing.T) {
	bash := vmtest.RequireTool(t, "bash", "bash")
	dir := t.TempDir()
	manifest, jobs := sweepTraces(t, dir)
	script, err := filepath.Abs("../../docs/cluster/sweep.sbatch")
	require.NoError(t, err)
	const n = 3
	env := scriptEnv(manifest, filepath.Join(dir, "results"))
	for i := range n {
		cmd := exec.Command(bash, script)
		cmd.Dir = dir
		cmd.Env = append(env, fmt.Sprintf("SLURM_ARRAY_TASK_ID=%d", i), fmt.Sprintf("SLURM_ARRAY_TASK_COUNT=%d", n), "SLURM_MEM_PER_NODE=1024")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "task %d: %s", i, out)
		assert.Contains(t, string(out), fmt.Sprintf("vmsim: sweep: shard %d/%d: ", i, n))
	}
	shard1 := filepath.Join(dir, "results", "shard-1.jsonl")
	before, err := os.ReadFile(shard1)
	require.NoError(t, err)
	cmd := exec.Command(bash, script)
	cmd.Dir = dir
	cmd.Env = append(env, "SLURM_ARRAY_TASK_ID=1", "SLURM_ARRAY_TASK_COUNT=1", fmt.Sprintf("SHARDS=%d", n))
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), fmt.Sprintf("shard 1/%d: ", n), "SHARDS, not the array's size, says how many shards")
	after, err := os.ReadFile(shard1)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after))

	checkMergedArray(t, dir, manifest, jobs, n)
}

// scriptEnv is the environment of the Slurm script in these tests: the
// sweep's settings, and this test binary as vmsim.
func scriptEnv(manifest, out string) []string {
	return append(os.Environ(),
		"MANIFEST="+manifest, "OUT="+out, "VMSIM="+os.Args[0], asVmsim+"=1",
		"POLICIES="+sweepFlagsForTest[1], "FRAMES="+sweepFlagsForTest[3])
}

// checkMergedArray merges the n shards in dir/results and checks that the
// result is the whole sweep run on this machine.
func checkMergedArray(t *testing.T, dir, manifest string, jobs, n int) {
	t.Helper()
	var files []string
	for i := range n {
		files = append(files, filepath.Join(dir, "results", fmt.Sprintf("shard-%d.jsonl", i)))
	}
	merged, errOut, code := vmsim(t, sweepArgs("merge", manifest, files...)...)
	require.Equal(t, 0, code, errOut)
	whole, errOut, code := vmsim(t, sweepArgs("sweep", manifest)...)
	require.Equal(t, 0, code, errOut)
	assert.Len(t, records(t, merged), jobs)
	assert.Equal(t, whole, merged, "the array's merged records are the whole sweep's")
}

// TestKubernetesJobManifest: the shipped Indexed Job is a batch/v1 Job in
// Indexed mode whose SHARDS is its completions, and whose command, with
// Kubernetes's $(NAME) expanded for each completion index, is a command
// line that vmsim sweep accepts, each index its own shard and file.
func TestKubernetesJobManifest(t *testing.T) {
	b, err := os.ReadFile("../../docs/cluster/sweep-job.yaml")
	require.NoError(t, err)
	var job struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
		Spec       struct {
			CompletionMode string `yaml:"completionMode"`
			Completions    int    `yaml:"completions"`
			Parallelism    int    `yaml:"parallelism"`
			Template       struct {
				Spec struct {
					RestartPolicy string `yaml:"restartPolicy"`
					Containers    []struct {
						Image   string   `yaml:"image"`
						Command []string `yaml:"command"`
						Env     []struct {
							Name  string `yaml:"name"`
							Value string `yaml:"value"`
						} `yaml:"env"`
						VolumeMounts []struct {
							MountPath string `yaml:"mountPath"`
						} `yaml:"volumeMounts"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
		} `yaml:"spec"`
	}
	require.NoError(t, yaml.Unmarshal(b, &job))
	assert.Equal(t, "batch/v1", job.APIVersion)
	assert.Equal(t, "Job", job.Kind)
	assert.Equal(t, "Indexed", job.Spec.CompletionMode)
	require.Greater(t, job.Spec.Completions, 0)
	assert.LessOrEqual(t, job.Spec.Parallelism, job.Spec.Completions)
	assert.Contains(t, []string{"OnFailure", "Never"}, job.Spec.Template.Spec.RestartPolicy)
	require.Len(t, job.Spec.Template.Spec.Containers, 1)
	c := job.Spec.Template.Spec.Containers[0]
	assert.NotEmpty(t, c.Image)
	require.NotEmpty(t, c.VolumeMounts)
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	assert.Equal(t, fmt.Sprint(job.Spec.Completions), env["SHARDS"], "SHARDS is the number of completions")
	require.GreaterOrEqual(t, len(c.Command), 2)
	assert.Equal(t, []string{"vmsim", "sweep"}, c.Command[:2])

	resumes := map[string]bool{}
	for i := range job.Spec.Completions {
		env["JOB_COMPLETION_INDEX"] = fmt.Sprint(i)
		args := make([]string, len(c.Command)-2)
		for k, a := range c.Command[2:] {
			args[k] = kubeExpand(a, env)
		}
		var f sweepFlags
		cmd := sweepCommand(&f)
		require.NoError(t, cmd.ParseFlags(args), "%q", args)
		shard, _, err := checkSweep(cmd, f)
		require.NoError(t, err, "%q", args)
		assert.Equal(t, sweep.Shard{Index: i, Count: job.Spec.Completions}, shard)
		assert.Empty(t, cmd.Flags().Args(), "no TRACE arguments: the manifest lists them")
		assert.NotEmpty(t, f.manifest)
		assert.True(t, strings.HasPrefix(f.manifest, c.VolumeMounts[0].MountPath+"/"), "the manifest is on the shared volume")
		assert.True(t, strings.HasPrefix(f.resume, c.VolumeMounts[0].MountPath+"/"), "the results are on the shared volume")
		resumes[f.resume] = true
	}
	assert.Len(t, resumes, job.Spec.Completions, "each index appends to a file of its own")
}

// kubeExpand expands $(NAME) as Kubernetes does in a container's command:
// from env, leaving an unknown $(NAME) as it is, and $$ as $.
func kubeExpand(s string, env map[string]string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '$' {
			b.WriteByte('$')
			i++
			continue
		}
		if s[i] == '$' && i+1 < len(s) && s[i+1] == '(' {
			if end := strings.IndexByte(s[i:], ')'); end > 0 {
				name := s[i+2 : i+end]
				if v, ok := env[name]; ok {
					b.WriteString(v)
					i += end
					continue
				}
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
