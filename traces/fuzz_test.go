package traces

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// The fuzz targets check, for every reader: no panic; a call returns
// accesses or an error, never both, and never neither; an error is sticky;
// an in-memory input fails only with a *ParseError; the result does not
// depend on the batch size; and a trace read without error survives a round
// trip through the format's writer (or vmt, for lackey). The seeds are the
// files of testdata/ with the format's extension, plus minimal inputs.

// addSeeds adds the testdata files whose names end in ext, and extra.
func addSeeds(f *testing.F, ext string, extra ...[]byte) {
	f.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "*"+ext))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, e := range extra {
		f.Add(e)
	}
}

// drain reads r to its end in batches of size batch, checking the Read
// contract.
func drain(t *testing.T, r Reader, batch int) ([]Access, error) {
	t.Helper()
	buf := make([]Access, batch)
	var all []Access
	for {
		n, err := r.Read(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("Read returned n = %d for a batch of %d", n, len(buf))
		}
		if n > 0 && err != nil {
			t.Fatalf("Read returned %d accesses and an error together: %v", n, err)
		}
		if n == 0 && err == nil {
			t.Fatalf("Read returned neither accesses nor an error")
		}
		all = append(all, buf[:n]...)
		if err == nil {
			continue
		}
		if n2, err2 := r.Read(buf); n2 != 0 || err2 == nil {
			t.Fatalf("after %v, Read returned %d, %v: the error is not sticky", err, n2, err2)
		}
		if err == io.EOF {
			return all, nil
		}
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Fatalf("an in-memory trace failed with %T %v, not a *ParseError", err, err)
		}
		return all, err
	}
}

// drainBoth drains two fresh readers with batches of 1 and 1000 and checks
// that they agree.
func drainBoth(t *testing.T, newReader func() Reader) ([]Access, error) {
	t.Helper()
	one, err1 := drain(t, newReader(), 1)
	many, err2 := drain(t, newReader(), 1000)
	if !equalAccesses(one, many) || (err1 == nil) != (err2 == nil) {
		t.Fatalf("batches of 1 read %d accesses (%v), batches of 1000 read %d (%v)", len(one), err1, len(many), err2)
	}
	if err1 != nil && err1.Error() != err2.Error() {
		t.Fatalf("errors differ with the batch size: %v vs %v", err1, err2)
	}
	return many, err2
}

