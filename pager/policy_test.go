package pager

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"vmsim/vm/arch"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// parse builds a trace from "1 2 3w ..." (w marks a write).
func parse(t testing.TB, s string) *Trace {
	t.Helper()
	b := NewBuilder(s)
	for _, tok := range strings.Fields(s) {
		w := strings.HasSuffix(tok, "w")
		n, err := strconv.ParseUint(strings.TrimSuffix(tok, "w"), 10, 64)
		require.NoError(t, err)
		b.Add(arch.PageNum(n), w)
	}
	return b.Trace()
}

// simulate runs a policy and returns its stats and the victims' page
// numbers in order.
func simulate(t testing.TB, tr *Trace, cfg Config) (Stats, []uint64) {
	t.Helper()
	var victims []uint64
	res, err := Simulate(context.Background(), tr, cfg, func(i int, o Outcome, p *Pager) {
		if o.Evicted {
			victims = append(victims, uint64(tr.PageNum(o.Victim)))
		}
		if p.Used() > p.Frames() {
			t.Fatalf("access %d: %d pages resident with %d frames", i, p.Used(), p.Frames())
		}
		if !p.Resident(tr.pages[i]) {
			t.Fatalf("access %d: page %d not resident after its access", i, tr.PageNum(tr.pages[i]))
		}
	})
	require.NoError(t, err)
	return res.Stats, victims
}

const (
	beladyString   = "1 2 3 4 1 2 5 1 2 3 4 5"
	textbookString = "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1"
)

// TestPoliciesHandComputed checks each policy's victims on traces worked out
// by hand (the working is in the comments of each policy's test case, in
// docs/policies.md terms: slots, bits, counters).
func TestPoliciesHandComputed(t *testing.T) {
	tests := []struct {
		name    string
		trace   string
		cfg     Config
		faults  uint64
		victims []uint64
	}{
		{"fifo belady 3", beladyString, Config{Policy: "fifo", Frames: 3}, 9, []uint64{1, 2, 3, 4, 1, 2}},
		{"fifo belady 4", beladyString, Config{Policy: "fifo", Frames: 4}, 10, []uint64{1, 2, 3, 4, 5, 1}},
		{"fifo textbook", textbookString, Config{Policy: "fifo", Frames: 3}, 15, nil},
		{"lru belady 3", beladyString, Config{Policy: "lru", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 1, 2}},
		{"lru textbook", textbookString, Config{Policy: "lru", Frames: 3}, 12, nil},
		{"mru belady 3", beladyString, Config{Policy: "mru", Frames: 3}, 7, []uint64{3, 2, 1, 2}},
		// Counts since load, ties least recently used: 1 2 3 1 2 5 1 2 are
		// all count-1 ties until 1 and 2 are hit at t7, t8.
		{"lfu belady 3", beladyString, Config{Policy: "lfu", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 3, 4}},
		{"lfu keeps the frequent page", "1 1 1 2 3 4 5", Config{Policy: "lfu", Frames: 2}, 5, []uint64{2, 3, 4}},
		// The hand clears 1, 2, 3 then takes 1; pages load referenced.
		{"clock belady 3", beladyString, Config{Policy: "clock", Frames: 3}, 9, []uint64{1, 2, 3, 4, 1, 2}},
		// Pages load unreferenced: the hits at t7, t8 save 1 and 2 once.
		{"clock-cold belady 3", beladyString, Config{Policy: "clock-cold", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 1, 2}},
		// Loading set every R bit, so the re-reference of 1 does not save it:
		// the hand clears 1, 2, 3 and comes back to 1. Then 2 is a hit.
		{"clock loads referenced", "1 2 3 1 4 2 5", Config{Policy: "clock", Frames: 3}, 5, []uint64{1, 3}},
		// Tick every 2 accesses: 3 is loaded after the tick at t2 and has the
		// only zero counter at t3.
		{"nfu belady 3 tick 2", beladyString, Config{Policy: "nfu", Frames: 3, Options: Options{Tick: 2}}, 8, []uint64{3, 4, 5, 3, 4}},
		// At t9 page 2 has counter 80 (binary 01010000) against 1's 208 and
		// 5's 128: 2 goes although it was referenced at t8.
		{"aging belady 3 tick 2", beladyString, Config{Policy: "aging", Frames: 3, Options: Options{Tick: 2}}, 8, []uint64{3, 4, 2, 5, 4}},
		{"wsclock young pages: first clean", beladyString, Config{Policy: "wsclock", Frames: 3, Options: Options{Tau: 2}}, 9, []uint64{1, 2, 3, 4, 1, 2}},
		{"wsclock old clean page at the hand", "1 2 3 4 5 6", Config{Policy: "wsclock", Frames: 3, Options: Options{Tau: 1}}, 6, []uint64{1, 2, 3}},
		// At t6 dirty page 1 is old (age 2 > 1) and no clean page is: it is
		// evicted and written back.
		{"wsclock old dirty page", "1w 2 2 2 3 4 5 6 7", Config{Policy: "wsclock", Frames: 2, Options: Options{Tau: 1}}, 7, []uint64{2, 3, 1, 4, 5}},
		{"opt textbook", textbookString, Config{Policy: "opt", Frames: 3}, 9, []uint64{7, 1, 0, 4, 3, 2}},
		{"opt belady 3", beladyString, Config{Policy: "opt", Frames: 3}, 7, nil},
		{"opt belady 4", beladyString, Config{Policy: "opt", Frames: 4}, 6, nil},
		{"opt ties go to the least recently used", "1 2 3 4", Config{Policy: "opt", Frames: 2}, 4, []uint64{1, 2}},
		// T1 fills with 1 2 3; then |T1| = c and misses evict T1's LRU
		// outright; 1 and 2 move to T2 on their hits; 5 lands in B1 and its
		// return raises p to 1, which sends T2's LRU (1) to B2.
		{"arc belady 3", beladyString, Config{Policy: "arc", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 3, 1}},
		{"sieve belady 3", beladyString, Config{Policy: "sieve", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 1, 2}},
		// The visited page 1 keeps its place; the hand passes it and takes 2.
		{"sieve keeps a visited page in place", "1 2 3 1 4 2 5", Config{Policy: "sieve", Frames: 3}, 6, []uint64{2, 3, 4}},
		{"s3fifo belady 3", beladyString, Config{Policy: "s3fifo", Frames: 3}, 10, []uint64{1, 2, 3, 4, 5, 3, 4}},
		// 1 is hit twice in S and moves to M at t5; 3 comes back from the
		// ghost queue into M at t8; at t13 7 moves to M, M overflows, 1 is
		// reinserted (frequency 1 → 0) and 3 is evicted.
		{"s3fifo main queue and ghosts", "1 1 1 2 3 4 1 5 3 6 7 7 7 8", Config{Policy: "s3fifo", Frames: 3}, 9, []uint64{2, 3, 4, 5, 6, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, victims := simulate(t, parse(t, tt.trace), tt.cfg)
			assert.Equal(t, tt.faults, st.Faults, "faults")
			if tt.victims != nil {
				assert.Equal(t, tt.victims, victims, "victims in order")
			}
			assert.Equal(t, uint64(len(victims)), st.Evictions)
		})
	}
}

