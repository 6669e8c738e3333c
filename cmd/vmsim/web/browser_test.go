package web

import (
	"bytes"
	"context"
	"flag"
	"image/png"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// screenshots names the directory the browser tests save their
// screenshots in (docs/img: go test ./cmd/vmsim/web -run Browser
// -screenshots ../../../docs/img); empty keeps them in the test's own.
var screenshots = flag.String("screenshots", "", "save the browser tests' screenshots in `DIR`")

// browser is a headless chromium on a test server of the classroom.
type browser struct {
	t   *testing.T
	ctx context.Context
	url string
	dir string

	mu       sync.Mutex
	requests []string
}

// newBrowser starts the server and chromium, and records every request
// the page makes.
func newBrowser(t *testing.T) *browser {
	t.Helper()
	exe := vmtest.RequireTool(t, "chromium", "chromium")
	srv := httptest.NewServer(New(&Options{Spawn: spawnSelf, KernelNote: "The kernel's own page-fault counts need root (they come from an eBPF probe), and this server runs as an ordinary user."}))
	t.Cleanup(srv.Close)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx, url: srv.URL, dir: *screenshots}
	if b.dir == "" {
		b.dir = t.TempDir()
	}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*network.EventRequestWillBeSent); ok {
			b.mu.Lock()
			b.requests = append(b.requests, e.Request.URL)
			b.mu.Unlock()
		}
	}))
	return b
}

// run runs actions, failing the test on an error.
func (b *browser) run(actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, actions...))
}

// eval returns the value of a JavaScript expression.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](expr))
	require.NoError(b.t, err, expr)
	return v
}

// attr returns an attribute of the element sel matches.
func (b *browser) attr(sel, name string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.AttributeValue(chromedp.CSS(sel), name))
	require.NoError(b.t, err, sel)
	return v.Value
}

// open loads the page at path and waits until it has drawn its first
// run.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run(chromedp.Navigate(b.url+path), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="1"]`)))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	require.NoError(b.t, err, sel)
	return strings.TrimSpace(s)
}

// texts returns the text of every element sel matches.
func (b *browser) texts(sel string) []string {
	b.t.Helper()
	return eval[[]string](b, `Array.from(document.querySelectorAll(`+quote(sel)+`)).map(e => e.textContent.trim())`)
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

func (b *browser) click(sel string) {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.CSS(sel)))
}

// waitFor waits until the JavaScript condition holds.
func (b *browser) waitFor(cond string) {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Poll[bool](cond, chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(20*time.Second)))
	require.NoError(b.t, err, cond)
}

// shot saves a screenshot of the element sel (the whole page for "") as
// name.png and checks it is an image of some size.
func (b *browser) shot(name, sel string) {
	b.t.Helper()
	var buf []byte
	var err error
	if sel == "" {
		buf, err = chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	} else {
		buf, err = chromedp.Run(b.ctx, chromedp.Screenshot(chromedp.CSS(sel)))
	}
	require.NoError(b.t, err, name)
	img, err := png.Decode(bytes.NewReader(buf))
	require.NoError(b.t, err, name)
	assert.Greater(b.t, img.Bounds().Dx(), 300, name)
	assert.Greater(b.t, img.Bounds().Dy(), 100, name)
	require.NoError(b.t, os.WriteFile(filepath.Join(b.dir, name+".png"), buf, 0o644))
}

// offHost returns the requests the page made to any other host.
func (b *browser) offHost() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, u := range b.requests {
		if !strings.HasPrefix(u, b.url+"/") && !strings.HasPrefix(u, "data:") && !strings.HasPrefix(u, "blob:") {
			out = append(out, u)
		}
	}
	return out
}

const textbook = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1"

