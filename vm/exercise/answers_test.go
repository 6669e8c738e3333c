package exercise

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

// TestHandlerExercisesAnswerTheCourse: mprotect and remap answer the
// course's questions from their run, like the other exercises.
func TestHandlerExercisesAnswerTheCourse(t *testing.T) {
	tests := []struct {
		name    string
		run     func(*bytes.Buffer) error
		answers []string
	}{
		{"mprotect", func(w *bytes.Buffer) error { return Mprotect(w, nil) }, []string{
			"Q: Why PROT_READ with PROT_WRITE?",
			"Q: Why a handler for SIGBUS as well as SIGSEGV?",
			"Q: What must the handler do for the printf after the write to run?",
			"A: Make the write possible: this run's handler called mprotect(p, 4096, PROT_READ|PROT_WRITE) once",
		}},
		{"mprotect granting write alone", func(w *bytes.Buffer) error {
			return Mprotect(w, &MprotectOptions{Grant: arch.ProtWrite, MaxRetries: 4})
		}, []string{"Q: Why PROT_READ with PROT_WRITE?", "PROT_WRITE alone"}},
		{"remap", func(w *bytes.Buffer) error { return Remap(w, nil) }, []string{
			"Q: Why jump back instead of returning?",
			"Q: Why sigsetjmp and siglongjmp, not setjmp and longjmp?",
			"Q: What must the handler do for the printf to run?",
			"Q: Why a handler for SIGBUS as well as SIGSEGV?",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			require.NoError(t, tt.run(&out), out.String())
			got := out.String()
			require.Contains(t, got, "\nThe course's questions, answered by this run:\n")
			flat := strings.Join(strings.Fields(got), " ")
			for _, a := range tt.answers {
				assert.Contains(t, flat, a)
			}
			assert.Less(t, strings.Index(got, "The course's questions"), strings.Index(got, "\nWhy:"), "the questions, then why")
		})
	}
}
