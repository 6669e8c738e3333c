package sweep

import (
	"cmp"
	"container/heap"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strconv"
	"strings"

	"vmsim/pager"
)

// Shard is part Index of Count of a sweep, counted from 0.
type Shard struct {
	Index, Count int
}

// String returns "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ErrShard is wrapped by the error of [ParseShard].
var ErrShard = errors.New("bad shard")

// MaxShards bounds the number of shards.
const MaxShards = 1 << 20

// ParseShard parses "I/N": shard I of N, 0 <= I < N (a Slurm array
// 0-(N-1) gives SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT, a Kubernetes
// Indexed Job of N completions JOB_COMPLETION_INDEX/N).
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	if !ok {
		return Shard{}, fmt.Errorf("%w %q: want I/N, like 0/4", ErrShard, s)
	}
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%w %q: want I/N, two numbers like 0/4", ErrShard, s)
	case count < 1 || count > MaxShards:
		return Shard{}, fmt.Errorf("%w %q: N must be from 1 to %d", ErrShard, s, MaxShards)
	case idx < 0 || idx >= count:
		return Shard{}, fmt.Errorf("%w %q: I counts from 0 and must be below N (a job array of N tasks must be numbered 0 to N-1)", ErrShard, s)
	}
	return Shard{Index: idx, Count: count}, nil
}

// Spec is a whole sweep: every configuration on every trace, each trace
// read with the same options.
type Spec struct {
	// Traces are the traces, sorted by name, each name once ([Resolve]).
	Traces []Trace
	// Configs are the configurations, in the order of [SortConfigs].
	Configs []pager.Config
	Decoding
}

// Unit is one pass over one trace: the configurations of the trace that a
// shard runs together, decoding the trace once.
type Unit struct {
	// Trace is the trace, in the Spec's Traces.
	Trace *Trace
	// Configs are the configurations run on it.
	Configs []pager.Config
	// Parts is the number of shards the trace's configurations are
	// spread over (1 for a trace kept whole), and Part which of them this
	// unit is, from 0, in the order of the shards.
	Part, Parts int
}

// Jobs returns the unit's jobs, in the order of records. The trace must
// be hashed.
func (u Unit) Jobs(d Decoding) []Job {
	jobs := make([]Job, len(u.Configs))
	for i, c := range u.Configs {
		jobs[i] = Job{Trace: u.Trace.Name, SHA256: u.Trace.SHA256, Decoding: d, Config: c}
	}
	return jobs
}

// weight is the work a unit is estimated to be: a pass over the trace for
// each configuration, in KiB-ish blocks so that sums cannot overflow.
func (u Unit) weight() uint64 { return blocks(u.Trace.Size) * uint64(len(u.Configs)) }

// blocks is a trace's size in 4 KiB blocks, at least 1: the partition's
// measure of a trace, never zero.
func blocks(size int64) uint64 { return uint64(max(size, 0))/4096 + 1 }

// Partition cuts the sweep into n shards and returns the units of each.
// It depends only on the traces' names and sizes and on the
// configurations, so every process given the same sweep computes the
// same partition, and every job of the sweep falls in exactly one shard.
//
// A trace is cut into k parts, k = ceil(n × its size / all sizes) at most
// one per configuration: one part (the whole trace, one decoding pass)
// unless the trace alone is more than a shard's share. Parts are dealt
// largest first (bytes × configurations), each to the least loaded shard
// (the lowest index on a tie): the longest-processing-time rule, whose
// most loaded shard is within 4/3 of the best possible. Parts of one trace
// dealt to the same shard are one unit again (one pass). Within a shard,
// units are in order of trace name.
func (s *Spec) Partition(n int) [][]Unit {
	shards := make([][]Unit, n)
	if n < 1 || len(s.Traces) == 0 || len(s.Configs) == 0 {
		return shards
	}
	var total uint64
	for _, t := range s.Traces {
		total += blocks(t.Size)
	}
	var units []Unit
	for i := range s.Traces {
		t := &s.Traces[i]
		hi, lo := bits.Mul64(blocks(t.Size), uint64(n))
		k, rem := bits.Div64(hi, lo, total) // < n: blocks <= total
		if rem != 0 {
			k++
		}
		parts := int(min(k, uint64(len(s.Configs))))
		for p := range parts {
			from, to := p*len(s.Configs)/parts, (p+1)*len(s.Configs)/parts
			units = append(units, Unit{Trace: t, Configs: s.Configs[from:to], Part: p, Parts: parts})
		}
	}
	slices.SortStableFunc(units, func(a, b Unit) int {
		return cmp.Or(cmp.Compare(b.weight(), a.weight()), cmp.Compare(a.Trace.Name, b.Trace.Name), cmp.Compare(a.Part, b.Part))
	})
	load := make(loads, n)
	for i := range load {
		load[i].index = i
	}
	for _, u := range units {
		least := &load[0] // a heap: the least loaded shard, lowest index first
		shards[least.index] = append(shards[least.index], u)
		least.load += u.weight()
		heap.Fix(&load, 0)
	}
	spread := map[*Trace]int{} // shards each trace is in
	for i, sh := range shards {
		// Parts in order, so that one trace's are next to each other and
		// their configurations, joined, stay in order.
		slices.SortFunc(sh, func(a, b Unit) int {
			return cmp.Or(cmp.Compare(a.Trace.Name, b.Trace.Name), cmp.Compare(a.Part, b.Part))
		})
		var joined []Unit
		for _, u := range sh {
			if k := len(joined) - 1; k >= 0 && joined[k].Trace == u.Trace {
				joined[k].Configs = append(slices.Clip(joined[k].Configs), u.Configs...)
				continue
			}
			joined = append(joined, u)
		}
		for k := range joined {
			joined[k].Part = spread[joined[k].Trace]
			spread[joined[k].Trace]++
		}
		shards[i] = joined
	}
	for _, sh := range shards {
		for k := range sh {
			sh[k].Parts = spread[sh[k].Trace]
		}
	}
	return shards
}

// Jobs returns every job of the sweep, in the order of records, each once:
// a trace whose bytes are those of a trace before it (by name) adds no job
// of its own, and is returned in same, with the name it is the same as.
// Every trace must be hashed.
func (s *Spec) Jobs() (jobs []Job, same map[string]string) {
	first := map[string]string{} // sha256 -> name
	for _, t := range s.Traces {
		if name, ok := first[t.SHA256]; ok {
			if same == nil {
				same = map[string]string{}
			}
			same[t.Name] = name
			continue
		}
		first[t.SHA256] = t.Name
		for _, c := range s.Configs {
			jobs = append(jobs, Job{Trace: t.Name, SHA256: t.SHA256, Decoding: s.Decoding, Config: c})
		}
	}
	return jobs, same
}

// loads is a min-heap of shards by load, then index.
type loads []struct {
	load  uint64
	index int
}

func (l loads) Len() int { return len(l) }
func (l loads) Less(i, j int) bool {
	return l[i].load < l[j].load || l[i].load == l[j].load && l[i].index < l[j].index
}
func (l loads) Swap(i, j int) { l[i], l[j] = l[j], l[i] }
func (l *loads) Push(any)     { panic("loads: fixed size") }
func (l *loads) Pop() any     { panic("loads: fixed size") }
