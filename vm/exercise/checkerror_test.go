package exercise

import (
	"bytes"
	"context"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFailedChecksAreNamedApart: the error of a failed exercise names its
// failed checks one by one, and separates them in its message (names have
// spaces in them).
func TestFailedChecksAreNamedApart(t *testing.T) {
	privateChild := func(args []string) (*exec.Cmd, error) { return spawnSelf(append(args, "--private")) }
	var out bytes.Buffer
	err := SharedFile(context.Background(), &out, &ShareOptions{Spawn: privateChild})
	require.ErrorIs(t, err, ErrCheck)
	var ce *CheckError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "shared-file", ce.Exercise)
	// The private child still sees the parent's 'b': it has not written
	// page 2, so it reads the page cache.
	assert.Equal(t, []string{
		"the child mapped it the same way",
		"the parent saw the child's 'c' on page 1",
		"file page 1 is all 'c'",
	}, ce.Failed)
	assert.Contains(t, err.Error(), `exercise shared-file: 3 checks failed: "the child mapped it the same way", "the parent saw the child's 'c' on page 1", "file page 1 is all 'c'"`)
}
