package traces

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

func readLackey(t *testing.T, s string, opts *LackeyOptions) ([]Access, error) {
	t.Helper()
	r, err := NewLackeyReader(strings.NewReader(s), "t.lackey", opts)
	require.NoError(t, err)
	return ReadAll(r)
}

func TestLackeyReader(t *testing.T) {
	tests := []struct {
		name string
		in   string
		opts *LackeyOptions
		want []Access
	}{
		{"one of each kind", "I  04001000,3\n L 04002000,8\n S 04003000,8\n M 04004000,4\n",
			nil, []Access{{0x4001, false}, {0x4002, false}, {0x4003, true}, {0x4004, false}, {0x4004, true}}},
		{"valgrind lines are skipped", "==12== Lackey\n==12== \n L 1000,1\n--12-- debug\n==12== Exit code: 0\n",
			nil, []Access{{1, false}}},
		{"a load across a page boundary touches both pages", " L 1ffc,8", nil, []Access{{1, false}, {2, false}}},
		{"a modify across a boundary reads both, then writes both", " M 2ffe,4", nil,
			[]Access{{2, false}, {3, false}, {2, true}, {3, true}}},
		{"last byte of a page stays in it", " S 1ff8,8", nil, []Access{{1, true}}},
		{"instruction fetches dropped", "I  1000,4\n L 2000,4\nI  3000,2\n S 4000,4", &LackeyOptions{NoInstr: true},
			[]Access{{2, false}, {4, true}}},
		{"page size 64 KiB", " L 1ffff,2", &LackeyOptions{PageSize: 64 << 10}, []Access{{1, false}, {2, false}}},
		{"16-digit address", " S ffffffffffffffff,1", nil, []Access{{1<<52 - 1, true}}},
		{"extra spaces", "I   1000,3  \n\t L\t2000,1", nil, []Access{{1, false}, {2, false}}},
		{"indented instruction fetch", " I  1000,3", nil, []Access{{1, false}}},
		{"empty", "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLackey(t, tt.in, tt.opts)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestLackeyReaderErrors(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		line  int
		token string
		good  int
		want  string
	}{
		{"unknown kind", " L 1000,1\n X 1000,1", 2, " X 1000,1", 1, "expected I, L, S or M"},
		{"no comma", " L 1000", 1, " L 1000", 0, "expected I, L, S or M"},
		{"0x prefix", " L 0x1000,1", 1, " L 0x1000,1", 0, "expected I, L, S or M"},
		{"bad size", " S 1000,x", 1, " S 1000,x", 0, "expected I, L, S or M"},
		{"zero size", " S 1000,0", 1, " S 1000,0", 0, "expected SIZE between 1 and 65536"},
		{"huge size", " S 1000,65537", 1, " S 1000,65537", 0, "expected SIZE between 1 and 65536"},
		{"wraps the address space", " S ffffffffffffffff,2", 1, " S ffffffffffffffff,2", 0, "within 64 bits"},
		{"program output in the trace", "I  1000,1\nhello\n", 2, "hello", 1, "expected I, L, S or M"},
		{"bad instruction line with --no-instr", "I  zz,1", 1, "I  zz,1", 0, "expected I, L, S or M"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readLackey(t, tt.in, &LackeyOptions{NoInstr: strings.Contains(tt.name, "no-instr")})
			var pe *ParseError
			require.ErrorAs(t, err, &pe)
			assert.ErrorIs(t, err, ErrSyntax)
			assert.Equal(t, tt.line, pe.Line)
			assert.Equal(t, tt.token, pe.Token)
			assert.Len(t, got, tt.good)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestLackeyReaderSplitsRecordsAcrossBatches(t *testing.T) {
	// A modify across a boundary gives 4 accesses; read them one at a time.
	r, err := NewLackeyReader(strings.NewReader(" M 2ffe,4\n L 5000,1\n"), "x", nil)
	require.NoError(t, err)
	var got []Access
	buf := make([]Access, 1)
	for {
		n, err := r.Read(buf)
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		require.Equal(t, 1, n)
		got = append(got, buf[0])
	}
	assert.Equal(t, []Access{{2, false}, {3, false}, {2, true}, {3, true}, {5, false}}, got)
}

func TestLackeyReaderTestdata(t *testing.T) {
	tests := []struct {
		name    string
		noInstr bool
		want    []Access
	}{
		{"all", false, []Access{{0x4001, false}, {0x4002, false}, {0x4003, false}, {0x1fff000, true},
			{0x4003, false}, {0x4003, true}, {0x4001, false}}},
		{"no instructions", true, []Access{{0x4002, false}, {0x4003, false}, {0x1fff000, true},
			{0x4003, false}, {0x4003, true}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := os.Open("testdata/small.lackey")
			require.NoError(t, err)
			t.Cleanup(func() { f.Close() })
			r, err := NewLackeyReader(f, "small.lackey", &LackeyOptions{NoInstr: tt.noInstr})
			require.NoError(t, err)
			got, err := ReadAll(r)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// lackeyCount counts the records of each kind of a lackey trace.
func lackeyCount(t *testing.T, path string) map[byte]int {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	counts := map[byte]int{}
	for _, line := range strings.Split(string(data), "\n") {
		s := strings.TrimLeft(line, " ")
		if s == "" || strings.HasPrefix(line, "==") {
			continue
		}
		counts[s[0]]++
	}
	return counts
}

// TestLackeyRealProgram traces /bin/true under valgrind and reads the trace.
func TestLackeyRealProgram(t *testing.T) {
	valgrind := vmtest.RequireTool(t, "valgrind", "valgrind")
	path := filepath.Join(t.TempDir(), "true.lackey")
	out, err := exec.Command(valgrind, "--tool=lackey", "--trace-mem=yes", "--log-file="+path, "/bin/true").CombinedOutput()
	require.NoError(t, err, "valgrind: %s", out)
	counts := lackeyCount(t, path)
	require.Positive(t, counts['I'], "instruction fetches")
	require.Positive(t, counts['L'], "loads")
	require.Positive(t, counts['S'], "stores")

	read := func(noInstr bool) (reads, writes int) {
		f, err := os.Open(path)
		require.NoError(t, err)
		defer f.Close()
		r, err := NewLackeyReader(f, path, &LackeyOptions{NoInstr: noInstr})
		require.NoError(t, err)
		buf := make([]Access, 1000)
		for {
			n, err := r.Read(buf)
			if err == io.EOF {
				return reads, writes
			}
			require.NoError(t, err)
			for _, a := range buf[:n] {
				if a.Write {
					writes++
				} else {
					reads++
				}
			}
		}
	}
	reads, writes := read(false)
	dataReads, dataWrites := read(true)

	// Every record is at least one access (more if it crosses a page).
	assert.GreaterOrEqual(t, reads, counts['I']+counts['L']+counts['M'])
	assert.GreaterOrEqual(t, writes, counts['S']+counts['M'])
	assert.Equal(t, writes, dataWrites, "dropping fetches keeps every write")
	assert.GreaterOrEqual(t, reads-dataReads, counts['I'], "dropping fetches drops at least one read per I record")
	assert.GreaterOrEqual(t, dataReads, counts['L']+counts['M'], "loads remain")
	// Crossing records are rare: the counts are close to the record counts.
	assert.Less(t, reads+writes, 2*(counts['I']+counts['L']+counts['S']+2*counts['M']))
}

func TestLackeyReaderBadPageSize(t *testing.T) {
	_, err := NewLackeyReader(strings.NewReader(""), "x", &LackeyOptions{PageSize: arch.PageSize(100)})
	assert.ErrorIs(t, err, ErrPageSize)
}
