package exercise

import (
	"errors"
	"fmt"
	"io"
)

// ErrCheck is matched by the error an exercise returns when what happened
// differs from what the course says should happen.
var ErrCheck = errors.New("unexpected behaviour")

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
	return fmt.Errorf("exercise %s: %d check(s) failed (%v): %w", name, len(c.failed), c.failed, ErrCheck)
}

// explain prints the paragraph that says why.
func explain(w io.Writer, lines ...string) {
	fmt.Fprintln(w, "\nWhy:")
	for _, l := range lines {
		fmt.Fprintln(w, "  "+l)
	}
}
