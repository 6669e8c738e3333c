package exercise

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

var (
	pidRE     = regexp.MustCompile(`pid \d+`)
	tmpFileRE = regexp.MustCompile(`"[^"]*/vmsim-shared-file-\d+/file"`)
)

// steps returns the output up to the course's questions, with addresses,
// process ids and temporary paths replaced by fixed words.
func steps(out string) []string {
	out, _, _ = strings.Cut(out, "\nThe course's questions")
	out = pidRE.ReplaceAllString(out, "pid N")
	out = tmpFileRE.ReplaceAllString(out, `"TMP/file"`)
	return lines(out)
}

// scenario is the part of the output the parent prints around the second
// process's lines, for one memory kind.
func scenario(open, write, flags, who string, child []string, parent1 string) []string {
	ps := strconv.Itoa(int(arch.SystemPageSize()))
	two := strconv.Itoa(2 * int(arch.SystemPageSize()))
	out := []string{open}
	if write != "" {
		out = append(out, write)
	}
	out = append(out, "write(fd, "+two+" × 'a')",
		"p = mmap(NULL, "+two+", PROT_READ|PROT_WRITE, "+flags+", fd, 0) = ADDR")
	if who == "child" {
		out = append(out, "fork(): the child (pid N) maps the same memory and waits on a pipe")
	}
	out = append(out, "parent: fill page 2 with 'b'")
	if who == "child" {
		out = append(out, "parent: write to the pipe to let the child go; wait(&status)")
	}
	for _, l := range child {
		out = append(out, who+": "+l)
	}
	_ = ps
	return append(out, "parent: page 1: "+parent1, "munmap(p, "+two+")")
}

func childLines(flags, page2 string) []string {
	two := strconv.Itoa(2 * int(arch.SystemPageSize()))
	return []string{
		"mmap(NULL, " + two + ", PROT_READ|PROT_WRITE, " + flags + ", fd, 0) = ADDR",
		"page 1: aaaaaaaaaa",
		"page 2: " + page2,
		"fill page 1 with 'c'",
		"exit",
	}
}

