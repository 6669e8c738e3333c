package main

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows a progress bar on stderr for long work, only when stderr is
// a terminal, and only once the work has run for a second: short runs and
// redirected output stay silent.
type progress struct {
	mu    sync.Mutex
	start time.Time
	// bar is nil when stderr is not a terminal. Its clock starts with the
	// work, not with its first frame: a first frame after a second of work
	// shows that second's rate, not the whole second's bytes over the
	// microsecond since the bar was made ("2.4 TB/s").
	bar *progressbar.ProgressBar
	// shown is set once a frame was drawn.
	shown bool
}

func newProgress(stderr io.Writer, total int64, desc string) *progress {
	return newProgressOn(stderr, isTerminal(stderr), total, desc)
}

// newCountProgress is newProgress for work counted in accesses, not bytes.
func newCountProgress(stderr io.Writer, total int64, desc string) *progress {
	p := newProgressOn(stderr, false, total, desc)
	if isTerminal(stderr) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("accesses"),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		p.bar.StartWithoutRender()
	}
	return p
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newProgressOn makes the bar of newProgress, drawn on w if tty.
func newProgressOn(w io.Writer, tty bool, total int64, desc string) *progress {
	p := &progress{start: time.Now()}
	if !tty {
		return p
	}
	max := total
	if max <= 0 {
		max = -1
	}
	p.bar = progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionShowBytes(total > 0),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	p.bar.StartWithoutRender()
	return p
}

// set reports how far the work got (in the unit of total; total 0 shows a
// spinner).
func (p *progress) set(n int64) {
	if p.bar == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.shown && time.Since(p.start) < time.Second {
		return
	}
	p.shown = true
	p.bar.Set64(n)
}

// done clears the bar, if it was drawn.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown {
		p.bar.Finish()
	}
}
