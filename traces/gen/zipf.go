package gen

import (
	"math"
	"math/bits"
)

// Floating point here must give the same bits on every platform. IEEE 754
// rounds each +, -, *, / correctly, so the only traps are the math
// package's assembly versions of Exp (amd64, arm64, loong64, s390x) and Log
// (amd64, s390x), which are not bit-identical to the Go ones, and fused
// multiply-add: the Go spec lets a compiler fuse x*y+z (arm64, ppc64, s390x
// do) unless an explicit float64 conversion rounds the product. So exp and
// log are written out below with basic operations, and every product is
// wrapped in float64().

const ln2 = 0.693147180559945309417232121458176568

// logf returns the natural logarithm of x, x >= 1, to about 1e-16.
func logf(x float64) float64 {
	// x = m * 2^e with m in [1, 2); ln m = 2 atanh(t), t = (m-1)/(m+1).
	b := math.Float64bits(x)
	e := int64(b>>52&0x7ff) - 1023
	m := math.Float64frombits(b&^(0x7ff<<52) | 1023<<52)
	t := (m - 1) / (m + 1)
	t2 := float64(t * t)
	sum, term := 0.0, t
	for k := 1; k < 60; k += 2 {
		sum += term / float64(k)
		term = float64(term * t2)
	}
	return float64(2*sum) + float64(float64(e)*ln2)
}

// expf returns e^x for x <= 0, to about 1e-15 (0 below e^-700).
func expf(x float64) float64 {
	if x < -700 {
		return 0
	}
	// x = k ln2 + r with k = floor(x / ln2), r in [0, ln2).
	q := x / ln2
	k := int64(q)
	if float64(k) > q {
		k--
	}
	r := x - float64(float64(k)*ln2)
	sum, term := 1.0, 1.0
	for n := 1; n < 30; n++ {
		term = float64(term*r) / float64(n)
		sum += term
	}
	// Scale by 2^k, k >= -1011: a normal number, set through its exponent.
	return float64(sum * math.Float64frombits(uint64(1023+k)<<52))
}

// cdfOne is the fixed-point 1 of zipf's cumulative distribution.
const cdfOne = 1 << 62

// zipf draws ranks 0..n-1 with probability proportional to 1/(rank+1)^alpha,
// by inverting its cumulative distribution held in fixed point (8 bytes a
// rank), with a guide table (Chen and Asau's cutpoint method, 4 bytes a
// bucket) so that a draw looks at one or two entries on average.
type zipf struct {
	cdf   []uint64 // cdf[r]: P(rank <= r) * cdfOne, cdf[n-1] = cdfOne
	guide []uint32 // guide[j]: the first rank r with cdf[r] > j << shift
	shift uint
}

func newZipf(n uint64, alpha float64) *zipf {
	w := make([]float64, n)
	total := 0.0
	for r := range w {
		w[r] = expf(float64(-alpha * logf(float64(r+1))))
		total += w[r]
	}
	scale := cdfOne / total
	z := &zipf{cdf: make([]uint64, n)}
	cum := 0.0
	for r := range w {
		cum += w[r]
		z.cdf[r] = uint64(float64(cum * scale))
	}
	z.cdf[n-1] = cdfOne
	// 2^b buckets, b = ceil(log2 n), at most 2^24.
	b := min(uint(bits.Len64(n-1)), 24)
	z.shift = 62 - b
	z.guide = make([]uint32, 1<<b)
	r := uint64(0)
	for j := range z.guide {
		start := uint64(j) << z.shift
		for z.cdf[r] <= start {
			r++
		}
		z.guide[j] = uint32(r)
	}
	return z
}

// rank returns the rank for u, uniform in [0, cdfOne).
func (z *zipf) rank(u uint64) uint64 {
	r := uint64(z.guide[u>>z.shift])
	for z.cdf[r] <= u {
		r++
	}
	return r
}
