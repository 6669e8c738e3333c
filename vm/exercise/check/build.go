package check

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrCompile is matched by a [*CompileError].
var ErrCompile = errors.New("does not compile")

// CompileError is a C program the compiler rejected.
type CompileError struct {
	// Source is the C file.
	Source string
	// Output is what the compiler printed, as it printed it.
	Output []byte
	// Err is the compiler's exit error.
	Err error
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("%s %v: %v", e.Source, ErrCompile, e.Err)
}

func (e *CompileError) Unwrap() []error { return []error{ErrCompile, e.Err} }

// Compiler returns the C compiler Build uses: $CC, else cc.
func Compiler() string {
	if cc := strings.TrimSpace(os.Getenv("CC")); cc != "" {
		return cc
	}
	return "cc"
}

// Build compiles the C file src with the system compiler (see
// [Compiler]) into dir and returns the executable's path. The compiler
// runs as the caller, not the program's user: compiling runs none of the
// student's code.
func Build(ctx context.Context, src, dir string) (string, error) {
	base := strings.TrimSuffix(filepath.Base(src), filepath.Ext(src))
	exe := filepath.Join(dir, base)
	cc := strings.Fields(Compiler())
	args := append(cc[1:], "-g", "-o", exe, src)
	cmd := exec.CommandContext(ctx, cc[0], args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return "", fmt.Errorf("compile %s: %w", src, err)
		}
		return "", &CompileError{Source: src, Output: out.Bytes(), Err: err}
	}
	return exe, nil
}
