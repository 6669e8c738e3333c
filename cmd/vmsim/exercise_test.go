package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSharedExercisesCommands(t *testing.T) {
	page := strconv.Itoa(os.Getpagesize())
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"shared file", []string{"exercise", "shared-file"}, []string{"child: page 1: aaaaaaaaaa", "child: page 2: bbbbbbbbbb", "parent: page 1: cccccccccc", "file: page 1: " + page + " × 'c'", "file: page 2: " + page + " × 'b'"}},
		{"private file", []string{"exercise", "shared-file", "--private"}, []string{"child: page 2: aaaaaaaaaa", "parent: page 1: aaaaaaaaaa", "file: page 1: " + page + " × 'a'", "check: file keeps its 'a's: ok"}},
		{"shared anonymous", []string{"exercise", "shared-anon"}, []string{"fd = memfd_create(", "child: page 2: bbbbbbbbbb", "parent: page 1: cccccccccc", "memory: page 1: " + page + " × 'c'"}},
		{"private anonymous", []string{"exercise", "shared-anon", "--private"}, []string{"child: page 2: aaaaaaaaaa", "parent: page 1: aaaaaaaaaa", "check: memory keeps its 'a's: ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := vmsim(t, tt.args...)
			require.Equal(t, 0, code, errOut)
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			assert.NotContains(t, out, "FAILED")
			assert.Contains(t, out, "Why:")
		})
	}
}

func TestSharedFileFlags(t *testing.T) {
	_, errOut, code := vmsim(t, "exercise", "shared-file", "--file", "a", "--peer", "a")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "--file and --peer cannot go together")

	_, errOut, code = vmsim(t, "exercise", "shared-file", "--peer", filepath.Join(t.TempDir(), "nobody"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no parent process is waiting")
}

// TestSharedFileTwoProcesses starts the two sides by hand, as two terminals
// would: two separate vmsim processes that meet only through the file's
// path.
func TestSharedFileTwoProcesses(t *testing.T) {
	tests := []struct {
		name         string
		flags        []string
		page1, page2 byte
		peerPage2    string
		parentPage1  string
	}{
		{"shared", nil, 'c', 'b', "bbbbbbbbbb", "cccccccccc"},
		{"private", []string{"--private"}, 'a', 'a', "aaaaaaaaaa", "aaaaaaaaaa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "shared")
			parent := vmsimCommand(append([]string{"exercise", "shared-file", "--file", file}, tt.flags...)...)
			stdout, err := parent.StdoutPipe()
			require.NoError(t, err)
			var parentErr bytes.Buffer
			parent.Stderr = &parentErr
			require.NoError(t, parent.Start())
			t.Cleanup(func() { parent.Process.Kill(); parent.Wait() })

			// Read the parent's output until it says it waits.
			var parentOut strings.Builder
			sc := bufio.NewScanner(stdout)
			waiting := false
			for sc.Scan() {
				parentOut.WriteString(sc.Text() + "\n")
				if strings.Contains(sc.Text(), "vmsim exercise shared-file --peer "+file) {
					waiting = true
					break
				}
			}
			if !waiting {
				parent.Wait() // stderr is complete only after Wait
				require.FailNow(t, "the parent never waited", "%s%s", parentOut.String(), parentErr.String())
			}

			peer := vmsimCommand(append([]string{"exercise", "shared-file", "--peer", file}, tt.flags...)...)
			peerOut, err := peer.CombinedOutput()
			require.NoError(t, err, "%s", peerOut)
			assert.Contains(t, string(peerOut), "peer: page 2: "+tt.peerPage2)

			for sc.Scan() {
				parentOut.WriteString(sc.Text() + "\n")
			}
			require.NoError(t, sc.Err())
			done := make(chan error, 1)
			go func() { done <- parent.Wait() }()
			select {
			case err := <-done:
				require.NoError(t, err, "%s%s", parentOut.String(), parentErr.String())
			case <-time.After(20 * time.Second):
				require.FailNow(t, "the parent did not finish")
			}
			assert.Contains(t, parentOut.String(), "peer: page 1: aaaaaaaaaa")
			assert.Contains(t, parentOut.String(), "peer: page 2: "+tt.peerPage2)
			assert.Contains(t, parentOut.String(), "parent: page 1: "+tt.parentPage1)
			assert.NotContains(t, parentOut.String(), "FAILED")

			got, err := os.ReadFile(file)
			require.NoError(t, err)
			ps := len(got) / 2
			assert.Equal(t, append(bytes.Repeat([]byte{tt.page1}, ps), bytes.Repeat([]byte{tt.page2}, ps)...), got)
		})
	}
}

func TestBeyondEOFCommand(t *testing.T) {
	ps := os.Getpagesize()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"default: SIGBUS on page 2", nil, 0, "check: page 2, wholly past the end of the file, raises SIGBUS: ok (SIGBUS at p + " + strconv.Itoa(ps) + ")"},
		{"empty file", []string{"--size", "0"}, 0, "check: page 1, wholly past the end of the file, raises SIGBUS: ok (SIGBUS at p + 0)"},
		{"size too big is bad usage", []string{"--size", strconv.Itoa(2*ps + 1)}, 2, "must be from 0 to"},
		{"negative size is bad usage", []string{"--size", "-1"}, 2, "must be from 0 to"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := vmsim(t, append([]string{"exercise", "beyond-eof"}, tt.args...)...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, out+errOut, tt.want)
		})
	}
}
