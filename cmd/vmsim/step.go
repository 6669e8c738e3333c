package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

type stepFlags struct {
	traceFlags
	policy  string
	frames  string
	limit   int
	maxMem  string
	seed    uint64
	tick    uint64
	tau     uint64
	output  string
	layout  string
	quiz    bool
	answers bool
	hex     bool
	wide    bool
	color   string
}

// tableWidth is the width step tables fit by default.
const tableWidth = 100

func newStep() *cobra.Command {
	var f stepFlags
	cmd := &cobra.Command{
		Use:   "step -p POLICY -f N [flags] TRACE",
		Short: "The textbook table: one row per access, with the frames after it",
		Long: `step replays TRACE (a file, or - for standard input) through one policy and
frame count and prints the table a textbook draws: for each access its index,
page, R or W, whether it hit, faulted or was a protection fault (the first
write to a clean resident page), the page evicted (and whether it was written
back), and the frames after it.

--layout slots (the default) draws the frames as fixed slots, as the
textbooks do: a page loaded into a free frame takes the first free slot, a
page loaded by evicting another takes its victim's slot, so a page never
moves while it stays resident. [7] marks the page evicted at the next fault
(for fifo, lru, mru, lfu and opt, whose order says it), 7* a dirty page,
>7 the frame under a hand. The header says which. --layout queue lists the resident pages in the
policy's own order instead, with the next victim first where the policy has
one:

  fifo         oldest load first
  lru / mru    least / most recently used first
  lfu          fewest uses first (n=count), ties least recently used first
  clock        frame order, R bits, > marks the frame under the hand
  nfu, aging   smallest counter first (c=counter, aging in binary), R bits
  wsclock      frame order, R bits and time of last use, > the hand
  opt          farthest next use first (next=access index)
  arc          T1 then T2, least recent first; p and the ghost lists B1, B2
  sieve        oldest first, visited bits, > the hand
  s3fifo       small queue S then main queue M, oldest first, frequencies;
               the ghost queue G

Tables fit 100 columns: when the notes or the state would not, they are left
out (the header says so); --wide keeps them, and so do -o csv and -o json.

--quiz is the homework: for each access step asks "Hit/Miss? Evicts?" and
reads your answer from standard input (h for a hit, f for a fault, and after
a fault the page it evicts, or - if a frame was free: "f 7", "f -"), tells
you at once, and gives the score at the end; once the input ends it prints
the remaining accesses with their answers. --answers prints the questions
first and the whole table after them, as an answer key, reading nothing.
A protection fault is a hit: the page was resident.

--limit shows the first N accesses of a long trace; --hex prints page
numbers in hex (real programs' pages). Colour is on when standard output is
a terminal and NO_COLOR is not set (--color always or never to choose).`,
		Example: `  echo 1,2,3,4,1,2,5,1,2,3,4,5 | vmsim step -p fifo -f 3 -
  vmsim step -p clock -f 4 --limit 20 trace.pages
  vmsim step -p lru -f 3 --layout queue trace.pages
  vmsim step -p opt -f 3 --quiz trace.pages            # answer as you go
  vmsim step -p fifo -f 3 --quiz --answers trace.pages # a worksheet and its key`,
		Args: exactArgs(1, "TRACE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runStep(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.policy, "policy", "p", "fifo", "the `POLICY`")
	fl.StringVarP(&f.frames, "frames", "f", "3", "the number of frames `N`")
	fl.IntVar(&f.limit, "limit", 0, "show only the first `N` accesses (0: all)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random policy")
	fl.Uint64Var(&f.tick, "tick", 0, "nfu and aging: accesses between clock ticks (0: one tick per frames accesses)")
	fl.Uint64Var(&f.tau, "tau", 0, "wsclock: working-set window in accesses (0: 2 × frames)")
	fl.StringVarP(&f.output, "output", "o", "table", "table, csv or json (JSON Lines, one object per access)")
	fl.StringVar(&f.layout, "layout", "slots", "slots (fixed frame slots, as textbooks draw them) or queue (the policy's order)")
	fl.BoolVar(&f.quiz, "quiz", false, "ask Hit/Miss? Evicts? for each access and read the answers from standard input")
	fl.BoolVar(&f.answers, "answers", false, "with --quiz: print the questions, then the answers at the end, reading nothing")
	fl.BoolVar(&f.hex, "hex", false, "print page numbers in hex")
	fl.BoolVar(&f.wide, "wide", false, "keep every note and the state, however wide the table")
	fl.StringVar(&f.color, "color", "auto", "auto (on a terminal, unless NO_COLOR is set), always or never")
	addTraceFlags(cmd, &f.traceFlags)
	addMaxMemoryFlag(cmd, &f.maxMem, "the trace held whole")
	return cmd
}

// stepRow is one access of the table, and of -o json.
type stepRow struct {
	Index     int             `json:"index"`
	Page      arch.PageNum    `json:"page"`
	Write     bool            `json:"write"`
	Result    string          `json:"result"`
	Victim    *arch.PageNum   `json:"victim,omitempty"`
	WroteBack bool            `json:"written_back,omitempty"`
	Frames    []arch.PageNum  `json:"frames"`
	Notes     []string        `json:"notes,omitempty"`
	State     string          `json:"state,omitempty"`
	Slot      int             `json:"slot"`
	Slots     []*arch.PageNum `json:"slots"`
	Dirty     []bool          `json:"dirty"`
	Ghosts    []stepGhosts    `json:"ghosts,omitempty"`

	step pager.Step
	tr   *pager.Trace
}

type stepGhosts struct {
	Name  string         `json:"name"`
	Pages []arch.PageNum `json:"pages"`
}

func runStep(cmd *cobra.Command, f stepFlags, path string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	if _, err := pager.NewPolicy(f.policy, pager.Options{}); err != nil {
		return usageErrorf(cmd, "--policy: %v", err)
	}
	budget, err := memoryBudget(f.maxMem)
	if err != nil {
		return usageErrorf(cmd, "--max-memory: %v", err)
	}
	frames, err := parseFrameCount(f.frames)
	if err != nil {
		return usageErrorf(cmd, "--frames: %v", err)
	}
	if f.limit < 0 {
		return usageErrorf(cmd, "--limit %d: must be 0 (all) or more", f.limit)
	}
	if err := checkOutput(cmd, f.output, []string{"table", "csv", "json"}, ""); err != nil {
		return err
	}
	if f.layout != "slots" && f.layout != "queue" {
		return usageErrorf(cmd, "--layout %q: want slots or queue", f.layout)
	}
	if f.color != "auto" && f.color != "always" && f.color != "never" {
		return usageErrorf(cmd, "--color %q: want auto, always or never", f.color)
	}
	switch {
	case f.answers && !f.quiz:
		return usageErrorf(cmd, "--answers needs --quiz: it prints a quiz's answers at the end")
	case f.quiz && f.output != "table":
		return usageErrorf(cmd, "--quiz and --output %s cannot go together: a quiz is a table for people", f.output)
	case f.quiz && !f.answers && path == "-":
		return usageErrorf(cmd, "--quiz reads your answers from standard input, so TRACE cannot be - too: give the trace as a file, or add --answers")
	}
	t, err := openTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer t.close()
	var r traces.Reader = t.reader
	if f.limit > 0 && !pager.NeedsNext(f.policy) {
		// opt needs the whole trace for next uses; the others only the
		// accesses shown.
		r = limited(t.reader, uint64(f.limit))
	}
	tr, err := pager.Load(cmd.Context(), path, r, &pager.LoadOptions{MaxBytes: budget})
	if err != nil {
		hint := "show the first N accesses with --limit N"
		if pager.NeedsNext(f.policy) {
			hint = "cut the trace (" + f.policy + " reads it all for next uses, whatever --limit)"
		}
		return tooLarge(err, "step", hint)
	}
	cfg := pager.Config{Policy: f.policy, Frames: frames, Options: pager.Options{Seed: f.seed, Tick: f.tick, Tau: f.tau}}
	var rows []stepRow
	res, err := pager.Steps(cmd.Context(), tr, cfg, func(s pager.Step) {
		if f.limit > 0 && s.Index >= f.limit {
			return
		}
		rows = append(rows, newStepRow(tr, s))
	})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch f.output {
	case "json":
		return writeJSONLines(w, rows)
	case "csv":
		return writeStepCSV(w, rows)
	}
	st := newStepStyle(f, w)
	if f.quiz && f.answers {
		return writeQuizSheet(w, st, res, rows)
	}
	if f.quiz {
		return runQuiz(cmd.InOrStdin(), w, st, res, rows)
	}
	return writeStepTable(w, st, res, rows)
}

// newStepRow turns a step into a row, in the trace's page numbers.
func newStepRow(tr *pager.Trace, s pager.Step) stepRow {
	row := stepRow{Index: s.Index, Page: tr.PageNum(s.Page), Write: s.Write, Result: s.Kind.String(), Slot: s.Slot, Dirty: s.Dirty, State: s.State.Note, step: s, tr: tr}
	if s.Evicted {
		v := tr.PageNum(s.Victim)
		row.Victim, row.WroteBack = &v, s.WroteBack
	}
	row.Frames = []arch.PageNum{}
	for _, fr := range s.State.Frames {
		row.Frames = append(row.Frames, tr.PageNum(fr.Page))
		row.Notes = append(row.Notes, fr.Note)
	}
	if slicesAllEmpty(row.Notes) {
		row.Notes = nil
	}
	row.Slots = make([]*arch.PageNum, len(s.Slots))
	for i, p := range s.Slots {
		if p != pager.NoPage {
			n := tr.PageNum(p)
			row.Slots[i] = &n
		}
	}
	for _, g := range s.State.Ghosts {
		sg := stepGhosts{Name: g.Name, Pages: []arch.PageNum{}}
		for _, p := range g.Pages {
			sg.Pages = append(sg.Pages, tr.PageNum(p))
		}
		row.Ghosts = append(row.Ghosts, sg)
	}
	return row
}

func slicesAllEmpty(s []string) bool {
	for _, v := range s {
		if v != "" {
			return false
		}
	}
	return true
}

// stepStyle is how a table is drawn: layout, page numbers, colour, width.
type stepStyle struct {
	policy string
	frames int
	limit  int
	layout string
	hex    bool
	wide   bool
	color  bool
}

func newStepStyle(f stepFlags, w io.Writer) stepStyle {
	frames, _ := parseFrameCount(f.frames)
	file, ok := w.(*os.File)
	tty := ok && term.IsTerminal(int(file.Fd()))
	return stepStyle{policy: f.policy, frames: frames, limit: f.limit, layout: f.layout, hex: f.hex, wide: f.wide, color: useColor(f.color, tty, os.Getenv("NO_COLOR"))}
}

// useColor decides whether to colour: always, never, or on a terminal
// unless NO_COLOR is set to anything but "" (no-color.org).
func useColor(mode string, tty bool, noColor string) bool {
	switch mode {
	case "always":
		return true
	case "never":
		return false
	}
	return tty && noColor == ""
}

// ANSI colours of the table.
const (
	ansiReset  = "\x1b[0m"
	ansiRed    = "\x1b[31m"
	ansiGreen  = "\x1b[32m"
	ansiYellow = "\x1b[33m"
	ansiBold   = "\x1b[1m"
)

func (st stepStyle) page(p arch.PageNum) string {
	if st.hex {
		return fmt.Sprintf("%#x", uint64(p))
	}
	return u(uint64(p))
}

// paint wraps s in a colour when colouring.
func (st stepStyle) paint(color, s string) string {
	if !st.color || color == "" {
		return s
	}
	return color + s + ansiReset
}

func resultColor(kind pager.Kind) string {
	switch kind {
	case pager.Miss:
		return ansiRed
	case pager.Protection:
		return ansiYellow
	}
	return ansiGreen
}

// cell is one cell of a table: its text, and the same text as printed
// (with colours), whose width is the text's.
type cell struct{ text, shown string }

func textCell(s string) cell { return cell{s, s} }

func (c cell) width() int { return len([]rune(c.text)) }

// detail says how much of each frame a table shows.
type detail int

const (
	allDetail   detail = iota // notes and state
	noState                   // notes, no state column
	markersOnly               // the hand, next-victim and dirty marks only
)

// frameCells returns the cells of a row's frames: one per slot (slots
// layout) or one per resident page in the policy's order (queue layout).
func (st stepStyle) frameCells(r stepRow, d detail) []cell {
	in := r.step.State
	byPage := map[arch.PageNum]pager.Frame{}
	for i, fr := range in.Frames {
		byPage[r.Frames[i]] = fr
	}
	next := arch.PageNum(0)
	nv, hasNext := r.step.NextVictim()
	if hasNext {
		next = r.tr.PageNum(nv)
	}
	dirty := map[arch.PageNum]bool{}
	for i, p := range r.Slots {
		if p != nil && r.Dirty[i] {
			dirty[*p] = true
		}
	}
	one := func(p arch.PageNum, loaded bool) cell {
		fr := byPage[p]
		s := st.page(p)
		if dirty[p] {
			s += "*"
		}
		if d != markersOnly && fr.Note != "" {
			s += "(" + strings.TrimPrefix(fr.Note, ">") + ")"
		}
		if st.layout == "slots" && hasNext && p == next {
			s = "[" + s + "]"
		}
		if fr.Hand {
			s = ">" + s
		}
		c := textCell(s)
		if loaded {
			c.shown = st.paint(ansiBold+resultColor(r.step.Kind), s)
		}
		return c
	}
	var cells []cell
	if st.layout == "queue" {
		for _, p := range r.Frames {
			cells = append(cells, one(p, p == r.Page))
		}
		return cells
	}
	for i, p := range r.Slots {
		if p == nil {
			cells = append(cells, textCell("-"))
			continue
		}
		cells = append(cells, one(*p, i == r.Slot))
	}
	return cells
}

// stateText is the STATE column: the policy's note and its ghost lists.
func (st stepStyle) stateText(r stepRow) string {
	parts := []string{}
	if r.State != "" {
		parts = append(parts, r.State)
	}
	for _, g := range r.Ghosts {
		pages := make([]string, len(g.Pages))
		for i, p := range g.Pages {
			pages[i] = st.page(p)
		}
		parts = append(parts, g.Name+"=["+strings.Join(pages, " ")+"]")
	}
	return strings.Join(parts, " ")
}

// header returns the comment lines above a table: the policy, and how its
// frames are drawn, the next victim's end said.
func (st stepStyle) header(res pager.Result) []string {
	order, victimFirst := pager.Order(st.policy)
	lines := []string{fmt.Sprintf("# %s, %d frames: %s", st.policy, res.Frames, pager.Summary(st.policy))}
	if st.layout == "queue" {
		l := "# frames in the policy's order: " + order
		if victimFirst {
			l += " (the first is the next victim)"
		}
		return append(lines, l)
	}
	l := "# frames in fixed slots: a loaded page takes its victim's slot; 7* is dirty"
	if strings.Contains(order, "hand") {
		l += "; >7 is under the hand"
	}
	lines = append(lines, l)
	if victimFirst {
		lines = append(lines, "# [7] is the next victim; the policy's order: "+order)
	}
	return lines
}

// grid lays cells out in columns, two spaces apart, the last column
// unpadded, as text/tabwriter does.
type grid [][]cell

func (t grid) widths() []int {
	var w []int
	for _, row := range t {
		for i, c := range row {
			if i >= len(w) {
				w = append(w, 0)
			}
			w[i] = max(w[i], c.width())
		}
	}
	return w
}

// width returns the width of the widest line.
func (t grid) width() int {
	w := t.widths()
	most := 0
	for _, row := range t {
		n := 0
		for i, c := range row {
			if i < len(row)-1 {
				n += w[i] + 2
			} else {
				n += c.width()
			}
		}
		most = max(most, n)
	}
	return most
}

func (t grid) write(w io.Writer) error {
	widths := t.widths()
	var b strings.Builder
	for _, row := range t {
		b.Reset()
		for i, c := range row {
			b.WriteString(c.shown)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-c.width()+2))
			}
		}
		if _, err := fmt.Fprintln(w, strings.TrimRight(b.String(), " ")); err != nil {
			return err
		}
	}
	return nil
}

