package traces_test

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"sync"
	"testing"

	"vmsim/traces"
	"vmsim/traces/gen"
)

// The benchmarks decode and encode one trace held in memory: 10 M accesses
// drawn by gen zipf (alpha 1.1 over 2^20 pages, 30% writes, seed 1).
// Decoding reads it from a bytes.Reader in batches of 8192, as the replay
// engine does; docs/performance.md has the figures. Under -short (the CI
// smoke run) the trace has 100 k accesses.

const benchN = 10_000_000

var bench struct {
	once    sync.Once
	as      []traces.Access
	encoded map[string][]byte
}

func benchTrace(b *testing.B) ([]traces.Access, map[string][]byte) {
	b.Helper()
	bench.once.Do(func() {
		n := uint64(benchN)
		if testing.Short() {
			n = 100_000
		}
		r, err := gen.New(gen.Zipf, &gen.Options{N: n, Pages: 1 << 20, Alpha: 1.1, Writes: 0.3, Seed: 1})
		if err != nil {
			panic(err)
		}
		as, err := traces.ReadAll(r)
		if err != nil {
			panic(err)
		}
		bench.as = as
		bench.encoded = map[string][]byte{}
		for _, f := range traces.WriterFormats() {
			var buf bytes.Buffer
			w, err := traces.NewWriter(f, &buf, nil)
			if err != nil {
				panic(err)
			}
			if err := w.Write(as); err != nil {
				panic(err)
			}
			if err := w.Close(); err != nil {
				panic(err)
			}
			bench.encoded[f] = buf.Bytes()
		}
		bench.encoded[traces.FormatLackey] = lackeyText(as)
	})
	return bench.as, bench.encoded
}

// lackeyText renders accesses as lackey records of 8 bytes inside their
// page: loads and stores at addresses of realistic length.
func lackeyText(as []traces.Access) []byte {
	var b []byte
	for i, a := range as {
		if a.Write {
			b = append(b, " S "...)
		} else {
			b = append(b, " L "...)
		}
		b = strconv.AppendUint(b, 0x7f0000000000+uint64(a.Page)<<12+uint64(8*(i%500)), 16)
		b = append(b, ",8\n"...)
	}
	return b
}

func newBenchReader(b *testing.B, format string, data []byte) traces.Reader {
	r, c, err := traces.NewReader(bytes.NewReader(data), "bench", &traces.OpenOptions{Format: format})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return r
}

// BenchmarkDecode reads the trace in each format; format=vmt-ids reads the
// vmt trace's dense ids (ReadDense, what a replay reads) rather than its
// page numbers (Read, which looks each id up in the page table).
func BenchmarkDecode(b *testing.B) {
	for _, format := range append(traces.Formats(), "vmt-ids") {
		b.Run("format="+format, func(b *testing.B) {
			as, enc := benchTrace(b)
			ids := format == "vmt-ids"
			if ids {
				format = traces.FormatVMT
			}
			data := enc[format]
			buf := make([]traces.Access, 8192)
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				r := newBenchReader(b, format, data)
				read := r.Read
				if ids {
					read = r.(traces.DenseReader).ReadDense
				}
				for {
					n, err := read(buf)
					total += n
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
				}
			}
			if total%len(as) != 0 {
				b.Fatalf("read %d accesses, not a multiple of %d", total, len(as))
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "accesses/s")
			b.ReportMetric(float64(len(data))/float64(len(as)), "bytes/access")
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, format := range traces.WriterFormats() {
		b.Run("format="+format, func(b *testing.B) {
			as, _ := benchTrace(b)
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				w, err := traces.NewWriter(format, io.Discard, nil)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < len(as); i += 8192 {
					if err := w.Write(as[i:min(i+8192, len(as))]); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
				total += len(as)
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "accesses/s")
		})
	}
}

// BenchmarkGenerate measures the generators alone.
func BenchmarkGenerate(b *testing.B) {
	for _, kind := range gen.Kinds() {
		b.Run("kind="+kind, func(b *testing.B) {
			buf := make([]traces.Access, 8192)
			const n = 1_000_000
			b.ReportAllocs()
			total := 0
			for b.Loop() {
				r, err := gen.New(kind, &gen.Options{N: n, Pages: 1 << 16, Alpha: 1.1, Writes: 0.3, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				for {
					k, err := r.Read(buf)
					total += k
					if err != nil {
						break
					}
				}
			}
			b.ReportMetric(float64(total)/b.Elapsed().Seconds(), "accesses/s")
		})
	}
}

// ExampleOpen reads a trace whatever its format.
func ExampleOpen() {
	r, closer, err := traces.NewReader(bytes.NewReader([]byte("R 0x1000\nW 0x2fff\n")), "example", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer closer.Close()
	as, err := traces.ReadAll(r)
	fmt.Println(as, err)
	// Output: [{1 false} {2 true}] <nil>
}