func TestSharedExercises(t *testing.T) {
	ps := int(arch.SystemPageSize())
	two := strconv.Itoa(2 * ps)
	pg := strconv.Itoa(ps)
	openFile := `fd = open("TMP/file", O_RDWR|O_CREAT|O_TRUNC, 0644)`
	openMemfd := `fd = memfd_create("vmsim-shared-anon", MFD_CLOEXEC); ftruncate(fd, ` + two + `)`
	tests := []struct {
		name    string
		run     func(context.Context, *bytes.Buffer, *ShareOptions) error
		private bool
		want    []string
	}{
		{
			name: "shared file: each process sees the other's write, the file gets both",
			run:  func(ctx context.Context, w *bytes.Buffer, o *ShareOptions) error { return SharedFile(ctx, w, o) },
			want: append(scenario(openFile, "", "MAP_SHARED", "child", childLines("MAP_SHARED", "bbbbbbbbbb"), "cccccccccc"),
				"pread(fd, buf, "+two+", 0): the file as read(2) sees it, after munmap",
				"file: page 1: "+pg+" × 'c'",
				"file: page 2: "+pg+" × 'b'",
				"check: the child mapped it the same way: ok (MAP_SHARED)",
				`check: the child read 'a' on page 1: ok ("aaaaaaaaaa")`,
				`check: the child saw the parent's 'b' on page 2: ok ("bbbbbbbbbb")`,
				`check: the parent saw the child's 'c' on page 1: ok ("cccccccccc")`,
				"check: file page 1 is all 'c': ok ("+pg+" × 'c')",
				"check: file page 2 is all 'b': ok ("+pg+" × 'b')",
			),
		},
		{
			name:    "private file: nobody sees anybody's write, the file keeps its a's",
			run:     func(ctx context.Context, w *bytes.Buffer, o *ShareOptions) error { return SharedFile(ctx, w, o) },
			private: true,
			want: append(scenario(openFile, "", "MAP_PRIVATE", "child", childLines("MAP_PRIVATE", "aaaaaaaaaa"), "aaaaaaaaaa"),
				"pread(fd, buf, "+two+", 0): the file as read(2) sees it, after munmap",
				"file: page 1: "+pg+" × 'a'",
				"file: page 2: "+pg+" × 'a'",
				"check: the child mapped it the same way: ok (MAP_PRIVATE)",
				`check: the child read 'a' on page 1: ok ("aaaaaaaaaa")`,
				`check: the child did not see the parent's 'b' on page 2: ok ("aaaaaaaaaa")`,
				`check: the parent did not see the child's 'c' on page 1: ok ("aaaaaaaaaa")`,
				"check: file keeps its 'a's: ok ("+two+" × 'a')",
			),
		},
		{
			name: "shared anonymous memory: a memfd passed to the child is shared like the file",
			run:  func(ctx context.Context, w *bytes.Buffer, o *ShareOptions) error { return SharedAnon(ctx, w, o) },
			want: append(scenario(openMemfd, "", "MAP_SHARED", "child", childLines("MAP_SHARED", "bbbbbbbbbb"), "cccccccccc"),
				"pread(fd, buf, "+two+", 0): the memory as read(2) sees it, after munmap",
				"memory: page 1: "+pg+" × 'c'",
				"memory: page 2: "+pg+" × 'b'",
				"check: the child mapped it the same way: ok (MAP_SHARED)",
				`check: the child read 'a' on page 1: ok ("aaaaaaaaaa")`,
				`check: the child saw the parent's 'b' on page 2: ok ("bbbbbbbbbb")`,
				`check: the parent saw the child's 'c' on page 1: ok ("cccccccccc")`,
				"check: memory page 1 is all 'c': ok ("+pg+" × 'c')",
				"check: memory page 2 is all 'b': ok ("+pg+" × 'b')",
			),
		},
		{
			name:    "private anonymous memory: copies on write, as across fork",
			run:     func(ctx context.Context, w *bytes.Buffer, o *ShareOptions) error { return SharedAnon(ctx, w, o) },
			private: true,
			want: append(scenario(openMemfd, "", "MAP_PRIVATE", "child", childLines("MAP_PRIVATE", "aaaaaaaaaa"), "aaaaaaaaaa"),
				"pread(fd, buf, "+two+", 0): the memory as read(2) sees it, after munmap",
				"memory: page 1: "+pg+" × 'a'",
				"memory: page 2: "+pg+" × 'a'",
				"check: the child mapped it the same way: ok (MAP_PRIVATE)",
				`check: the child read 'a' on page 1: ok ("aaaaaaaaaa")`,
				`check: the child did not see the parent's 'b' on page 2: ok ("aaaaaaaaaa")`,
				`check: the parent did not see the child's 'c' on page 1: ok ("aaaaaaaaaa")`,
				"check: memory keeps its 'a's: ok ("+two+" × 'a')",
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := tt.run(context.Background(), &out, &ShareOptions{Spawn: spawnSelf, Private: tt.private})
			require.NoError(t, err, out.String())
			assert.Equal(t, tt.want, steps(out.String()))
			assert.Contains(t, out.String(), "\nThe course's questions, answered by this run:\n")
			assert.Contains(t, out.String(), "\nWhy:\n")

			// The child is another process, not a goroutine of this one.
			m := regexp.MustCompile(`the child \(pid (\d+)\)`).FindStringSubmatch(out.String())
			require.Len(t, m, 2)
			assert.NotEqual(t, strconv.Itoa(os.Getpid()), m[1])
		})
	}
}

func TestSharedFileLeavesNoTemporaryFile(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, SharedFile(context.Background(), &out, &ShareOptions{Spawn: spawnSelf}))
	m := regexp.MustCompile(`open\("([^"]+)"`).FindStringSubmatch(out.String())
	require.Len(t, m, 2)
	_, err := os.Stat(filepath.Dir(m[1]))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

