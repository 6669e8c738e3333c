package observe_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObserverKnowsNoExercise keeps the direction of docs/design.md: the
// observer imports no exercise and no command line; the grader imports
// no command line.
func TestObserverKnowsNoExercise(t *testing.T) {
	for _, tt := range []struct {
		pkg       string
		forbidden []string
	}{
		{"vmsim/vm/observe", []string{"vmsim/vm/exercise", "vmsim/cmd", "github.com/spf13/cobra", "vmsim/pager"}},
		{"vmsim/vm/exercise/check", []string{"vmsim/cmd", "github.com/spf13/cobra"}},
	} {
		t.Run(tt.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-e", "-deps", tt.pkg).Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, tt.pkg)
			for _, d := range deps {
				for _, bad := range tt.forbidden {
					assert.False(t, d == bad || strings.HasPrefix(d, bad+"/"), "%s imports %s", tt.pkg, d)
				}
			}
		})
	}
}
