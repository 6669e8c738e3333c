package traces

import (
	"bytes"
	"math/rand/v2"
	"strconv"
	"testing"
)

// pagesText returns n accesses in the pages format, a zipf-like mix of page
// numbers up to 1e6 with 30% writes.
func pagesText(n int) []byte {
	rng := rand.New(rand.NewPCG(1, 2))
	z := rand.NewZipf(rng, 1.1, 1, 1e6)
	var b bytes.Buffer
	for range n {
		b.WriteString(strconv.FormatUint(z.Uint64(), 10))
		if rng.IntN(10) < 3 {
			b.WriteByte('w')
		}
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func BenchmarkPagesDecode(b *testing.B) {
	const n = 1 << 20
	text := pagesText(n)
	buf := make([]Access, 8192)
	b.SetBytes(int64(len(text)))
	total := 0
	for b.Loop() {
		r := NewPagesReader(bytes.NewReader(text), "bench")
		for {
			k, err := r.Read(buf)
			total += k
			if err != nil {
				break
			}
		}
	}
	b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "accesses/s")
}