// TestSharedChecksCanFail gives the parent a child that maps the memory
// the other way: the checks must catch it.
func TestSharedChecksCanFail(t *testing.T) {
	privateChild := func(args []string) (*exec.Cmd, error) { return spawnSelf(append(args, "--private")) }
	var out bytes.Buffer
	err := SharedFile(context.Background(), &out, &ShareOptions{Spawn: privateChild})
	require.ErrorIs(t, err, ErrCheck)
	assert.Contains(t, out.String(), "check: the child mapped it the same way: FAILED (MAP_PRIVATE, want MAP_SHARED")
	assert.Contains(t, out.String(), `check: the parent saw the child's 'c' on page 1: FAILED ("aaaaaaaaaa")`)
	assert.Contains(t, out.String(), "check: file page 2 is all 'b': ok", "the parent's own write still reached the file")
}

func TestSharedChildFailureIsAnError(t *testing.T) {
	errSpawn := errors.New("no executable")
	var exitErr *exec.ExitError
	tests := []struct {
		name  string
		spawn Spawner
		is    error
		as    any
		want  string
	}{
		{"no spawner", nil, ErrNoSpawner, nil, ""},
		{"the spawner fails", func([]string) (*exec.Cmd, error) { return nil, errSpawn }, errSpawn, nil, "start the child"},
		{"the child fails", func([]string) (*exec.Cmd, error) {
			return spawnSelf([]string{"shared-file", "--file", "/nonexistent/file"})
		},
			ErrSecondProcess, &exitErr, "open /nonexistent/file: no such file or directory"},
		{"the child exits at once", func([]string) (*exec.Cmd, error) { return exec.Command("true"), nil }, ErrSecondProcess, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := SharedFile(context.Background(), &out, &ShareOptions{Spawn: tt.spawn})
			require.Error(t, err)
			assert.ErrorIs(t, err, tt.is)
			assert.NotErrorIs(t, err, ErrCheck, "a failure is not a failed check")
			if tt.as != nil {
				assert.ErrorAs(t, err, tt.as)
			}
			if tt.want != "" {
				assert.Contains(t, err.Error(), tt.want, "the message says why")
			}
		})
	}
}

// watcher is an io.Writer that closes seen when marker has been written.
type watcher struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	seen   chan struct{}
}

func newWatcher(marker string) *watcher {
	return &watcher{marker: marker, seen: make(chan struct{})}
}

func (w *watcher) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	before := strings.Contains(w.buf.String(), w.marker)
	w.buf.Write(b)
	if !before && strings.Contains(w.buf.String(), w.marker) {
		close(w.seen)
	}
	return len(b), nil
}

func (w *watcher) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// startWaitingParent runs SharedFile with a File in a goroutine and returns
// once the parent waits for a peer, with the parent's output and a channel
// that gives its result.
func startWaitingParent(t *testing.T, ctx context.Context, file string, private bool) (*watcher, <-chan error) {
	t.Helper()
	w := newWatcher("vmsim exercise shared-file --peer ")
	done := make(chan error, 1)
	go func() { done <- SharedFile(ctx, w, &ShareOptions{File: file, Private: private}) }()
	select {
	case <-w.seen:
	case err := <-done:
		require.FailNow(t, "the parent returned before waiting", "%v\n%s", err, w)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "the parent never waited", w.String())
	}
	return w, done
}