// group joins cells into one, each padded to its column's width across
// rows, so that slots line up under one heading.
func group(rows [][]cell) []cell {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], c.width())
		}
	}
	out := make([]cell, len(rows))
	for j, r := range rows {
		var text, shown strings.Builder
		for i, c := range r {
			text.WriteString(c.text)
			shown.WriteString(c.shown)
			if i < len(r)-1 {
				pad := strings.Repeat(" ", widths[i]-c.width()+1)
				text.WriteString(pad)
				shown.WriteString(pad)
			}
		}
		out[j] = cell{text.String(), shown.String()}
	}
	return out
}

// stepTable builds the table of rows at a level of detail, its frames cut
// to the first keep slots when keep >= 0.
func (st stepStyle) stepTable(rows []stepRow, d detail, keep int) grid {
	hasState := false
	for _, r := range rows {
		hasState = hasState || st.stateText(r) != ""
	}
	hasState = hasState && d == allDetail
	frameRows := make([][]cell, len(rows))
	for i, r := range rows {
		fc := st.frameCells(r, d)
		if keep >= 0 && len(fc) > keep {
			fc = append(fc[:keep], textCell(fmt.Sprintf("…+%d", len(fc)-keep)))
		}
		frameRows[i] = fc
	}
	var frames []cell
	if st.layout == "slots" {
		frames = group(frameRows)
	} else {
		for _, fc := range frameRows {
			var text, shown []string
			for _, c := range fc {
				text, shown = append(text, c.text), append(shown, c.shown)
			}
			frames = append(frames, cell{strings.Join(text, " "), strings.Join(shown, " ")})
		}
	}
	head := []cell{textCell("#"), textCell("PAGE"), textCell("R/W"), textCell("RESULT"), textCell("VICTIM"), textCell("FRAMES AFTER")}
	if hasState {
		head = append(head, textCell("STATE"))
	}
	t := grid{head}
	for i, r := range rows {
		rw := "R"
		if r.Write {
			rw = "W"
		}
		victim := ""
		if r.Victim != nil {
			victim = st.page(*r.Victim)
			if r.WroteBack {
				victim += " (written back)"
			}
		}
		result := cell{r.Result, st.paint(resultColor(r.step.Kind), r.Result)}
		line := []cell{textCell(strconv.Itoa(r.Index)), textCell(st.page(r.Page)), textCell(rw), result, textCell(victim), frames[i]}
		if hasState {
			line = append(line, textCell(st.stateText(r)))
		}
		t = append(t, line)
	}
	return t
}

