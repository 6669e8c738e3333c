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
// one shard; a shard has at most one unit (one pass) per trace, its
// configurations in the order of records; a trace's units are numbered
// 0 to Parts-1 across the shards; and the same sweep gives the same
// partition.
func TestPartitionCoversEveryJobOnce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		s := randomSpec(rng, 1+rng.IntN(30), 1+rng.IntN(20))
		n := 1 + rng.IntN(40)
		parts := s.Partition(n)
		require.Len(t, parts, n)
		seen := map[traceConfig]int{}
		numbers := map[string][]int{}
		for _, units := range parts {
			var names []string
			for _, u := range units {
				names = append(names, u.Trace.Name)
				assert.True(t, slices.IsSortedFunc(u.Configs, compareConfigs), "%s: configurations in order", u.Trace.Name)
				numbers[u.Trace.Name] = append(numbers[u.Trace.Name], u.Part)
				for _, c := range u.Configs {
					seen[traceConfig{u.Trace.Name, c}]++
				}
				for _, other := range parts {
					for _, v := range other {
						if v.Trace == u.Trace {
							assert.Equal(t, u.Parts, v.Parts)
						}
					}
				}
			}
			assert.True(t, slices.IsSorted(names), "units in order of trace, each trace once: %v", names)
			assert.Len(t, slices.Compact(slices.Clone(names)), len(names))
		}
		require.Len(t, seen, len(s.Traces)*len(s.Configs), "%d traces, %d configurations, %d shards", len(s.Traces), len(s.Configs), n)
		for k, times := range seen {
			require.Equal(t, 1, times, "%v", k)
		}
		for name, got := range numbers {
			want := make([]int, len(got))
			for i := range want {
				want[i] = i
			}
			assert.Equal(t, want, got, "%s: parts 0, 1, ... in the order of the shards", name)
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
	t.Run("parts of a trace dealt to one shard are one pass", func(t *testing.T) {
		// Six traces, the largest a little over a shard's share: cut in
		// two, and its halves, each a little lighter than z3, are dealt
		// after it, both to the shard left least loaded.
		s := &Spec{Configs: cfgs}
		for i := range 6 {
			s.Traces = append(s.Traces, Trace{Name: fmt.Sprintf("z%d", i+1), Size: int64(i+1)*800_000 + 16_032})
		}
		parts := s.Partition(4)
		assert.Equal(t, [][]string{{"z5 0/1"}, {"z1 0/1", "z4 0/1"}, {"z2 0/1", "z3 0/1"}, {"z6 0/1"}}, names(parts))
		assert.Equal(t, cfgs, parts[3][0].Configs)
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