func TestSharedFilePeer(t *testing.T) {
	ps := int(arch.SystemPageSize())
	tests := []struct {
		name              string
		parentPriv, priv  bool
		wantErr           error
		peerPage2         string
		parentPage1       string
		page1, page2      byte
		parentCheckFailed string
	}{
		{"shared: the peer and the parent see each other", false, false, nil, "bbbbbbbbbb", "cccccccccc", 'c', 'b', ""},
		{"private: nobody sees anybody", true, true, nil, "aaaaaaaaaa", "aaaaaaaaaa", 'a', 'a', ""},
		{"a private peer of a shared parent is a lesson, not a failure", false, true, nil, "bbbbbbbbbb", "aaaaaaaaaa", 'a', 'b', ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			file := filepath.Join(t.TempDir(), "shared")
			parentOut, done := startWaitingParent(t, context.Background(), file, tt.parentPriv)
			assert.Contains(t, parentOut.String(), "parent: waiting at "+file+".peer for a peer")

			var peerOut bytes.Buffer
			peerErr := SharedFilePeer(context.Background(), &peerOut, file, tt.priv)
			if tt.parentCheckFailed != "" {
				assert.ErrorIs(t, peerErr, ErrCheck, "the peer's own check sees the parent's 'b'")
			} else {
				assert.NoError(t, peerErr, peerOut.String())
			}
			assert.Contains(t, peerOut.String(), "peer: page 2: "+tt.peerPage2)

			err := <-done
			if tt.wantErr != nil {
				assert.ErrorIs(t, err, tt.wantErr)
				assert.Contains(t, parentOut.String(), "check: "+tt.parentCheckFailed+": FAILED")
			} else {
				assert.NoError(t, err, parentOut.String())
			}
			assert.Contains(t, parentOut.String(), "peer: page 1: aaaaaaaaaa")
			assert.Contains(t, parentOut.String(), "peer: page 2: "+tt.peerPage2)
			assert.Contains(t, parentOut.String(), "parent: page 1: "+tt.parentPage1)

			got, err := os.ReadFile(file)
			require.NoError(t, err)
			assert.Equal(t, append(bytes.Repeat([]byte{tt.page1}, ps), bytes.Repeat([]byte{tt.page2}, ps)...), got, "the file is left for the user to look at")
			_, err = os.Stat(file + ".peer")
			assert.ErrorIs(t, err, os.ErrNotExist, "the FIFO is removed")
		})
	}
}

func TestPeerWithoutParent(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "stale")
	require.NoError(t, unix.Mkfifo(stale+".peer", 0o600))
	tests := []struct {
		name string
		file string
	}{
		{"no FIFO at all", filepath.Join(dir, "none")},
		{"a FIFO nobody reads, left by a killed parent", stale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := SharedFilePeer(context.Background(), &out, tt.file, false)
			assert.ErrorIs(t, err, ErrNotWaiting)
			assert.Contains(t, err.Error(), "vmsim exercise shared-file --file "+tt.file)
		})
	}
}

func TestWaitingParentCanBeCancelled(t *testing.T) {
	file := filepath.Join(t.TempDir(), "shared")
	ctx, cancel := context.WithCancel(context.Background())
	_, done := startWaitingParent(t, ctx, file, false)
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "cancelling did not stop the wait")
	}
	_, err := os.Stat(file + ".peer")
	assert.ErrorIs(t, err, os.ErrNotExist, "the FIFO is removed")
	var out bytes.Buffer
	assert.ErrorIs(t, SharedFilePeer(context.Background(), &out, file, false), ErrNotWaiting)
}

func TestWrap(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string
	}{
		{"short stays", "a b c", []string{"a b c"}},
		{"breaks at spaces", "aaa bbb ccc", []string{"aaa bbb", "ccc"}},
		{"a command is not broken", "x " + unbroken("vm sim cmd"), []string{"x", "vm sim cmd"}},
		{"empty", "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, Wrap(tt.in, 8)) })
	}
}

func TestDescribe(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"one run", []byte("ccc"), "3 × 'c'"},
		{"runs and zeros", []byte{'x', 'x', 0, 0, 0}, "2 × 'x', 3 × 0"},
		{"empty", nil, "nothing"},
		{"unprintable", []byte{0xff}, "1 × 0xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, describe(tt.in)) })
	}
}

func TestWaitingParentKeepsOthersFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "shared")
	require.NoError(t, os.WriteFile(file+".peer", []byte("mine"), 0o644))
	var out bytes.Buffer
	err := SharedFile(context.Background(), &out, &ShareOptions{File: file})
	require.ErrorIs(t, err, unix.EEXIST)
	assert.Contains(t, err.Error(), "is not a FIFO")
	got, rerr := os.ReadFile(file + ".peer")
	require.NoError(t, rerr)
	assert.Equal(t, "mine", string(got), "a file that is not our FIFO is left alone")

	t.Run("a FIFO left by a killed parent is taken over", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "shared")
		require.NoError(t, unix.Mkfifo(file+".peer", 0o600))
		_, done := startWaitingParent(t, context.Background(), file, false)
		var peerOut bytes.Buffer
		require.NoError(t, SharedFilePeer(context.Background(), &peerOut, file, false), peerOut.String())
		assert.NoError(t, <-done)
	})
}