// fit returns the table of rows at the most detail that fits tableWidth
// (all of it with --wide), and a line that says what was left out, or "".
func (st stepStyle) fit(rows []stepRow) (grid, string) {
	t := st.stepTable(rows, allDetail, -1)
	if st.wide || t.width() <= tableWidth {
		return t, ""
	}
	if t2 := st.stepTable(rows, noState, -1); t2.width() <= tableWidth {
		return t2, fmt.Sprintf("# the state column is left out to fit %d columns: --wide shows it", tableWidth)
	}
	t = st.stepTable(rows, markersOnly, -1)
	const left = "# the frames' notes and the state are left out to fit %d columns: --wide shows them"
	if t.width() <= tableWidth {
		return t, fmt.Sprintf(left, tableWidth)
	}
	for keep := st.frames; keep > 1; keep-- {
		if t = st.stepTable(rows, markersOnly, keep); t.width() <= tableWidth {
			break
		}
	}
	return t, fmt.Sprintf("# notes, state and frames past the first are left out to fit %d columns: --wide shows them", tableWidth)
}

func writeStepTable(w io.Writer, st stepStyle, res pager.Result, rows []stepRow) error {
	t, left := st.fit(rows)
	for _, l := range st.header(res) {
		fmt.Fprintln(w, l)
	}
	if left != "" {
		fmt.Fprintln(w, left)
	}
	if err := t.write(w); err != nil {
		return err
	}
	shown := ""
	if st.limit > 0 && int(res.Accesses) > len(rows) {
		shown = fmt.Sprintf(" (first %d shown)", len(rows))
	}
	_, err := fmt.Fprintf(w, "# %d accesses%s: %d faults, %d hits, %d evictions, %d written back, %d protection faults\n",
		res.Accesses, shown, res.Faults, res.Hits, res.Evictions, res.Writebacks, res.ProtectionFaults)
	return err
}

func writeStepCSV(w io.Writer, rows []stepRow) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"index", "page", "write", "result", "victim", "written_back", "slot", "slots", "dirty", "frames", "notes", "state"})
	join := func(n int, f func(i int) string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = f(i)
		}
		return strings.Join(parts, " ")
	}
	for _, r := range rows {
		victim := ""
		if r.Victim != nil {
			victim = u(uint64(*r.Victim))
		}
		slots := join(len(r.Slots), func(i int) string {
			if r.Slots[i] == nil {
				return "-"
			}
			return u(uint64(*r.Slots[i]))
		})
		dirty := join(len(r.Dirty), func(i int) string { return map[bool]string{true: "1", false: "0"}[r.Dirty[i]] })
		frames := join(len(r.Frames), func(i int) string { return u(uint64(r.Frames[i])) })
		cw.Write([]string{strconv.Itoa(r.Index), u(uint64(r.Page)), strconv.FormatBool(r.Write), r.Result, victim,
			strconv.FormatBool(r.WroteBack), strconv.Itoa(r.Slot), slots, dirty, frames, strings.Join(r.Notes, ";"), r.State})
	}
	cw.Flush()
	return cw.Error()
}
