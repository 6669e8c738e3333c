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
	w     io.Writer
	tty   bool
	start time.Time
	total int64
	desc  string
	bar   *progressbar.ProgressBar
}

func newProgress(stderr io.Writer, total int64, desc string) *progress {
	f, ok := stderr.(*os.File)
	return &progress{w: stderr, tty: ok && term.IsTerminal(int(f.Fd())), start: time.Now(), total: total, desc: desc}
}

// set reports how far the work got (in the unit of total; total 0 shows a
// spinner).
func (p *progress) set(n int64) {
	if !p.tty {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar == nil {
		if time.Since(p.start) < time.Second {
			return
		}
		max := p.total
		if max <= 0 {
			max = -1
		}
		p.bar = progressbar.NewOptions64(max,
			progressbar.OptionSetWriter(p.w),
			progressbar.OptionSetDescription(p.desc),
			progressbar.OptionShowBytes(p.total > 0),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
	}
	p.bar.Set64(n)
}

// done clears the bar.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		p.bar.Finish()
	}
}
