package traces_test

import (
	"testing"

	"vmsim/traces"
	"vmsim/traces/gen"
	"vmsim/vm/arch"
)

// denseBenchKeys returns 10 M zipf(1.0) accesses over 1 M pages (100 k
// under -short): as generated (small page numbers), or with each page
// number scrambled into a 64-bit id, as in traces of object ids.
func denseBenchKeys(b *testing.B, scrambled bool) []traces.Access {
	b.Helper()
	n := uint64(10_000_000)
	if testing.Short() {
		n = 100_000
	}
	r, err := gen.New(gen.Zipf, &gen.Options{N: n, Pages: 1 << 20, Alpha: 1.0, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	as, err := traces.ReadAll(r)
	if err != nil {
		b.Fatal(err)
	}
	if scrambled {
		for i := range as {
			x := uint64(as[i].Page) * 0xbf58476d1ce4e5b9
			as[i].Page = arch.PageNum(x ^ x>>29)
		}
	}
	return as
}

// BenchmarkDense numbers a zipf trace's pages one by one (ID) and in
// batches (IDs), small page numbers (the direct array) and scrambled 64-bit
// ids (the hash table).
func BenchmarkDense(b *testing.B) {
	for _, keys := range []string{"small", "scrambled"} {
		for _, lookup := range []string{"one", "batch"} {
			b.Run("keys="+keys+"/lookup="+lookup, func(b *testing.B) {
				as := denseBenchKeys(b, keys == "scrambled")
				ids := make([]uint32, len(as))
				b.ReportAllocs()
				for b.Loop() {
					m := traces.NewDense()
					if lookup == "batch" {
						for i := 0; i < len(as); i += 1 << 16 {
							j := min(i+1<<16, len(as))
							m.IDs(as[i:j], ids[i:j])
						}
						continue
					}
					for i, a := range as {
						ids[i], _ = m.ID(a.Page)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(as)), "ns/access")
			})
		}
	}
}