func equalAccesses(a, b []Access) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// roundTrip writes as in format and reads them back with read.
func roundTrip(t *testing.T, format string, as []Access, read func(io.Reader) Reader) []Access {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(format, &buf, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(as); err != nil {
		t.Fatalf("%s writer: %v", format, err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("%s writer: %v", format, err)
	}
	got, err := drain(t, read(&buf), 1000)
	if err != nil {
		t.Fatalf("reading back what the %s writer wrote: %v", format, err)
	}
	return got
}

func FuzzPagesReader(f *testing.F) {
	addSeeds(f, ".pages", []byte(""), []byte("1"), []byte("0x10w,2r # c\n3"), []byte("18446744073709551615w"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := drainBoth(t, func() Reader { return NewPagesReader(bytes.NewReader(data), "fuzz") })
		// The scanner's fast path and block boundaries must not change
		// what is read: compare with a plain reading, token by token, and
		// with reads of one byte at a time.
		want, wantLine := pagesReference(data)
		if !equalAccesses(got, want) {
			t.Fatalf("read %v, the reference reads %v", got, want)
		}
		var pe *ParseError
		if (err != nil) != (wantLine > 0) || err != nil && (!errors.As(err, &pe) || pe.Line != wantLine) {
			t.Fatalf("error %v, the reference's is at line %d", err, wantLine)
		}
		bytewise, err2 := drain(t, NewPagesReader(iotest.OneByteReader(bytes.NewReader(data)), "fuzz"), 1000)
		if !equalAccesses(got, bytewise) || (err == nil) != (err2 == nil) {
			t.Fatalf("read a byte at a time: %v (%v), at once: %v (%v)", bytewise, err2, got, err)
		}
		if err != nil {
			return
		}
		back := roundTrip(t, FormatPages, got, func(r io.Reader) Reader { return NewPagesReader(r, "rt") })
		if !equalAccesses(got, back) {
			t.Fatalf("round trip changed the trace: %v -> %v", got, back)
		}
	})
}

// pagesReference reads the pages format the plain way: line by line,
// comments cut, tokens split at separators and parsed one by one. It
// returns the accesses before the first bad token and that token's line (0
// if none).
func pagesReference(data []byte) ([]Access, int) {
	var out []Access
	data = bytes.TrimPrefix(data, []byte(utf8BOM))
	for i, line := range bytes.Split(data, []byte("\n")) {
		if j := bytes.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		for len(line) > 0 {
			k := 0
			for k < len(line) && !isSep(line[k]) {
				k++
			}
			if k > 0 {
				a, ok := parsePagesToken(line[:k])
				if !ok {
					return out, i + 1
				}
				out = append(out, a)
			}
			line = line[min(k+1, len(line)):]
		}
	}
	return out, 0
}

func FuzzRWReader(f *testing.F) {
	addSeeds(f, ".rw", []byte(""), []byte("R 0x1000"), []byte("w 18446744073709551615 # end\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		newRW := func(r io.Reader) Reader {
			rw, err := NewRWReader(r, "fuzz", 0)
			if err != nil {
				t.Fatal(err)
			}
			return rw
		}
		got, err := drainBoth(t, func() Reader { return newRW(bytes.NewReader(data)) })
		if err != nil {
			return
		}
		back := roundTrip(t, FormatRW, got, newRW)
		if !equalAccesses(got, back) {
			t.Fatalf("round trip changed the trace: %v -> %v", got, back)
		}
	})
}

func FuzzLackeyReader(f *testing.F) {
	addSeeds(f, ".lackey", []byte(""), []byte(" M 1ffe,4\n"), []byte("==1== x\nI  0,1\n S ffffffffffffffff,1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, noInstr := range []bool{false, true} {
			newLackey := func() Reader {
				l, err := NewLackeyReader(bytes.NewReader(data), "fuzz", &LackeyOptions{NoInstr: noInstr})
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			got, err := drainBoth(t, newLackey)
			if err != nil {
				continue
			}
			back := roundTrip(t, FormatVMT, got, func(r io.Reader) Reader { return NewVMTReader(r, "rt") })
			if !equalAccesses(got, back) {
				t.Fatalf("round trip through vmt changed the trace: %v -> %v", got, back)
			}
		}
	})
}

func FuzzOracleReader(f *testing.F) {
	addSeeds(f, ".oracle", []byte(""), oracleBytes(oracleRec{0, 1, 1, -1}), oracleBytes(oracleRec{0, 1, 1, 3}, oracleRec{0, 2, 1, -1}, oracleRec{0, 1, 1, 1 << 62}))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := drainBoth(t, func() Reader { return NewOracleReader(bytes.NewReader(data), "fuzz") })
		for _, a := range got {
			if a.Write {
				t.Fatalf("an oracle access writes")
			}
		}
		if err != nil {
			return
		}
		// The writer computes the next uses: they must be the true ones.
		var buf bytes.Buffer
		w, err := NewOracleWriter(&buf, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Write(got); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		back, next, err := ReadAllNext(NewOracleReader(&buf, "rt"))
		if err != nil {
			t.Fatalf("reading back what the oracle writer wrote: %v", err)
		}
		if !equalAccesses(got, back) {
			t.Fatalf("round trip changed the trace: %v -> %v", got, back)
		}
		for i, a := range back {
			j := next[i]
			if j == NoNext {
				for _, b := range back[i+1:] {
					if b.Page == a.Page {
						t.Fatalf("access %d: next use NoNext, but page %d comes again", i, a.Page)
					}
				}
				continue
			}
			if j <= uint64(i) || j >= uint64(len(back)) || back[j].Page != a.Page {
				t.Fatalf("access %d: next use %d is not the next access of page %d", i, j, a.Page)
			}
			for _, b := range back[i+1 : j] {
				if b.Page == a.Page {
					t.Fatalf("access %d: next use %d skips an access of page %d", i, j, a.Page)
				}
			}
		}
	})
}

func FuzzVMTReader(f *testing.F) {
	addSeeds(f, ".vmt", []byte(""), []byte(VMTMagic), vmtBytes(hdr4k()), vmtBytes(counted(1), vmtEscape|1, 1<<64-1),
		vmtBytes(dense(), vmtNew, 9, vmtNew|1, 1<<64-1, 1<<1|1, 0))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := drainBoth(t, func() Reader { return NewVMTReader(bytes.NewReader(data), "fuzz") })
		if err != nil {
			return
		}
		back := roundTrip(t, FormatVMT, got, func(r io.Reader) Reader { return NewVMTReader(r, "rt") })
		if !equalAccesses(got, back) {
			t.Fatalf("round trip changed the trace: %v -> %v", got, back)
		}
	})
}

// FuzzNewReader runs detection and decompression on arbitrary input.
func FuzzNewReader(f *testing.F) {
	for _, ext := range []string{".pages", ".rw", ".lackey", ".oracle", ".vmt"} {
		addSeeds(f, ext)
	}
	f.Add([]byte(gzipMagic + "\x08\x00"))
	f.Add([]byte(zstdMagic))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, c, err := NewReader(bytes.NewReader(data), "fuzz", nil)
		if err != nil {
			if r != nil || c != nil {
				t.Fatalf("NewReader returned a reader and an error together: %v", err)
			}
			return
		}
		defer c.Close()
		buf := make([]Access, 100)
		for {
			n, err := r.Read(buf)
			if n > 0 && err != nil {
				t.Fatalf("Read returned %d accesses and an error together: %v", n, err)
			}
			if n == 0 && err == nil {
				t.Fatalf("Read returned neither accesses nor an error")
			}
			if err != nil {
				return
			}
		}
	})
}
