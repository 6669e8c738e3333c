package main

// The docs test keeps the transcripts in docs/ true. Convention, for every
// Markdown file under docs/ (subdirectories included):
//
//   - A fenced block whose info string is exactly "console" is a transcript
//     that the test runs, as whoever runs the test: its output must be the
//     same for root and for a user without privilege.
//   - "console root" is what root sees (the eBPF probe, the root-only
//     device): it runs as root, and is skipped for anyone else (a failure
//     under VMSIM_REQUIRE_PRIVILEGE=1, see vmtest.Missing).
//   - "console unprivileged" is what a user without privilege sees: it runs
//     in-process for such a user; as root it runs in a child process of the
//     test that gives up root first (vmtest.Unprivileged), so that CI, as
//     root, checks it too. A command shown both ways gets one block of each.
//   - "console no-check" (or any other word after "console") is shown but
//     not run: for transcripts that need two terminals or a particular
//     machine.
//   - In a transcript, a line that starts with "$ " is a command; the lines
//     after it, up to the next command or the end of the block, are its
//     expected output: stdout, then stderr.
//   - "$ vmsim ARGS" runs vmsim in-process, through run(), exactly as main
//     does (an error prints "vmsim: ..." on stderr). ARGS are split like a
//     shell's words: spaces separate them, single and double quotes group.
//     Any other command runs with "sh -c", to set the scene (create a file,
//     look at one).
//   - Each block runs in a new empty directory, its commands in order, so
//     that one command can use the files of the one before.
//   - A last output line "[exit status N]" says the command exits with N;
//     without it the command must succeed.
//   - An output line "..." matches any number of lines, none included: it
//     keeps long output (an exercise's explanation) out of the docs.
//   - A word "~N" in an expected line matches any number: N is what one run
//     printed, and it varies, as a count of a whole thread's faults (perf
//     counters, getrusage) does when the Go runtime faults in the same
//     window, and what is derived from it. A line with such a word is
//     compared word by word, whatever the spaces.
//   - Before comparing, both sides are normalised (see normalise), and only
//     what varies from run to run is masked: addresses that the kernel
//     chooses (mmap results, hex numbers of 9 digits or more: above 4 GiB)
//     become 0x…, process ids "pid N", the random part of temporary names
//     N, durations DURATION, the temporary directory /tmp; trailing spaces
//     go. Smaller hex numbers (trace addresses, error codes, sizes) are
//     compared as they are.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// consoleCommand is one command of a transcript and what it must print.
type consoleCommand struct {
	// Line is the line number of the command in its file.
	Line int
	// Cmd is the command without its "$ ".
	Cmd string
	// Want is the expected output, one element per line.
	Want []string
	// Exit is the expected exit status.
	Exit int
}

// consoleBlock is one transcript.
type consoleBlock struct {
	// Line is the line number of the opening fence.
	Line int
	// Who runs it: "" (anyone), "root" or "unprivileged".
	Who      string
	Commands []consoleCommand
}

var exitLine = regexp.MustCompile(`^\[exit status (\d+)\]$`)

// parseConsoleBlocks returns the transcripts of a Markdown document.
func parseConsoleBlocks(r io.Reader) ([]consoleBlock, error) {
	var blocks []consoleBlock
	var cur *consoleBlock
	fence := ""
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		if fence == "" {
			if strings.HasPrefix(trimmed, "```") || strings.HasPrefix(trimmed, "~~~") {
				fence = trimmed[:len(trimmed)-len(strings.TrimLeft(trimmed, trimmed[:1]))]
				switch info := strings.Fields(trimmed[len(fence):]); {
				case len(info) == 1 && info[0] == "console":
					blocks = append(blocks, consoleBlock{Line: n})
				case len(info) == 2 && info[0] == "console" && (info[1] == "root" || info[1] == "unprivileged"):
					blocks = append(blocks, consoleBlock{Line: n, Who: info[1]})
				default:
					continue
				}
				cur = &blocks[len(blocks)-1]
			}
			continue
		}
		if strings.HasPrefix(trimmed, fence) && strings.Trim(trimmed, fence[:1]) == "" {
			// A closing fence: the same character, at least as many.
			fence, cur = "", nil
			continue
		}
		if cur == nil {
			continue
		}
		if cmd, ok := strings.CutPrefix(line, "$ "); ok {
			cur.Commands = append(cur.Commands, consoleCommand{Line: n, Cmd: cmd})
			continue
		}
		if len(cur.Commands) == 0 {
			return nil, fmt.Errorf("line %d: output before the first command of the block at line %d", n, cur.Line)
		}
		c := &cur.Commands[len(cur.Commands)-1]
		c.Want = append(c.Want, line)
	}
	if fence != "" {
		return nil, fmt.Errorf("a block is never closed")
	}
	for i := range blocks {
		for j := range blocks[i].Commands {
			c := &blocks[i].Commands[j]
			if k := len(c.Want) - 1; k >= 0 {
				if m := exitLine.FindStringSubmatch(c.Want[k]); m != nil {
					c.Exit, _ = strconv.Atoi(m[1])
					c.Want = c.Want[:k]
					if k == 0 {
						c.Want = nil
					}
				}
			}
		}
	}
	return blocks, sc.Err()
}