func TestRandomIsSeededAndReproducible(t *testing.T) {
	// SplitMix64's published test vector (seed 1234567).
	r := &random{state: 1234567}
	want := []uint64{6457827717110365317, 3203168211198807973, 9817491932198370423, 4593380528125082431, 16408922859458223821}
	for i, w := range want {
		assert.Equal(t, w, r.next(), "output %d", i)
	}

	tr := parse(t, strings.Repeat("1 2 3 4 5 6 7 8 ", 50))
	_, a := simulate(t, tr, Config{Policy: "random", Frames: 4, Options: Options{Seed: 7}})
	_, b := simulate(t, tr, Config{Policy: "random", Frames: 4, Options: Options{Seed: 7}})
	_, c := simulate(t, tr, Config{Policy: "random", Frames: 4, Options: Options{Seed: 8}})
	assert.Equal(t, a, b, "same seed, same victims")
	assert.NotEqual(t, a, c, "another seed, other victims")

	// Uniform: each of 4 resident slots is chosen about a quarter of the
	// time.
	counts := make([]int, 4)
	r = &random{state: 1}
	for range 40000 {
		counts[r.bounded(4)]++
	}
	for i, n := range counts {
		assert.InDelta(t, 10000, n, 400, "slot %d", i)
	}
}

func TestBeladyAnomaly(t *testing.T) {
	tr := parse(t, beladyString)
	f3, _ := simulate(t, tr, Config{Policy: "fifo", Frames: 3})
	f4, _ := simulate(t, tr, Config{Policy: "fifo", Frames: 4})
	assert.Equal(t, uint64(9), f3.Faults)
	assert.Equal(t, uint64(10), f4.Faults, "more frames, more faults")
}

func TestDirtyPagesAndProtectionFaults(t *testing.T) {
	// 1 read then written (protection fault), 2 written at once (no
	// protection fault), 3 forces 1 out dirty under fifo, 1 comes back clean.
	st, victims := simulate(t, parse(t, "1 1w 2w 3 1"), Config{Policy: "fifo", Frames: 2})
	assert.Equal(t, Stats{Accesses: 5, Reads: 3, Writes: 2, Hits: 1, Faults: 4, Evictions: 2, Writebacks: 2, ProtectionFaults: 1}, st)
	assert.Equal(t, []uint64{1, 2}, victims)
}

func TestFramesMustBePositive(t *testing.T) {
	_, err := New(&fifo{}, 0, nil)
	assert.ErrorIs(t, err, ErrFrames)
}

func TestUnknownPolicy(t *testing.T) {
	_, err := NewPolicy("lrux", Options{})
	assert.ErrorIs(t, err, ErrUnknownPolicy)
	_, err = ParsePolicies("fifo,nope")
	assert.ErrorIs(t, err, ErrUnknownPolicy)
	got, err := ParsePolicies("lru, FIFO,lru")
	require.NoError(t, err)
	assert.Equal(t, []string{"lru", "fifo"}, got)
	all, err := ParsePolicies("all")
	require.NoError(t, err)
	assert.Len(t, all, 14)
}

func ExampleSimulate() {
	b := NewBuilder("belady")
	for _, p := range []arch.PageNum{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5} {
		b.Add(p, false)
	}
	tr := b.Trace()
	for _, frames := range []int{3, 4} {
		res, _ := Simulate(context.Background(), tr, Config{Policy: "fifo", Frames: frames}, nil)
		fmt.Printf("fifo, %d frames: %d faults\n", frames, res.Faults)
	}
	// Output:
	// fifo, 3 frames: 9 faults
	// fifo, 4 frames: 10 faults
}
