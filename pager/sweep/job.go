package sweep

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"

	"vmsim/pager"
	"vmsim/traces"
)

// Decoding is how the traces of a sweep are read: the options that, for
// the same bytes, change the accesses a replay sees. They are part of every
// job's identity.
type Decoding struct {
	// Format is the trace format: "auto" (detected from the bytes) or a
	// name of traces.Formats. The empty string means "auto".
	Format string
	// PageSize is the page size in bytes that addresses are divided by
	// (rw and lackey traces); zero means traces.DefaultPageSize.
	PageSize uint64
	// NoInstr drops the instruction fetches of lackey traces.
	NoInstr bool
	// Limit is the number of accesses replayed from the start of each
	// trace; zero means all.
	Limit uint64
}

// normal returns d with its defaults spelled out, so that a default given
// and a default left out make the same id.
func (d Decoding) normal() Decoding {
	if d.Format == "" {
		d.Format = "auto"
	}
	if d.PageSize == 0 {
		d.PageSize = uint64(traces.DefaultPageSize)
	}
	return d
}

// Job is one run of a sweep: a trace, how it is read, and one
// configuration.
type Job struct {
	// Trace is the trace's name in records (not part of the id).
	Trace string
	// SHA256 is the lowercase hex SHA-256 of the trace file's bytes.
	SHA256 string
	Decoding
	pager.Config
}

// idVersion starts the text that a job id hashes: a change to that text
// changes it.
const idVersion = "vmsim sweep job 1"

// ID returns the job's id: 16 lowercase hex digits, the first 64 bits of
// the SHA-256 of a text that lists the trace's hash, the decoding options
// and the configuration, each as "name=value" on a line of its own (see
// docs/cluster.md). The trace's name is not part of it.
func (j Job) ID() string {
	d := j.Decoding.normal()
	text := fmt.Sprintf("%s\nsha256=%s\nformat=%s\npage_size=%d\nno_instr=%t\nlimit=%d\npolicy=%s\nframes=%d\nseed=%d\ntick=%d\ntau=%d\n",
		idVersion, j.SHA256, d.Format, d.PageSize, d.NoInstr, d.Limit, j.Policy, j.Frames, j.Seed, j.Tick, j.Tau)
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:8])
}

// policyRank is the position of each policy in [pager.Policies]: the order
// of records.
var policyRank = func() map[string]int {
	m := map[string]int{}
	for i, p := range pager.Policies() {
		m[p] = i
	}
	return m
}()

// compareConfigs orders configurations as records are: by policy in the
// order of [pager.Policies], then frames, then the options.
func compareConfigs(a, b pager.Config) int {
	return cmp.Or(
		cmp.Compare(policyRank[a.Policy], policyRank[b.Policy]),
		cmp.Compare(a.Policy, b.Policy),
		cmp.Compare(a.Frames, b.Frames),
		cmp.Compare(a.Seed, b.Seed),
		cmp.Compare(a.Tick, b.Tick),
		cmp.Compare(a.Tau, b.Tau),
	)
}

// SortConfigs sorts configurations in the order of records and drops
// duplicates: the order of a sweep, whatever the order of the flags.
func SortConfigs(cfgs []pager.Config) []pager.Config {
	out := slices.Clone(cfgs)
	slices.SortFunc(out, compareConfigs)
	return slices.CompactFunc(out, func(a, b pager.Config) bool { return compareConfigs(a, b) == 0 })
}

// compareJobs orders jobs as records are: by trace name, then
// configuration.
func compareJobs(a, b Job) int {
	return cmp.Or(cmp.Compare(a.Trace, b.Trace), compareConfigs(a.Config, b.Config), cmp.Compare(a.SHA256, b.SHA256))
}