// splitWords splits a command line into words, as a shell would for plain
// words and quoted strings (no variables, no escapes but inside double
// quotes).
func splitWords(s string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	for i := 0; i < len(s); i++ {
		c := rune(s[i])
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote == '"' && c == '\\' && i+1 < len(s):
			i++
			word.WriteByte(s[i])
		case quote != 0:
			word.WriteRune(c)
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

// normalisers replace what legitimately differs from run to run.
var normalisers = []struct {
	re   *regexp.Regexp
	with string
}{
	// Addresses the kernel chose: mmap results (0x7f…) and other places
	// above 4 GiB. Smaller hex numbers do not vary and are checked.
	{regexp.MustCompile(`\b0x[0-9a-f]{9,}\b`), "0x…"},
	{regexp.MustCompile(`pid \d+`), "pid N"},
	// Temporary names: os.MkdirTemp and os.CreateTemp put digits at the end.
	{regexp.MustCompile(`(vmsim-[a-z-]+?-)\d+`), "${1}N"},
	{regexp.MustCompile(`\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b`), "DURATION"},
	{regexp.MustCompile(`[ \t]+$`), ""},
}

// normalise returns line with what varies between runs replaced. The docs
// write temporary files under /tmp; $TMPDIR may put them elsewhere.
func normalise(line string) string {
	if tmp := filepath.Clean(os.TempDir()); tmp != "/tmp" {
		line = strings.ReplaceAll(line, tmp+"/", "/tmp/")
	}
	for _, n := range normalisers {
		line = n.re.ReplaceAllString(line, n.with)
	}
	return line
}

// matchLines reports whether got matches want, where a want line "..."
// matches any number of lines. Both are compared normalised.
func matchLines(want, got []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if matchLines(want[1:], got[i:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && matchLine(normalise(want[0]), normalise(got[0])) && matchLines(want[1:], got[1:])
}

// matchLine compares one normalised line; see "~N" above.
func matchLine(want, got string) bool {
	if !strings.Contains(want, "~") {
		return want == got
	}
	ws, gs := strings.Fields(want), strings.Fields(got)
	if len(ws) != len(gs) {
		return false
	}
	for i, w := range ws {
		if _, ok := strings.CutPrefix(w, "~"); ok {
			if _, err := strconv.ParseFloat(gs[i], 64); err == nil {
				continue
			}
		}
		if w != gs[i] {
			return false
		}
	}
	return true
}

// runConsoleCommand runs one command in the current directory and returns
// its output lines and exit status.
func runConsoleCommand(t *testing.T, cmd string) ([]string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := 0
	if args, ok := strings.CutPrefix(cmd, "vmsim "); ok || cmd == "vmsim" {
		words, err := splitWords(args)
		require.NoError(t, err)
		if err := run(context.Background(), words, &stdout, &stderr); err != nil {
			fmt.Fprintf(&stderr, "vmsim: %s\n", oneLine(err))
			code = exitCode(err)
		}
	} else {
		c := exec.Command("sh", "-c", cmd)
		c.Stdout, c.Stderr = &stdout, &stderr
		if err := c.Run(); err != nil {
			ee, ok := err.(*exec.ExitError)
			require.True(t, ok, "run %q: %v", cmd, err)
			code = ee.ExitCode()
		}
	}
	out := strings.TrimSuffix(stdout.String()+stderr.String(), "\n")
	if out == "" {
		return nil, code
	}
	return strings.Split(out, "\n"), code
}

// checkConsoleBlocks runs every transcript of the Markdown file at path.
func checkConsoleBlocks(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	blocks, err := parseConsoleBlocks(f)
	require.NoError(t, err, path)
	for _, b := range blocks {
		t.Run("line "+strconv.Itoa(b.Line), func(t *testing.T) {
			switch b.Who {
			case "root":
				vmtest.RequireRoot(t, "the transcript at "+path+":"+strconv.Itoa(b.Line)+" shows what root sees")
			case "unprivileged":
				if os.Geteuid() == 0 && !inChild(t, vmtest.Unprivileged) {
					return // the child ran it, as nobody
				}
			}
			t.Chdir(t.TempDir())
			for _, c := range b.Commands {
				got, code := runConsoleCommand(t, c.Cmd)
				assert.Equal(t, c.Exit, code, "%s:%d: $ %s: exit status\n%s", path, c.Line, c.Cmd, strings.Join(got, "\n"))
				if !matchLines(c.Want, got) {
					norm := make([]string, len(got))
					for i, l := range got {
						norm[i] = normalise(l)
					}
					assert.Fail(t, "the output differs from the docs",
						"%s:%d: $ %s\n--- docs say:\n%s\n--- it prints (normalised):\n%s", path, c.Line, c.Cmd,
						strings.Join(c.Want, "\n"), strings.Join(norm, "\n"))
				}
			}
		})
	}
}

// TestDocs runs the console transcripts of every Markdown file in docs/.
func TestDocs(t *testing.T) {
	var files []string
	err := filepath.WalkDir("../../docs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, path := range files {
		abs, err := filepath.Abs(path)
		require.NoError(t, err)
		t.Run(strings.TrimPrefix(path, "../../"), func(t *testing.T) { checkConsoleBlocks(t, abs) })
	}
}

func TestParseConsoleBlocks(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want []consoleBlock
		err  bool
	}{
		{
			name: "commands, output and exit status",
			doc:  "text\n```console\n$ vmsim a\nout 1\nout 2\n$ vmsim b\n[exit status 2]\n```\n",
			want: []consoleBlock{{Line: 2, Commands: []consoleCommand{
				{Line: 3, Cmd: "vmsim a", Want: []string{"out 1", "out 2"}},
				{Line: 6, Cmd: "vmsim b", Exit: 2},
			}}},
		},
		{
			name: "other blocks and no-check transcripts are skipped",
			doc:  "```go\n$ not a command\n```\n```console no-check\n$ vmsim x\n```\n```console\n$ ls\n```\n",
			want: []consoleBlock{{Line: 7, Commands: []consoleCommand{{Line: 8, Cmd: "ls"}}}},
		},
		{
			name: "transcripts for root and for an unprivileged user",
			doc:  "```console root\n$ vmsim a\nas root\n```\n```console unprivileged\n$ vmsim a\nas nobody\n```\n```console someone\n$ vmsim a\n```\n",
			want: []consoleBlock{
				{Line: 1, Who: "root", Commands: []consoleCommand{{Line: 2, Cmd: "vmsim a", Want: []string{"as root"}}}},
				{Line: 5, Who: "unprivileged", Commands: []consoleCommand{{Line: 6, Cmd: "vmsim a", Want: []string{"as nobody"}}}},
			},
		},
		{
			name: "a longer fence holds a shorter one",
			doc:  "````console\n$ cat x\n```\n````\n",
			want: []consoleBlock{{Line: 1, Commands: []consoleCommand{{Line: 2, Cmd: "cat x", Want: []string{"```"}}}}},
		},
		{name: "output before any command", doc: "```console\nout\n```\n", err: true},
		{name: "unclosed block", doc: "```console\n$ ls\n", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConsoleBlocks(strings.NewReader(tt.doc))
			if tt.err {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestMatchLines(t *testing.T) {
	tests := []struct {
		name      string
		want, got []string
		ok        bool
	}{
		{"equal", []string{"a", "b"}, []string{"a", "b"}, true},
		{"a line differs", []string{"a", "b"}, []string{"a", "c"}, false},
		{"a line missing", []string{"a", "b"}, []string{"a"}, false},
		{"a line too many", []string{"a"}, []string{"a", "b"}, false},
		{"ellipsis matches many", []string{"a", "...", "z"}, []string{"a", "b", "c", "z"}, true},
		{"ellipsis matches none", []string{"a", "...", "z"}, []string{"a", "z"}, true},
		{"ellipsis at the end", []string{"a", "..."}, []string{"a", "b"}, true},
		{"addresses vary", []string{"p = 0x7f6bd0904000"}, []string{"p = 0x7fab12345000"}, true},
		{"addresses vary, written 0x…", []string{"p = 0x…"}, []string{"p = 0x7fab12345000"}, true},
		{"small hex numbers do not vary", []string{"R 0x2000"}, []string{"R 0x4000"}, false},
		{"error codes do not vary", []string{"0x6 (write, not present) x2"}, []string{"0x4 (read, not present) x2"}, false},
		{"pids vary", []string{"child (pid 1)"}, []string{"child (pid 4242)"}, true},
		{"temporary names vary", []string{`"/tmp/vmsim-shared-file-1/file"`}, []string{`"/tmp/vmsim-shared-file-98765/file"`}, true},
		{"durations vary", []string{"took 1.5s"}, []string{"took 230ms"}, true},
		{"numbers that are not durations do not", []string{"8192 bytes"}, []string{"4096 bytes"}, false},
		{"a ~ number varies", []string{"x  ~6 (perf, all)  ~30.00"}, []string{"x   7 (perf, all)  35.00"}, true},
		{"a ~ number is a number", []string{"x  ~6 (perf, all)"}, []string{"x  many (perf, all)"}, false},
		{"the other words of a ~ line do not vary", []string{"x  ~6 (perf, all)"}, []string{"y  6 (perf, all)"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.ok, matchLines(tt.want, tt.got)) })
	}
}

func TestSplitWords(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"cp a b", []string{"cp", "a", "b"}},
		{"cp  'a b'  \"c d\"", []string{"cp", "a b", "c d"}},
		{`x "a\"b"`, []string{"x", `a"b`}},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := splitWords(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := splitWords("a 'b")
	assert.Error(t, err)
}
