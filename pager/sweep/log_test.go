package sweep

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOpenLogStartsAFile: a file that does not exist is created empty (its
// directory too), and
// what is appended is there, whole lines, once the log is closed.
func TestOpenLogStartsAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "results", "r.jsonl")
	l, got, err := OpenLog(path)
	require.NoError(t, err)
	assert.Empty(t, got.Records)
	assert.Zero(t, got.Torn)
	recs := testRecords(t)
	r0, err := ParseRecord(bytes.TrimSpace(recs[0]))
	require.NoError(t, err)
	r1, err := ParseRecord(bytes.TrimSpace(recs[1]))
	require.NoError(t, err)
	require.NoError(t, l.Append([]Record{r0, r1}))
	require.NoError(t, l.Append(nil))
	require.NoError(t, l.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(recs[0])+string(recs[1]), string(b))
}

// TestOpenLogCutsATornLine: an incomplete last line is cut off, and the
// next record starts a line of its own: the file reads back whole.
func TestOpenLogCutsATornLine(t *testing.T) {
	recs := testRecords(t)
	path := filepath.Join(t.TempDir(), "r.jsonl")
	require.NoError(t, os.WriteFile(path, append(bytes.Clone(recs[0]), recs[1][:57]...), 0o644))
	l, got, err := OpenLog(path)
	require.NoError(t, err)
	assert.Equal(t, 2, got.Torn)
	require.Len(t, got.Records, 1)
	r1, err := ParseRecord(bytes.TrimSpace(recs[1]))
	require.NoError(t, err)
	require.NoError(t, l.Append([]Record{r1}))
	require.NoError(t, l.Close())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, string(recs[0])+string(recs[1]), string(b))
}

// TestOpenLogRefusesDamage: a bad line before the last is not appended
// to: the error names the file and line, and the file is left as it was.
func TestOpenLogRefusesDamage(t *testing.T) {
	recs := testRecords(t)
	path := filepath.Join(t.TempDir(), "r.jsonl")
	content := string(recs[0]) + "{\"job\": 1}\n" + string(recs[1])
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	_, _, err := OpenLog(path)
	assert.ErrorIs(t, err, ErrDamaged)
	assert.ErrorIs(t, err, ErrBadRecord)
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, path, pe.File)
	assert.Equal(t, 2, pe.Line)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, content, string(b))
}
