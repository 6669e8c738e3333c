package sweep

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
)

// testRecords are the records of testdata/records.jsonl, as lines.
func testRecords(t testing.TB) [][]byte {
	t.Helper()
	b, err := os.ReadFile("testdata/records.jsonl")
	require.NoError(t, err)
	lines := bytes.SplitAfter(b, []byte("\n"))
	require.Empty(t, lines[len(lines)-1], "the file ends with a newline")
	return lines[:len(lines)-1]
}

// TestRecordRoundTrip: a record written is the record read back, and its
// fields give its job back.
func TestRecordRoundTrip(t *testing.T) {
	j := aJob()
	st := pager.Stats{Accesses: 10, Reads: 6, Writes: 4, Hits: 5, Faults: 5, Evictions: 3, Writebacks: 2, ProtectionFaults: 1}
	r := NewRecord(j, st)
	line := r.AppendLine(nil)
	require.Equal(t, byte('\n'), line[len(line)-1])
	assert.Equal(t, 1, bytes.Count(line, []byte("\n")), "one line")
	got, err := ParseRecord(bytes.TrimSuffix(line, []byte("\n")))
	require.NoError(t, err)
	assert.Equal(t, r, got)
	assert.Equal(t, j, got.JobOf())
	assert.Equal(t, j.ID(), got.Job)
	assert.Equal(t, 0.5, got.MissRatio)
}

// TestRecordStartsAsReplayDoes: after the id come the fields of replay -o
// json, in its order, then the job's own.
func TestRecordStartsAsReplayDoes(t *testing.T) {
	line := string(NewRecord(aJob(), pager.Stats{}).AppendLine(nil))
	var at []int
	for _, k := range []string{"job", "trace", "policy", "frames", "mode", "accesses", "reads", "writes", "hits", "faults", "evictions", "writebacks", "protection_faults", "miss_ratio", "sha256", "seed", "tick", "tau", "format", "page_size", "no_instr", "limit"} {
		i := strings.Index(line, `"`+k+`":`)
		require.GreaterOrEqual(t, i, 0, "field %s in %s", k, line)
		at = append(at, i)
	}
	assert.IsIncreasing(t, at)
}

