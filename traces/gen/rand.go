package gen

import "math/bits"

// splitMix64 is Steele, Lea and Flood's SplitMix64 generator ("Fast
// splittable pseudorandom number generators", OOPSLA 2014), written out
// here so that a seed gives the same numbers on every platform and Go
// release: math/rand/v2 promises no stable stream for its Zipf, and its
// float arithmetic may be fused differently by architecture.
type splitMix64 struct{ s uint64 }

// next returns the next 64 random bits.
func (r *splitMix64) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// below returns a uniform number in [0, n), n > 0, without bias (Lemire,
// "Fast random integer generation in an interval", 2019).
func (r *splitMix64) below(n uint64) uint64 {
	hi, lo := bits.Mul64(r.next(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(r.next(), n)
		}
	}
	return hi
}

// stream returns a generator for stream id of seed: streams of one seed
// start far apart.
func stream(seed, id uint64) splitMix64 {
	r := splitMix64{seed ^ id*0xd1b54a32d192ed03}
	return splitMix64{r.next()}
}
