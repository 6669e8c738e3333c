package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"vmsim/pager"
	"vmsim/vm/arch"
)

// quizIntro says what a quiz asks and how to answer.
func quizIntro(st stepStyle, res pager.Result, interactive bool) []string {
	lines := []string{fmt.Sprintf("# quiz: %s, %d frames, %d accesses: is each a hit or a fault, and what does a fault evict?", st.policy, res.Frames, res.Accesses)}
	if interactive {
		lines = append(lines, `# answer h (hit) or f (fault); after a fault the page it evicts, or - if a frame was free: "f 7", "f -"`)
	}
	return append(lines, "# a write to a resident page is a hit, even when it is the page's first write (a protection fault)")
}

func rw(write bool) string {
	if write {
		return "W"
	}
	return "R"
}

// writeQuizSheet prints every question, then the answers: the step table.
func writeQuizSheet(w io.Writer, st stepStyle, res pager.Result, rows []stepRow) error {
	for _, l := range quizIntro(st, res, false) {
		fmt.Fprintln(w, l)
	}
	t := grid{{textCell("#"), textCell("PAGE"), textCell("R/W"), textCell("HIT/MISS?"), textCell("EVICTS?")}}
	for _, r := range rows {
		t = append(t, []cell{textCell(strconv.Itoa(r.Index)), textCell(st.page(r.Page)), textCell(rw(r.Write)), textCell("____"), textCell("____")})
	}
	if err := t.write(w); err != nil {
		return err
	}
	fmt.Fprintln(w, "\n# answers")
	return writeStepTable(w, st, res, rows)
}

// quizAnswer is what a student says of one access.
type quizAnswer struct {
	fault  bool
	victim *arch.PageNum // nil: nothing evicted
}

// parseQuizAnswer parses "h", "hit", "f 7", "fault -", "m 0x1f"...
func parseQuizAnswer(line string) (quizAnswer, error) {
	words := strings.Fields(strings.ToLower(line))
	if len(words) == 0 {
		return quizAnswer{}, fmt.Errorf("no answer: h (hit) or f (fault), then the page a fault evicts or -")
	}
	var a quizAnswer
	switch words[0] {
	case "h", "hit":
		if len(words) > 1 {
			return quizAnswer{}, fmt.Errorf("%q: a hit evicts nothing", line)
		}
		return a, nil
	case "f", "fault", "m", "miss":
		a.fault = true
	default:
		return quizAnswer{}, fmt.Errorf("%q: want h (hit) or f (fault)", words[0])
	}
	if len(words) == 1 || words[1] == "-" {
		if len(words) > 2 {
			return quizAnswer{}, fmt.Errorf("%q: one page at most", line)
		}
		return a, nil
	}
	if len(words) > 2 {
		return quizAnswer{}, fmt.Errorf("%q: one page at most", line)
	}
	n, err := strconv.ParseUint(words[1], 0, 64)
	if err != nil {
		return quizAnswer{}, fmt.Errorf("%q: the page evicted is a number (or - for none)", words[1])
	}
	v := arch.PageNum(n)
	a.victim = &v
	return a, nil
}

// right reports whether a is the answer to r.
func (a quizAnswer) right(r stepRow) bool {
	if a.fault != (r.step.Kind == pager.Miss) {
		return false
	}
	if (a.victim == nil) != (r.Victim == nil) {
		return false
	}
	return a.victim == nil || *a.victim == *r.Victim
}

// said puts an answer in the quiz's words.
func (st stepStyle) said(a quizAnswer) string {
	switch {
	case !a.fault:
		return "hit"
	case a.victim == nil:
		return "fault, evicts nothing"
	}
	return "fault, evicts " + st.page(*a.victim)
}

// answerText says what access r did, in the quiz's words.
func (st stepStyle) answerText(r stepRow) string {
	switch {
	case r.step.Kind != pager.Miss:
		return "hit"
	case r.Victim == nil:
		return "fault, evicts nothing (a frame was free)"
	}
	s := "fault, evicts " + st.page(*r.Victim)
	if r.WroteBack {
		s += " (written back: it was dirty)"
	}
	return s
}

// framesText shows the frames after r, as the table draws them.
func (st stepStyle) framesText(r stepRow) string {
	var parts []string
	for _, c := range st.frameCells(r, allDetail) {
		parts = append(parts, c.shown)
	}
	return strings.Join(parts, " ")
}

// runQuiz asks each question, reads an answer from in, says at once
// whether it was right, and prints the score. Once in ends, the remaining
// accesses are printed with their answers.
func runQuiz(in io.Reader, w io.Writer, st stepStyle, res pager.Result, rows []stepRow) error {
	for _, l := range quizIntro(st, res, true) {
		fmt.Fprintln(w, l)
	}
	sc := bufio.NewScanner(in)
	answered, right := 0, 0
	eof := false
	for _, r := range rows {
		q := fmt.Sprintf("%d: page %s (%s). Hit/Miss? Evicts? ", r.Index, st.page(r.Page), map[bool]string{true: "write", false: "read"}[r.Write])
		if eof {
			fmt.Fprintf(w, "%d: page %s (%s): %s; frames %s\n", r.Index, st.page(r.Page), rw(r.Write), st.answerText(r), st.framesText(r))
			continue
		}
		var a quizAnswer
		for {
			fmt.Fprint(w, q)
			if !sc.Scan() {
				if err := sc.Err(); err != nil {
					return err
				}
				eof = true
				fmt.Fprintln(w, "\n# no more answers: the rest, with their answers")
				break
			}
			var err error
			if a, err = parseQuizAnswer(sc.Text()); err == nil {
				break
			}
			fmt.Fprintf(w, "  %v\n", err)
		}
		if eof {
			fmt.Fprintf(w, "%d: page %s (%s): %s; frames %s\n", r.Index, st.page(r.Page), rw(r.Write), st.answerText(r), st.framesText(r))
			continue
		}
		answered++
		verdict := st.paint(ansiRed, "wrong") + " (you said " + st.said(a) + ")"
		if a.right(r) {
			right++
			verdict = st.paint(ansiGreen, "right")
		}
		fmt.Fprintf(w, "  %s: %s; frames %s\n", verdict, st.answerText(r), st.framesText(r))
	}
	_, err := fmt.Fprintf(w, "# score: %d of %d right (%d accesses, %d answered); %s made %d faults\n", right, answered, len(rows), answered, st.policy, countFaults(rows))
	return err
}

func countFaults(rows []stepRow) int {
	n := 0
	for _, r := range rows {
		if r.step.Kind == pager.Miss {
			n++
		}
	}
	return n
}