func TestParseRecordRefusesDamage(t *testing.T) {
	good := string(bytes.TrimSuffix(testRecords(t)[2], []byte("\n")))
	_, err := ParseRecord([]byte(good))
	require.NoError(t, err, "the base line is good")
	for _, tt := range []struct{ name, old, new string }{
		{"a line cut short", `"limit":100}`, `"limit":1`},
		{"not an object", good, `[1,2]`},
		{"a field missing", `"faults":5,`, ``},
		{"an unknown field", `"limit":100}`, `"limit":100,"extra":1}`},
		{"a field of the wrong type", `"frames":2`, `"frames":"2"`},
		{"a negative count", `"hits":5`, `"hits":-5`},
		{"an id that is not the fields'", `"job":"ceba7d5b62adf59f"`, `"job":"ceba7d5b62adf590"`},
		{"a changed option (the id no longer fits)", `"seed":7`, `"seed":8`},
		{"an id that is no id", `"job":"ceba7d5b62adf59f"`, `"job":"x"`},
		{"a hash that is no hash", `"sha256":"d1b2`, `"sha256":"D1B2`},
		{"an unknown policy", `"policy":"wsclock"`, `"policy":"belady"`},
		{"zero frames", `"frames":2`, `"frames":0`},
		{"real mode", `"mode":"sim"`, `"mode":"real"`},
		{"an unknown format", `"format":"rw"`, `"format":"csv"`},
		{"a page size not a power of two", `"page_size":8192`, `"page_size":8000`},
		{"reads and writes that do not add up", `"reads":6`, `"reads":7`},
		{"hits and faults that do not add up", `"hits":5`, `"hits":4`},
		{"more evictions than faults", `"evictions":3`, `"evictions":6`},
		{"more writebacks than evictions", `"writebacks":2`, `"writebacks":4`},
		{"more protection faults than writes", `"protection_faults":1`, `"protection_faults":5`},
		{"a miss ratio that is not faults / accesses", `"miss_ratio":0.5`, `"miss_ratio":0.6`},
		{"an empty trace name", `"trace":"w.rw"`, `"trace":""`},
		{"two objects on one line", `"limit":100}`, `"limit":100}{}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			line := strings.Replace(good, tt.old, tt.new, 1)
			require.NotEqual(t, good, line, "the damage applies")
			_, err := ParseRecord([]byte(line))
			assert.ErrorIs(t, err, ErrBadRecord)
		})
	}
}

// TestReadFindsWholeDamagedAndTornLines: Read keeps the good lines with
// their numbers, reports a bad line with its number, skips blank lines, and
// tells an incomplete last line apart, with the offset where it starts.
func TestReadFindsWholeDamagedAndTornLines(t *testing.T) {
	recs := testRecords(t)
	var file []byte
	file = append(file, recs[0]...)
	file = append(file, "\n"...) // line 2: blank
	file = append(file, `{"job":"bad"}`+"\n"...)
	file = append(file, recs[1]...)
	end := len(file)
	file = append(file, recs[2][:40]...)
	got, err := Read(bytes.NewReader(file), "r.jsonl")
	require.NoError(t, err)
	assert.Equal(t, []int{1, 4}, got.Lines)
	require.Len(t, got.Records, 2)
	assert.Equal(t, uint64(3), got.Records[0].Hits)
	require.Len(t, got.Damaged, 1)
	assert.Equal(t, "r.jsonl", got.Damaged[0].File)
	assert.Equal(t, 3, got.Damaged[0].Line)
	assert.ErrorIs(t, got.Damaged[0], ErrBadRecord)
	assert.Equal(t, 5, got.Torn)
	assert.Equal(t, int64(end), got.End)

	t.Run("a file that ends with a newline has no torn line", func(t *testing.T) {
		got, err := Read(bytes.NewReader(bytes.Join(recs, nil)), "r.jsonl")
		require.NoError(t, err)
		assert.Zero(t, got.Torn)
		assert.Len(t, got.Records, 3)
		assert.Equal(t, int64(len(bytes.Join(recs, nil))), got.End)
	})
	t.Run("a line too long is damaged, and the next is read", func(t *testing.T) {
		long := append(bytes.Repeat([]byte("x"), MaxLine+10), '\n')
		got, err := Read(bytes.NewReader(append(long, recs[0]...)), "r.jsonl")
		require.NoError(t, err)
		require.Len(t, got.Damaged, 1)
		assert.Equal(t, 1, got.Damaged[0].Line)
		assert.Equal(t, []int{2}, got.Lines)
		assert.Equal(t, int64(len(long)+len(recs[0])), got.End)
	})
}

// FuzzParseRecord: no input panics; a line either parses or fails with
// ErrBadRecord, never both; a line that parses is written back as a line
// that parses to the same record.
func FuzzParseRecord(f *testing.F) {
	for _, line := range testRecords(f) {
		f.Add(bytes.TrimSuffix(line, []byte("\n")))
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"job":"0000000000000000"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		r, err := ParseRecord(line)
		if err != nil {
			assert.ErrorIs(t, err, ErrBadRecord)
			assert.Zero(t, r)
			return
		}
		again, err := ParseRecord(bytes.TrimSuffix(r.AppendLine(nil), []byte("\n")))
		require.NoError(t, err)
		assert.Equal(t, r, again)
	})
}

// FuzzRead: whatever the bytes, Read accounts for every line: good ones,
// damaged ones and blank ones before End, and after End only the torn
// line, with no newline.
func FuzzRead(f *testing.F) {
	b, err := os.ReadFile("testdata/records.jsonl")
	require.NoError(f, err)
	f.Add(b)
	f.Add(b[:len(b)-30])
	f.Add([]byte("\n\n{}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Read(bytes.NewReader(data), "f")
		require.NoError(t, err)
		require.LessOrEqual(t, got.End, int64(len(data)))
		rest := data[got.End:]
		assert.NotContains(t, string(rest), "\n")
		assert.Equal(t, len(rest) > 0, got.Torn > 0)
		lines := bytes.Count(data[:got.End], []byte("\n"))
		assert.LessOrEqual(t, len(got.Records)+len(got.Damaged), lines)
		assert.Len(t, got.Lines, len(got.Records))
		if got.Torn > 0 {
			assert.Equal(t, lines+1, got.Torn)
		}
	})
}
