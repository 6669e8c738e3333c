package sweep

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"

	"vmsim/pager"
)

// aJob is a job with every field set apart from the defaults.
func aJob() Job {
	return Job{
		Trace:    "traces/a.pages",
		SHA256:   "8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4",
		Decoding: Decoding{Format: "pages", PageSize: 8192, NoInstr: true, Limit: 1000},
		Config:   pager.Config{Policy: "wsclock", Frames: 16, Options: pager.Options{Seed: 3, Tick: 5, Tau: 40}},
	}
}

// TestIDIsTheDocumentedHash: the id is the first 8 bytes of the SHA-256 of
// the text docs/cluster.md shows, so that anyone can recompute it; the
// literal pins it across versions (a change here changes every id).
func TestIDIsTheDocumentedHash(t *testing.T) {
	text := "vmsim sweep job 1\n" +
		"sha256=8f434346648f6b96df89dda901c5176b10a6d83961dd3c1ac88b59b2dc327aa4\n" +
		"format=pages\npage_size=8192\nno_instr=true\nlimit=1000\n" +
		"policy=wsclock\nframes=16\nseed=3\ntick=5\ntau=40\n"
	sum := sha256.Sum256([]byte(text))
	assert.Equal(t, hex.EncodeToString(sum[:8]), aJob().ID())
	assert.Equal(t, "8cc4cf109185566b", aJob().ID())
}

// TestIDCoversWhatChangesAResult: every field of the job but the trace's
// name changes the id; the name does not, and neither does spelling out a
// default.
func TestIDCoversWhatChangesAResult(t *testing.T) {
	base := aJob().ID()
	for _, tt := range []struct {
		name   string
		change func(*Job)
	}{
		{"the trace's bytes", func(j *Job) { j.SHA256 = "0" + j.SHA256[1:] }},
		{"the format", func(j *Job) { j.Format = "rw" }},
		{"the page size", func(j *Job) { j.PageSize = 4096 }},
		{"dropping instruction fetches", func(j *Job) { j.NoInstr = false }},
		{"the limit", func(j *Job) { j.Limit = 999 }},
		{"the policy", func(j *Job) { j.Policy = "clock" }},
		{"the frames", func(j *Job) { j.Frames = 17 }},
		{"the seed", func(j *Job) { j.Seed = 4 }},
		{"the tick", func(j *Job) { j.Tick = 6 }},
		{"tau", func(j *Job) { j.Tau = 41 }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			j := aJob()
			tt.change(&j)
			assert.NotEqual(t, base, j.ID())
		})
	}
	t.Run("not the trace's name", func(t *testing.T) {
		j := aJob()
		j.Trace = "elsewhere/renamed.pages"
		assert.Equal(t, base, j.ID())
	})
	t.Run("not a default left out", func(t *testing.T) {
		a, b := aJob(), aJob()
		a.Format, a.PageSize = "", 0
		b.Format, b.PageSize = "auto", 4096
		assert.Equal(t, a.ID(), b.ID())
	})
}

// TestSortConfigs: the order of the flags does not change the order of a
// sweep, and a configuration given twice is one.
func TestSortConfigs(t *testing.T) {
	c := func(p string, f int) pager.Config { return pager.Config{Policy: p, Frames: f} }
	got := SortConfigs([]pager.Config{c("opt", 4), c("lru", 8), c("fifo", 8), c("lru", 4), c("lru", 8)})
	assert.Equal(t, []pager.Config{c("fifo", 8), c("lru", 4), c("lru", 8), c("opt", 4)}, got)
}
