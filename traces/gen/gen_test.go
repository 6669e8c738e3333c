package gen

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/traces"
)

func generate(t *testing.T, kind string, opts Options) []traces.Access {
	t.Helper()
	r, err := New(kind, &opts)
	require.NoError(t, err)
	as, err := traces.ReadAll(r)
	require.NoError(t, err)
	require.Len(t, as, int(opts.N))
	return as
}

func pagesOf(as []traces.Access) []uint64 {
	ps := make([]uint64, len(as))
	for i, a := range as {
		ps[i] = uint64(a.Page)
	}
	return ps
}

func TestDeterministicKinds(t *testing.T) {
	tests := []struct {
		name string
		kind string
		opts Options
		want []uint64
	}{
		{"seq sweeps each page in a row", Seq, Options{N: 8, Pages: 4}, []uint64{0, 0, 1, 1, 2, 2, 3, 3}},
		{"seq with uneven runs", Seq, Options{N: 5, Pages: 2}, []uint64{0, 0, 0, 1, 1}},
		{"seq with more pages than accesses", Seq, Options{N: 3, Pages: 6}, []uint64{0, 2, 4}},
		{"loop cycles", Loop, Options{N: 7, Pages: 3}, []uint64{0, 1, 2, 0, 1, 2, 0}},
		{"belady string", Belady, Options{N: 14}, []uint64{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5, 1, 2}},
		{"empty trace", Uniform, Options{N: 0, Pages: 3}, []uint64{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := pagesOf(generate(t, tt.kind, tt.opts))
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestGolden pins the output of every kind for fixed seeds: the algorithms
// are ours, so a change of these hashes is a change of every generated
// trace, on purpose or not.
func TestGolden(t *testing.T) {
	tests := []struct {
		name string
		kind string
		opts Options
		hash string
	}{
		{"seq", Seq, Options{N: 10000, Pages: 300, Writes: 0.25, Seed: 1}, "dc7f9dc21882cb09a7dc4e860d12786ecc39bd4a81b582f3b405da0c2dfecf27"},
		{"loop", Loop, Options{N: 10000, Pages: 17, Writes: 0.5, Seed: 2}, "abb002d86bd6adfae1dccc3e3777a57b9d9d0b70b42731544893e1b918cb7ed1"},
		{"uniform", Uniform, Options{N: 10000, Pages: 1000, Writes: 0.3, Seed: 3}, "2e064dc891524ac35e9bed694e61747299eadffeec887c62c3928945f933446f"},
		{"zipf alpha 1.1", Zipf, Options{N: 10000, Pages: 100000, Writes: 0.3, Seed: 4, Alpha: 1.1}, "661b80909aee6e6bc936db2a3d206b1d84efca8580f8772c813c1e4a05a7163f"},
		{"zipf alpha 0.7 few pages", Zipf, Options{N: 10000, Pages: 50, Seed: 5, Alpha: 0.7}, "61712cb897ba146d36a977e14e667cc438c010880ee37e478f9a64f1b1bdfda1"},
		{"phases", Phases, Options{N: 10000, Pages: 4096, Writes: 0.1, Seed: 6, WorkingSet: 64, PhaseLen: 1000}, "77f5f48c5d1b84489f97cfe108991c4148d2a1f670273a5b9e672e898ab465d6"},
		{"belady", Belady, Options{N: 1200, Writes: 0.5, Seed: 7}, "5534f11578b1826b0fddbcf86b682cc1e65fb3519634cb4c0bda6630ced62e76"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := generate(t, tt.kind, tt.opts)
			h := sha256.New()
			w := traces.NewPagesWriter(h)
			require.NoError(t, w.Write(as))
			require.NoError(t, w.Close())
			assert.Equal(t, tt.hash, hex.EncodeToString(h.Sum(nil)))
		})
	}
}

func TestSameSeedSameTrace(t *testing.T) {
	opts := Options{N: 5000, Pages: 1000, Writes: 0.3, Seed: 42, Alpha: 1}
	for _, kind := range Kinds() {
		t.Run(kind, func(t *testing.T) {
			a := generate(t, kind, opts)
			b := generate(t, kind, opts)
			assert.Equal(t, a, b)
			if kind == Uniform || kind == Zipf || kind == Phases {
				opts2 := opts
				opts2.Seed++
				assert.NotEqual(t, pagesOf(a), pagesOf(generate(t, kind, opts2)), "another seed, another trace")
			}
		})
	}
}

func TestWritesDoNotChangePages(t *testing.T) {
	opts := Options{N: 2000, Pages: 500, Seed: 9, Alpha: 1}
	none := generate(t, Zipf, opts)
	opts.Writes = 0.5
	half := generate(t, Zipf, opts)
	assert.Equal(t, pagesOf(none), pagesOf(half), "pages and write bits come from separate streams")
}

func TestWritesRatio(t *testing.T) {
	tests := []struct {
		name   string
		writes float64
	}{
		{"none", 0}, {"a tenth", 0.1}, {"a third", 1.0 / 3}, {"most", 0.9}, {"all", 1},
	}
	const n = 200000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := generate(t, Uniform, Options{N: n, Pages: 100, Writes: tt.writes, Seed: 11})
			w := 0
			for _, a := range as {
				if a.Write {
					w++
				}
			}
			// 5 standard deviations of a binomial: a false failure is
			// about one in 3.5 million.
			sd := math.Sqrt(n * tt.writes * (1 - tt.writes))
			assert.InDelta(t, tt.writes*n, float64(w), 5*sd+0.5)
		})
	}
}

