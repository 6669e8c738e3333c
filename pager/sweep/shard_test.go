package sweep

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
)

func TestParseShard(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Shard
	}{
		{"0/1", Shard{0, 1}},
		{"3/4", Shard{3, 4}},
		{" 2 / 8 ", Shard{2, 8}},
	} {
		t.Run("accepts "+tt.in, func(t *testing.T) {
			got, err := ParseShard(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	for _, tt := range []struct{ name, in string }{
		{"no slash", "3"},
		{"not numbers", "a/b"},
		{"I equal to N (an array numbered from 1)", "4/4"},
		{"I negative", "-1/4"},
		{"N zero", "0/0"},
		{"N too large", "0/2000000"},
	} {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := ParseShard(tt.in)
			assert.ErrorIs(t, err, ErrShard)
		})
	}
}

// randomSpec is a sweep of traces of random sizes (some much larger than
// the others) and configs configurations.
func randomSpec(rng *rand.Rand, ntraces, configs int) *Spec {
	s := &Spec{}
	for i := range ntraces {
		size := rng.Int64N(1 << 20)
		if rng.IntN(5) == 0 {
			size *= 50
		}
		s.Traces = append(s.Traces, Trace{Name: fmt.Sprintf("t%03d", i), Size: size})
	}
	for i := range configs {
		s.Configs = append(s.Configs, pager.Config{Policy: pager.Policies()[i%len(pager.Policies())], Frames: 1 + i})
	}
	s.Configs = SortConfigs(s.Configs)
	return s
}

type traceConfig struct {
	trace  string
	config pager.Config
}

// TestPartitionCoversEveryJobOnce: whatever the traces, configurations and
// number of shards, every (trace, configuration) is in exactly one unit of
// one shard; a trace's parts are consecutive runs of its configurations;
// and the same sweep gives the same partition.
func TestPartitionCoversEveryJobOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		s := randomSpec(rng, 1+rng.IntN(30), 1+rng.IntN(20))
		n := 1 + rng.IntN(40)
		parts := s.Partition(n)
		require.Len(t, parts, n)
		seen := map[traceConfig]int{}
		for _, units := range parts {
			for _, u := range units {
				require.Greater(t, u.Parts, u.Part)
				per := len(s.Configs)
				from, to := u.Part*per/u.Parts, (u.Part+1)*per/u.Parts
				assert.Equal(t, s.Configs[from:to], u.Configs, "part %d/%d of %s", u.Part, u.Parts, u.Trace.Name)
				for _, c := range u.Configs {
					seen[traceConfig{u.Trace.Name, c}]++
				}
			}
			assert.True(t, slices.IsSortedFunc(units, func(a, b Unit) int {
				if a.Trace.Name != b.Trace.Name {
					return map[bool]int{true: -1, false: 1}[a.Trace.Name < b.Trace.Name]
				}
				return a.Part - b.Part
			}), "a shard's units are in order of trace, then part")
		}
		require.Len(t, seen, len(s.Traces)*len(s.Configs), "%d traces, %d configurations, %d shards", len(s.Traces), len(s.Configs), n)
		for k, times := range seen {
			require.Equal(t, 1, times, "%v", k)
		}
		assert.Equal(t, names(parts), names(s.Partition(n)), "the same sweep, the same partition")
	}
}

// names lists the units of each shard by trace and part.
func names(parts [][]Unit) [][]string {
	out := make([][]string, len(parts))
	for i, units := range parts {
		for _, u := range units {
			out[i] = append(out[i], fmt.Sprintf("%s %d/%d", u.Trace.Name, u.Part, u.Parts))
		}
	}
	return out
}

// TestPartitionBalances: dealing the largest unit first to the least
// loaded shard leaves no shard above the mean load plus one unit (the
// guarantee of list scheduling), whatever the sizes.
func TestPartitionBalances(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		s := randomSpec(rng, 1+rng.IntN(60), 1+rng.IntN(30))
		n := 1 + rng.IntN(16)
		var total, biggest uint64
		loads := make([]uint64, n)
		for i, units := range s.Partition(n) {
			for _, u := range units {
				loads[i] += u.weight()
				total += u.weight()
				biggest = max(biggest, u.weight())
			}
		}
		assert.LessOrEqual(t, slices.Max(loads), total/uint64(n)+biggest, "loads %v", loads)
	}
}

func TestPartitionKeepsTracesWhole(t *testing.T) {
	cfgs := SortConfigs([]pager.Config{{Policy: "fifo", Frames: 3}, {Policy: "lru", Frames: 3}, {Policy: "opt", Frames: 3}, {Policy: "clock", Frames: 3}})
	t.Run("one shard: every trace whole, in order of name", func(t *testing.T) {
		s := &Spec{Traces: []Trace{{Name: "a", Size: 10}, {Name: "b", Size: 1 << 30}}, Configs: cfgs}
		parts := s.Partition(1)
		assert.Equal(t, [][]string{{"a 0/1", "b 0/1"}}, names(parts))
	})
	t.Run("many traces of one size: whole, dealt evenly", func(t *testing.T) {
		s := &Spec{Configs: cfgs}
		for i := range 12 {
			s.Traces = append(s.Traces, Trace{Name: fmt.Sprintf("t%02d", i), Size: 1 << 20})
		}
		for _, units := range s.Partition(4) {
			assert.Len(t, units, 3)
			for _, u := range units {
				assert.Equal(t, 1, u.Parts)
			}
		}
	})
	t.Run("a trace larger than a shard's share is split", func(t *testing.T) {
		s := &Spec{Traces: []Trace{{Name: "big", Size: 100 << 20}, {Name: "small", Size: 1 << 20}}, Configs: cfgs}
		parts := s.Partition(4)
		// Four equal parts of big, one per shard; small then goes to the
		// lowest of four equal loads.
		assert.Equal(t, [][]string{{"big 0/4", "small 0/1"}, {"big 1/4"}, {"big 2/4"}, {"big 3/4"}}, names(parts))
	})
	t.Run("more shards than jobs: some shards are empty", func(t *testing.T) {
		s := &Spec{Traces: []Trace{{Name: "a", Size: 100}}, Configs: cfgs[:2]}
		parts := s.Partition(5)
		var empty int
		for _, units := range parts {
			if len(units) == 0 {
				empty++
			}
		}
		assert.Equal(t, 3, empty)
	})
}

// TestJobsTakeSameBytesOnce: two names for the same bytes are one trace of
// the sweep, under the first name.
func TestJobsTakeSameBytesOnce(t *testing.T) {
	s := &Spec{
		Traces:  []Trace{{Name: "a", SHA256: "aa"}, {Name: "b", SHA256: "bb"}, {Name: "c", SHA256: "aa"}},
		Configs: []pager.Config{{Policy: "fifo", Frames: 3}, {Policy: "lru", Frames: 3}},
	}
	jobs, same := s.Jobs()
	var got []string
	for _, j := range jobs {
		got = append(got, j.Trace+" "+j.Policy)
	}
	assert.Equal(t, []string{"a fifo", "a lru", "b fifo", "b lru"}, got)
	assert.Equal(t, map[string]string{"c": "a"}, same)
}
