package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestProgressFirstFrame: the first frame, drawn after a second of work,
// shows the rate of that work (about 512 MiB over a second here), not the
// bytes done over the instant since the bar was made.
func TestProgressFirstFrame(t *testing.T) {
	var out bytes.Buffer
	p := newProgressOn(&out, true, 1<<30, "replay")
	p.set(1 << 20)
	assert.Empty(t, out.String(), "nothing before a second of work")
	time.Sleep(1100 * time.Millisecond)
	p.set(512 << 20)
	frame := out.String()
	t.Logf("first frame: %q", frame)
	assert.Regexp(t, regexp.MustCompile(`\d+ MB/s`), frame)
	assert.NotRegexp(t, regexp.MustCompile(`[GT]B/s`), frame)
	p.done()
}

// TestProgressQuiet: no terminal, no bar; a short run draws nothing.
func TestProgressQuiet(t *testing.T) {
	var out bytes.Buffer
	p := newProgressOn(&out, false, 100, "x")
	p.set(50)
	p.done()
	q := newProgressOn(&out, true, 100, "x")
	q.set(50)
	q.done()
	assert.Empty(t, out.String())
}