// TestBrowser drives the page in a real browser: a student's session.
func TestBrowser(t *testing.T) {
	b := newBrowser(t)

	t.Run("step playback of the textbook string", func(t *testing.T) {
		b.t = t
		b.open("/")
		b.run(chromedp.SetValue(chromedp.CSS("#trace-text"), textbook), chromedp.SetValue(chromedp.CSS("#frames"), "3"), chromedp.SetValue(chromedp.CSS("#speed"), "10"))
		b.click("#load")
		b.waitFor(`document.querySelectorAll('.run').length === 3`)
		b.click("#play")
		b.waitFor(`document.querySelector('#position').textContent.startsWith('access 20 of 20')`)
		for policy, faults := range map[string]string{"fifo": "15", "lru": "12", "opt": "9"} {
			assert.Equal(t, faults, b.text(`.run[data-policy="`+policy+`"] .totals .faults b`), policy)
		}
		// Jump to access 10 and read the frames.
		b.run(chromedp.SetValue(chromedp.CSS("#jump"), "10"))
		b.click("#jump-go")
		assert.Equal(t, "access 10 of 20: page 3", b.text("#position"))
		assert.Equal(t, []string{"4", "2", "3"}, b.texts(`.run[data-policy="fifo"] .now .frame .page`))
		assert.Equal(t, []string{"4", "3", "2"}, b.texts(`.run[data-policy="lru"] .now .frame .page`))
		assert.Equal(t, []string{"2", "4", "3"}, b.texts(`.run[data-policy="opt"] .now .frame .page`))
		assert.Equal(t, "9", b.text(`.run[data-policy="fifo"] .totals .faults b`), "a running total: 9 of the 10 first accesses fault")
		assert.Equal(t, "4", b.text(`.run[data-policy="fifo"] .now .frame.next .page`), "the next victim marked")
		// The grid column of access 4 (index 3): 2 took 7's slot, a fault.
		assert.Equal(t, "27", b.text(`.run[data-policy="fifo"] td.slot.loaded.fault[data-step="3"]`), "the page and its victim, struck out")
		b.shot("classroom-step", "")

		// Keyboard arrows step back and forth.
		eval[bool](b, `document.activeElement.blur(), true`)
		b.run(chromedp.KeyEvent(kb.ArrowLeft))
		assert.Equal(t, "access 9 of 20: page 2", b.text("#position"))
		b.run(chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(kb.ArrowRight))
		assert.Equal(t, "access 11 of 20: page 0", b.text("#position"))

		// Hex page numbers, for the pages of real programs.
		b.click("#hex")
		assert.Equal(t, []string{"0x0", "0x2", "0x3"}, b.texts(`.run[data-policy="fifo"] .now .frame .page`))
		b.click("#hex")
	})

	t.Run("clock's hand and reference bits", func(t *testing.T) {
		b.t = t
		b.open("/?policies=clock,arc&text=" + textbook)
		b.run(chromedp.SetValue(chromedp.CSS("#jump"), "10"))
		b.click("#jump-go")
		// Access 10 hits page 3 in frame 2, under the hand: its R bit set.
		assert.Equal(t, []string{"frame 2"}, b.texts(`.run[data-policy="clock"] .now .frame.hand .slotno`))
		assert.Equal(t, []string{"R=1", "R=1", "R=1"}, b.texts(`.run[data-policy="clock"] .now .frame .note`))
		assert.Equal(t, "hand at frame 2", b.text(`.run[data-policy="clock"] .statenote`))
		b.run(chromedp.SetValue(chromedp.CSS("#jump"), "11"))
		b.click("#jump-go")
		// Access 11 (page 0) faults: the hand clears every bit, comes back
		// to frame 2 and evicts 3; 0 takes its slot, the hand moves on.
		assert.Equal(t, []string{"frame 0"}, b.texts(`.run[data-policy="clock"] .now .frame.hand .slotno`))
		assert.Equal(t, []string{"R=0", "R=0", "R=1"}, b.texts(`.run[data-policy="clock"] .now .frame .note`))
		// arc's four lists.
		assert.Equal(t, []string{"B1 (ghosts)", "T1", "T2", "B2 (ghosts)"}, b.texts(`.run[data-policy="arc"] .list .name`))
		assert.Equal(t, "4", b.text(`.run[data-policy="arc"] .list[data-list="B1"] .pages`))
		b.shot("classroom-state", `.run[data-policy="clock"]`)
	})

	t.Run("dirty pages and write-backs", func(t *testing.T) {
		b.t = t
		b.open("/?policies=fifo&frames=3&text=1w,2,3,2w,4,5,6")
		jump := func(n string) {
			b.run(chromedp.SetValue(chromedp.CSS("#jump"), n))
			b.click("#jump-go")
		}
		fifo := `.run[data-policy="fifo"] `
		// Access 4 writes 2, a hit on a clean page: now 1 and 2 are dirty.
		jump("4")
		assert.Equal(t, "access 4 of 7: page 2 (write)", b.text("#position"))
		assert.Equal(t, []string{"1", "2"}, b.texts(fifo+`.now .frame:has(.dirty) .page`))
		assert.Equal(t, []string{"1*", "2*", "3"}, b.texts(fifo+`td.slot[data-step="3"]`), "the grid stars dirty pages")
		assert.Equal(t, "0 written back,", b.text(fifo+".totals .writebacks"))
		// 4 and 5 evict the dirty 1 and 2, each written back; 6 evicts the
		// clean 3.
		jump("7")
		assert.Empty(t, b.texts(fifo+`.now .frame .dirty`))
		assert.Equal(t, "2 written back,", b.text(fifo+".totals .writebacks"))
		for step, title := range map[string]string{"4": "fault, victim written back", "5": "fault, victim written back", "6": "fault"} {
			assert.Equal(t, title, b.attr(fifo+`td.result[data-step="`+step+`"]`, "title"), "access %s", step)
		}
	})

	t.Run("quiz: right and wrong answers, the score, a link", func(t *testing.T) {
		b.t = t
		b.open("/?view=quiz&text=1,2,3,4,1,2,5,1,2,3,4,5&frames=3&policy=fifo")
		b.waitFor(`!document.querySelector('#quiz-box').hidden`)
		assert.Equal(t, "Access 1 of 12: page 1 (read). Hit or fault?", b.text("#quiz-question"))
		fault := func(victim string) {
			b.click("#answer-fault")
			if victim == "" {
				b.click("#victim-none")
			} else {
				b.click(`.victim-choice[data-page="` + victim + `"]`)
			}
		}
		fault("")
		assert.Equal(t, "Right: access 1 is a fault, and a frame was free.", b.text("#quiz-feedback"))
		b.click("#answer-hit")
		assert.Equal(t, "Wrong: you said hit; access 2 is a fault, and a frame was free.", b.text("#quiz-feedback"))
		assert.Equal(t, "wrong", b.attr("#quiz-feedback", "class"))
		fault("")
		fault("2") // 1 is evicted, not 2
		assert.Equal(t, "Wrong: you said fault, evicting 2; access 4 is a fault that evicts 1.", b.text("#quiz-feedback"))
		assert.Equal(t, "Score: 2 of 4", b.text("#quiz-score"))
		b.shot("classroom-quiz", "")
		fault("2")
		fault("3")
		fault("4")
		b.click("#answer-hit")
		b.click("#answer-hit")
		fault("1")
		fault("2")
		b.click("#answer-hit")
		assert.Equal(t, "Final score: 10 of 12. fifo made 9 faults with 3 frames.", b.text("#quiz-final"))
		link := b.attr("#quiz-link", "href")
		assert.Contains(t, link, "view=quiz")
		assert.Contains(t, link, "text=1%2C2%2C3%2C4%2C1%2C2%2C5%2C1%2C2%2C3%2C4%2C5")
		assert.Contains(t, link, "frames=3")
		assert.Contains(t, link, "policy=fifo")
		assert.Contains(t, link, "seed=1")
	})

	t.Run("a malformed upload shows the server's error", func(t *testing.T) {
		b.t = t
		path := filepath.Join(t.TempDir(), "bad.pages")
		require.NoError(t, os.WriteFile(path, []byte("1 2\n3 x\n"), 0o644))
		b.open("/")
		b.run(chromedp.SetUploadFiles(chromedp.CSS("#upload"), []string{path}))
		eval[bool](b, `document.querySelector('input[name=source][value=upload]').checked = true`)
		b.click("#load")
		b.waitFor(`!document.querySelector('#error').hidden`)
		assert.Equal(t, `bad.pages: line 2: "x": expected a page number (decimal or 0x hex), optionally followed by r or w`, b.text("#error"))
	})

	t.Run("curves: Belady's anomaly for FIFO", func(t *testing.T) {
		b.t = t
		b.open("/?policies=fifo,lru,opt&builtin=belady")
		b.click(`#tabs button[data-view="curves"]`)
		b.run(chromedp.SetValue(chromedp.CSS("#curve-from"), "1"), chromedp.SetValue(chromedp.CSS("#curve-to"), "7"))
		b.click("#curve-run")
		b.waitFor(`document.querySelectorAll('#curve-table tr').length === 8`)
		assert.Equal(t, "9", b.text(`#curve-table tr[data-frames="3"] td[data-policy="fifo"]`))
		assert.Equal(t, "10", b.text(`#curve-table tr[data-frames="4"] td[data-policy="fifo"].anomaly`))
		assert.Equal(t, []string{"Belady's anomaly: fifo faults 10 times with 4 frames, more than 9 with 3."}, b.texts("#anomalies li"))
		assert.Len(t, b.texts("#curve-chart circle.anomaly"), 1)
		b.shot("classroom-curves", "#view-curves")
		b.click("#logy")
		assert.Contains(t, eval[string](b, `document.querySelector('#curve-chart').textContent`), "faults (log)")
	})

	t.Run("real memory beside the simulation", func(t *testing.T) {
		b.t = t
		b.open("/?text=" + textbook)
		b.click(`#tabs button[data-view="real"]`)
		b.click("#real-run")
		b.waitFor(`document.querySelectorAll('#real-table tr').length === 4`)
		for policy, faults := range map[string]string{"fifo": "15", "lru": "12", "opt": "9"} {
			row := `#real-table tr[data-policy="` + policy + `"] `
			assert.Equal(t, faults, b.text(row+".sim-faults"), policy)
			assert.Equal(t, faults, b.text(row+".real-faults"), policy)
			assert.Equal(t, faults, b.text(row+".user-faults"), policy)
			assert.Equal(t, "yes", b.text(row+".agree"), policy)
		}
		assert.Contains(t, b.text("#kernel-note"), "need root")
		b.shot("classroom-real", "#view-real")
	})

	t.Run("an exercise and its transcript", func(t *testing.T) {
		b.t = t
		b.open("/")
		b.click(`#tabs button[data-view="exercises"]`)
		b.click(`.exercise[data-name="mprotect"]`)
		b.waitFor(`document.querySelector('#exercise-out').dataset.name === 'mprotect'`)
		assert.Contains(t, b.text("#exercise-out"), "check: one fault: ok")
		assert.Contains(t, b.text("#check-out"), "not in this build")
	})

	assert.Empty(t, b.offHost(), "the page loads nothing from other hosts")
	assert.NotEmpty(t, b.requests)
}
