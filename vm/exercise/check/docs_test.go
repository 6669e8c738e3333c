package check

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDocsListEveryCheck keeps docs/check.md true to the exercises: under
// "### NAME", one table row per check, in order, with what it catches.
func TestDocsListEveryCheck(t *testing.T) {
	b, err := os.ReadFile("../../../docs/check.md")
	require.NoError(t, err)
	doc := string(b)
	for _, ex := range Exercises() {
		t.Run(ex.Name, func(t *testing.T) {
			_, section, ok := strings.Cut(doc, "\n### "+ex.Name+"\n")
			require.True(t, ok, "docs/check.md has a section ### %s", ex.Name)
			section, _, _ = strings.Cut(section, "\n#")
			assert.Contains(t, section, ex.Summary)
			var rows []string
			for _, l := range strings.Split(section, "\n") {
				if strings.HasPrefix(l, "| ") && !strings.HasPrefix(l, "| check |") {
					rows = append(rows, l)
				}
			}
			var want []string
			esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
			for _, c := range ex.Checks {
				want = append(want, "| "+esc(c.Name)+" | "+esc(c.Catches)+" |")
			}
			assert.Equal(t, want, rows)
		})
	}
}
