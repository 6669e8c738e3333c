package pager

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/traces"
	"vmsim/vm/arch"
)

func accessesOf(t *Trace) []traces.Access {
	as := make([]traces.Access, t.Len())
	for i := range as {
		as[i] = traces.Access{Page: t.PageNum(t.pages[i]), Write: t.writes[i]}
	}
	return as
}

// nextReader supplies next uses, as the oracle format does.
type nextReader struct {
	traces.Reader
	next []uint64
}

func (n *nextReader) ReadNext(buf []traces.Access, next []uint64) (int, error) {
	k, err := n.Read(buf)
	copy(next, n.next[:k])
	n.next = n.next[k:]
	return k, err
}

// TestStreamMatchesSweep: decoding once and feeding chunks to every
// configuration in parallel gives what separate runs give.
func TestStreamMatchesSweep(t *testing.T) {
	ctx := context.Background()
	tr := randomTrace(3, 20_000, 500, 0.3)
	var cfgs []Config
	for _, name := range Policies() {
		for _, frames := range []int{1, 16, 200} {
			cfgs = append(cfgs, Config{Policy: name, Frames: frames, Options: Options{Seed: 9}})
		}
	}
	want, err := Sweep(ctx, []*Trace{tr}, cfgs, 1)
	require.NoError(t, err)
	for _, tc := range []struct {
		name  string
		opts  StreamOptions
		next  bool
		nonly bool // only policies that do not need next uses
	}{
		{"one worker, odd chunks", StreamOptions{Workers: 1, ChunkSize: 777}, false, false},
		{"three workers, tiny chunks", StreamOptions{Workers: 3, ChunkSize: 64}, false, false},
		{"next uses from the reader", StreamOptions{Workers: 2, ChunkSize: 1000}, true, false},
		{"streaming without opt", StreamOptions{Workers: 2, ChunkSize: 4096}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var r traces.Reader = traces.FromSlice(accessesOf(tr))
			if tc.next {
				r = &nextReader{Reader: r, next: NextUses(tr.pages, tr.Distinct())}
			}
			use, exp := cfgs, want
			if tc.nonly {
				use, exp = nil, nil
				for i, c := range cfgs {
					if c.Policy != "opt" {
						use, exp = append(use, c), append(exp, want[i])
					}
				}
			}
			var progress uint64
			tc.opts.Progress = func(n uint64) { progress = n }
			got, err := Stream(ctx, tr.Name(), r, use, &tc.opts)
			require.NoError(t, err)
			assert.Equal(t, exp, got)
			assert.Equal(t, uint64(tr.Len()), progress)
		})
	}
}

// TestStreamDenseTrace: a vmt trace, whose ids are dense, replays without
// the engine's own numbering and counts the same.
func TestStreamDenseTrace(t *testing.T) {
	ctx := context.Background()
	tr := randomTrace(8, 30_000, 700, 0.3)
	var buf bytes.Buffer
	w, err := traces.NewVMTWriter(&buf, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(accessesOf(tr)))
	require.NoError(t, w.Close())
	var cfgs []Config
	for _, name := range []string{"fifo", "lru", "clock", "arc", "s3fifo"} {
		cfgs = append(cfgs, Config{Policy: name, Frames: 64})
	}
	want, err := Sweep(ctx, []*Trace{tr}, cfgs, 1)
	require.NoError(t, err)
	r := traces.NewVMTReader(bytes.NewReader(buf.Bytes()), tr.Name())
	got, err := Stream(ctx, tr.Name(), r, cfgs, &StreamOptions{ChunkSize: 1000})
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

type failingReader struct{ n int }

var errBroken = errors.New("broken trace")

func (f *failingReader) Read(buf []traces.Access) (int, error) {
	if f.n == 0 {
		return 0, errBroken
	}
	f.n--
	buf[0] = traces.Access{Page: arch.PageNum(f.n)}
	return 1, nil
}

func TestStreamReportsReadErrors(t *testing.T) {
	ctx := context.Background()
	_, err := Stream(ctx, "x", &failingReader{n: 5}, []Config{{Policy: "lru", Frames: 2}, {Policy: "fifo", Frames: 2}}, nil)
	assert.ErrorIs(t, err, errBroken)
	_, err = Stream(ctx, "x", &failingReader{n: 5}, []Config{{Policy: "opt", Frames: 2}}, nil)
	assert.ErrorIs(t, err, errBroken)
	_, err = Stream(ctx, "x", &failingReader{}, []Config{{Policy: "nope", Frames: 2}}, nil)
	assert.ErrorIs(t, err, ErrUnknownPolicy)
}

// TestLoadSizesOnce: a reader that knows its count gets slices of exactly
// that size, never grown (opt's memory stays within 16 bytes per access).
func TestLoadSizesOnce(t *testing.T) {
	ctx := context.Background()
	tr := randomTrace(2, 5000, 100, 0.2)
	var buf bytes.Buffer
	w, err := traces.NewVMTWriter(&buf, &traces.WriterOptions{Count: uint64(tr.Len())})
	require.NoError(t, err)
	require.NoError(t, w.Write(accessesOf(tr)))
	require.NoError(t, w.Close())
	got, err := Load(ctx, "sized", traces.NewVMTReader(&buf, "sized"), nil)
	require.NoError(t, err)
	assert.Equal(t, tr.pages, got.pages)
	assert.Equal(t, tr.Len(), cap(got.pages))
	assert.Equal(t, tr.Len(), cap(got.writes))
}
