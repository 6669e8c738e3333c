package exercise

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ErrCheck is matched by the error an exercise returns when what happened
// differs from what the course says should happen.
var ErrCheck = errors.New("unexpected behaviour")

// CheckError is the error of an exercise whose checks failed; it matches
// [ErrCheck].
type CheckError struct {
	// Exercise is the exercise's name ("shared-file --peer").
	Exercise string
	// Failed are the names of the checks that failed, in order.
	Failed []string
}

// Error names the failed checks, each quoted: the names have spaces in
// them.
func (e *CheckError) Error() string {
	names := make([]string, len(e.Failed))
	for i, n := range e.Failed {
		names[i] = strconv.Quote(n)
	}
	word := "checks"
	if len(e.Failed) == 1 {
		word = "check"
	}
	return fmt.Sprintf("exercise %s: %d %s failed: %s", e.Exercise, len(e.Failed), word, strings.Join(names, ", "))
}

// Is makes a *CheckError match ErrCheck.
func (e *CheckError) Is(target error) bool { return target == ErrCheck }

// checker collects the checks of one exercise and prints them.
type checker struct {
	w      io.Writer
	failed []string
}

// expect records one check: what was expected, what was seen.
func (c *checker) expect(what string, ok bool, format string, args ...any) {
	status := "ok"
	if !ok {
		status = "FAILED"
		c.failed = append(c.failed, what)
	}
	fmt.Fprintf(c.w, "check: %s: %s (%s)\n", what, status, fmt.Sprintf(format, args...))
}

func (c *checker) err(name string) error {
	if len(c.failed) == 0 {
		return nil
	}
	return &CheckError{Exercise: name, Failed: c.failed}
}

// explain prints the paragraph that says why.
func explain(w io.Writer, lines ...string) {
	fmt.Fprintln(w, "\nWhy:")
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}

// explainText prints the paragraph that says why, wrapping each paragraph
// to the width of a terminal.
func explainText(w io.Writer, paragraphs ...string) {
	fmt.Fprintln(w, "\nWhy:")
	for i, p := range paragraphs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		for _, l := range Wrap(p, 92) {
			fmt.Fprintln(w, "  "+l)
		}
	}
}

// answer is one of the course's questions and the answer the run gave.
type answer struct{ q, a string }

// answers prints the course's questions with the answers the run gave.
func answers(w io.Writer, qa ...answer) {
	fmt.Fprintln(w, "\nThe course's questions, answered by this run:")
	for _, x := range qa {
		fmt.Fprintln(w, "  Q: "+x.q)
		for i, l := range Wrap(x.a, 89) {
			prefix := "     "
			if i == 0 {
				prefix = "  A: "
			}
			fmt.Fprintln(w, prefix+l)
		}
	}
}

// unbroken keeps a command line on one line of wrapped text.
func unbroken(s string) string { return strings.ReplaceAll(s, " ", nbsp) }

// nbsp is a space that wrap does not break at: unit separator, which no
// text of ours contains.
const nbsp = "\x1f"

// wrap splits s into lines of at most width columns, at spaces.
// Wrap splits s into lines of at most width columns, at spaces and
// newlines (a no-break space, U+00A0, holds two words together).
func Wrap(s string, width int) []string {
	lines := wrapWords(s, width)
	for i, l := range lines {
		lines[i] = strings.ReplaceAll(l, nbsp, " ")
	}
	return lines
}

func wrapWords(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\n' }) {
		switch {
		case line == "":
			line = word
		case len([]rune(line))+1+len([]rune(word)) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return lines
}