func TestZipfRankFrequencies(t *testing.T) {
	tests := []struct {
		name  string
		alpha float64
		pages uint64
	}{
		{"classic zipf", 1, 1000},
		{"skewed", 1.5, 10000},
		{"mild", 0.5, 100},
		{"alpha 0 is uniform", 0, 20},
	}
	const n = 400000
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			as := generate(t, Zipf, Options{N: n, Pages: tt.pages, Alpha: tt.alpha, Seed: 13})
			counts := make([]float64, tt.pages)
			for _, a := range as {
				require.Less(t, a.Page, tt.pages)
				counts[a.Page]++
			}
			h := 0.0
			for r := 1; r <= int(tt.pages); r++ {
				h += math.Pow(float64(r), -tt.alpha)
			}
			// The first ranks hold enough draws to check each; then the
			// ratios of rank 1 to rank k follow k^alpha.
			for r := 1; r <= 5; r++ {
				p := math.Pow(float64(r), -tt.alpha) / h
				sd := math.Sqrt(n * p * (1 - p))
				assert.InDelta(t, n*p, counts[r-1], 5*sd, "rank %d", r)
			}
			// The tail: the last half of the pages together.
			tail := 0.0
			for r := tt.pages/2 + 1; r <= tt.pages; r++ {
				tail += math.Pow(float64(r), -tt.alpha) / h
			}
			got := 0.0
			for _, c := range counts[tt.pages/2:] {
				got += c
			}
			sd := math.Sqrt(n * tail * (1 - tail))
			assert.InDelta(t, n*tail, got, 5*sd+1, "the tail's share")
		})
	}
}

func TestExpLog(t *testing.T) {
	for _, x := range []float64{1, 1.5, 2, 3, 10, 1000, 12345.678, 1 << 26} {
		assert.InEpsilon(t, math.Log(x)+1, logf(x)+1, 1e-15, "log %v", x)
	}
	for _, x := range []float64{0, -1e-9, -0.5, -1, -10, -100, -699} {
		assert.InEpsilon(t, math.Exp(x), expf(x), 1e-14, "exp %v", x)
	}
	assert.Zero(t, expf(-701))
}

func TestPhasesStayInTheirWorkingSet(t *testing.T) {
	as := generate(t, Phases, Options{N: 4000, Pages: 1000, WorkingSet: 10, PhaseLen: 500, Seed: 3})
	for p := 0; p < 8; p++ {
		lo, hi := uint64(math.MaxUint64), uint64(0)
		for _, a := range as[p*500 : (p+1)*500] {
			lo, hi = min(lo, uint64(a.Page)), max(hi, uint64(a.Page))
		}
		assert.Less(t, hi-lo, uint64(10), "phase %d spans [%d, %d]", p, lo, hi)
		assert.Less(t, hi, uint64(1000))
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		kind string
		opts Options
		want string
	}{
		{"unknown kind", "gauss", Options{N: 1, Pages: 1}, "unknown kind"},
		{"no pages", Uniform, Options{N: 1}, "Pages 0"},
		{"writes above 1", Loop, Options{N: 1, Pages: 1, Writes: 1.5}, "Writes"},
		{"negative writes", Loop, Options{N: 1, Pages: 1, Writes: -0.1}, "Writes"},
		{"NaN writes", Loop, Options{N: 1, Pages: 1, Writes: math.NaN()}, "Writes"},
		{"negative alpha", Zipf, Options{N: 1, Pages: 1, Alpha: -1}, "Alpha"},
		{"too many zipf pages", Zipf, Options{N: 1, Pages: MaxZipfPages + 1, Alpha: 1}, "at most"},
		{"working set above pages", Phases, Options{N: 1, Pages: 4, WorkingSet: 5}, "WorkingSet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.kind, &tt.opts)
			assert.ErrorIs(t, err, ErrOption)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

func TestKinds(t *testing.T) {
	assert.Equal(t, []string{"seq", "loop", "uniform", "zipf", "phases", "belady"}, Kinds())
	for _, k := range Kinds() {
		assert.NotEmpty(t, Describe(k), k)
	}
}
