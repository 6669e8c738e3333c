package web

import (
	"bufio"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// docExample is a request of docs/classroom.md and the response it shows.
type docExample struct {
	line         int
	method, path string
	body         string
	want         string
}

// parseDocExamples returns each ```http block (a request line, then its
// JSON body) with the ```json block that follows it.
func parseDocExamples(t *testing.T, path string) []docExample {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var out []docExample
	var cur *docExample
	var block strings.Builder
	kind := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case kind == "" && (line == "```http" || line == "```json"):
			kind = strings.TrimPrefix(line, "```")
			block.Reset()
		case kind != "" && line == "```":
			text := block.String()
			if kind == "http" {
				first, body, _ := strings.Cut(text, "\n")
				method, path, _ := strings.Cut(first, " ")
				out = append(out, docExample{line: n, method: method, path: path, body: body})
				cur = &out[len(out)-1]
			} else {
				require.NotNil(t, cur, "line %d: a response with no request before it", n)
				cur.want = text
				cur = nil
			}
			kind = ""
		case kind != "":
			block.WriteString(line + "\n")
		}
	}
	require.NoError(t, sc.Err())
	return out
}

// TestDocsExamples runs the API examples of docs/classroom.md against the
// handler: each response must be the JSON the docs show.
func TestDocsExamples(t *testing.T) {
	examples := parseDocExamples(t, "../../../docs/classroom.md")
	require.NotEmpty(t, examples)
	h := New(nil)
	for _, ex := range examples {
		t.Run(ex.path, func(t *testing.T) {
			require.NotEmpty(t, ex.want, "line %d: a request without the response it gives", ex.line)
			require.Equal(t, "POST", ex.method)
			_, got := post(t, h, ex.path, ex.body)
			var want map[string]any
			require.NoError(t, json.Unmarshal([]byte(ex.want), &want), "line %d", ex.line)
			assert.Equal(t, want, got, "docs/classroom.md, the request ending at line %d", ex.line)
		})
	}
}
