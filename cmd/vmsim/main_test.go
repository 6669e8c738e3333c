package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vmsim runs the command line in-process and returns stdout, stderr and the
// exit status main would use.
func vmsim(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), args, &stdout, &stderr)
	code := 0
	if err != nil {
		code = exitCode(err)
		stderr.WriteString("vmsim: " + oneLine(err) + "\n")
	}
	return stdout.String(), stderr.String(), code
}

func TestDemo(t *testing.T) {
	out, errOut, code := vmsim(t, "demo")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "check: one fault: ok (1 caught)")
	assert.Contains(t, out, "read p[0] = 'd'")
	assert.Contains(t, out, "base[0] = A")
	assert.NotContains(t, out, "FAILED")
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"help is success", []string{"--help"}, 0, ""},
		{"help of a subcommand", []string{"exercise", "mprotect", "-h"}, 0, ""},
		{"no command prints help", nil, 0, ""},
		{"unknown command", []string{"bogus"}, 2, `vmsim: unknown command "bogus"`},
		{"unknown flag", []string{"demo", "--frobnicate"}, 2, "vmsim: demo: unknown flag: --frobnicate"},
		{"bad flag value", []string{"exercise", "mprotect", "--prot", "rwz"}, 2, `unknown protection "rwz"`},
		{"stray argument", []string{"demo", "extra"}, 2, "takes no arguments"},
		{"exercise passes", []string{"exercise", "remap"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			if tt.err != "" {
				assert.Contains(t, errOut, tt.err)
				assert.Equal(t, 1, bytes.Count([]byte(errOut), []byte("\n")), "errors are one line")
			}
		})
	}
}

func TestHelpHasExamples(t *testing.T) {
	root := newRoot()
	for _, c := range root.Commands() {
		assert.NotEmpty(t, c.Example, "%s has an example", c.CommandPath())
		for _, sub := range c.Commands() {
			assert.NotEmpty(t, sub.Example, "%s has an example", sub.CommandPath())
		}
	}
}
