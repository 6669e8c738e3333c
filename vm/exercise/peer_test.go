package exercise

import (
	"bytes"
	"context"
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

// foreignPeer is the other process of shared-file --file written by
// someone else: a C program that maps the file, reads it, fills page 1
// with 'c' and closes the FIFO without a word.
const foreignPeer = `#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
int main(int argc, char **argv) {
	char fifo[4096];
	snprintf(fifo, sizeof fifo, "%s.peer", argv[1]);
	int w = open(fifo, O_WRONLY | O_NONBLOCK);
	int fd = open(argv[1], O_RDWR);
	long ps = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (w < 0 || fd < 0 || p == MAP_FAILED)
		return 1;
	printf("%.10s %.10s\n", p, p + ps);
	memset(p, 'c', ps);
	munmap(p, 2 * ps);
	close(w);
	return 0;
}
`

// TestSharedFileAnyPeer: "the other process can be any process": a peer
// that is not vmsim sends no report; the parent goes on, prints page 1
// and checks the file.
func TestSharedFileAnyPeer(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "peer.c")
	require.NoError(t, os.WriteFile(src, []byte(foreignPeer), 0o644))
	peer := filepath.Join(dir, "peer")
	out, err := exec.Command("cc", "-o", peer, src).CombinedOutput()
	require.NoError(t, err, "%s", out)

	file := filepath.Join(dir, "shared")
	parentOut, done := startWaitingParent(t, context.Background(), file, false)
	peerOut, err := exec.Command(peer, file).CombinedOutput()
	require.NoError(t, err, "%s", peerOut)
	assert.Equal(t, "aaaaaaaaaa bbbbbbbbbb\n", string(peerOut), "the peer saw the parent's 'b'")
	require.NoError(t, <-done, parentOut.String())
	got := parentOut.String()
	assert.Contains(t, got, "peer: (no report: the peer is not vmsim;")
	assert.Contains(t, got, "parent: page 1: cccccccccc")
	assert.Contains(t, got, "check: the parent saw the peer's 'c' on page 1: ok")
	assert.Contains(t, got, "check: file page 1 is all 'c': ok")
	assert.Contains(t, got, "check: file page 2 is all 'b': ok")
	assert.NotContains(t, got, "FAILED")
	ps := int(arch.SystemPageSize())
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	assert.Equal(t, append(bytes.Repeat([]byte{'c'}, ps), bytes.Repeat([]byte{'b'}, ps)...), b)
	_, err = os.Stat(file + ".peer")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestSharedFileMixedPeers: a parent and a peer that map the file
// differently are a lesson, not a failure: each side says what it saw and
// why, and the checks hold what the kernel does.
func TestSharedFileMixedPeers(t *testing.T) {
	ps := int(arch.SystemPageSize())
	tests := []struct {
		name                   string
		parentPrivate, private bool
		peerPage2, parentPage1 string
		page1, page2           byte
		lesson                 string
	}{
		{"a shared parent and a private peer", false, true, "bbbbbbbbbb", "aaaaaaaaaa", 'a', 'b',
			"The parent maps the file MAP_SHARED and the peer MAP_PRIVATE"},
		{"a private parent and a shared peer", true, false, "aaaaaaaaaa", "cccccccccc", 'c', 'a',
			"The parent maps the file MAP_PRIVATE and the peer MAP_SHARED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "shared")
			parentOut, done := startWaitingParent(t, context.Background(), file, tt.parentPrivate)
			var peerOut bytes.Buffer
			assert.NoError(t, SharedFilePeer(context.Background(), &peerOut, file, tt.private), peerOut.String())
			assert.Contains(t, peerOut.String(), "peer: page 2: "+tt.peerPage2)
			assert.NotContains(t, peerOut.String(), "FAILED")
			assert.NoError(t, <-done, parentOut.String())
			got := parentOut.String()
			assert.Contains(t, got, "parent: page 1: "+tt.parentPage1)
			assert.NotContains(t, got, "FAILED")
			assert.Contains(t, strings.Join(strings.Fields(got), " "), tt.lesson)
			b, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, append(bytes.Repeat([]byte{tt.page1}, ps), bytes.Repeat([]byte{tt.page2}, ps)...), b, "what the kernel does with mixed mappings")
		})
	}
}
