package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/traces/gen"
	"vmsim/vm/arch"
)

// traceSpec says where a request's trace comes from: exactly one of Text
// (the pages format, typed in), Builtin, or an uploaded file (the
// multipart "trace" part, with Format).
type traceSpec struct {
	// Text is a reference string in the pages format: "7,0,1,2w".
	Text string `json:"text,omitempty"`
	// Builtin is one of builtins: textbook, belady, loop, zipf, phases.
	Builtin string `json:"builtin,omitempty"`
	// N, Distinct, Seed, Alpha and WorkingSet shape the generated
	// built-ins (loop, zipf, phases).
	N          uint64  `json:"n,omitempty"`
	Distinct   uint64  `json:"distinct,omitempty"`
	Seed       uint64  `json:"seed,omitempty"`
	Alpha      float64 `json:"alpha,omitempty"`
	WorkingSet uint64  `json:"ws,omitempty"`
	// Format is the upload's format (auto if empty); PageSize divides its
	// addresses (rw, lackey).
	Format   string `json:"format,omitempty"`
	PageSize uint64 `json:"page_size,omitempty"`
}

// Reference strings of the textbooks.
const (
	textbookString = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1"
	beladyString   = "1,2,3,4,1,2,5,1,2,3,4,5"
)

// builtin is a trace the page offers by name.
type builtin struct {
	Name string `json:"name"`
	What string `json:"what"`
	// Generated builtins take n, distinct and seed.
	Generated bool `json:"generated"`
}

var builtins = []builtin{
	{"textbook", "the textbook's string " + textbookString + " (Silberschatz et al.)", false},
	{"belady", "Belady's string " + beladyString + ": FIFO faults more with 4 frames than with 3", false},
	{"loop", "a loop over distinct pages: 0, 1, ..., k-1, 0, 1, ...", true},
	{"zipf", "pages drawn with probability 1/(p+1)^alpha (alpha 1 by default), seeded", true},
	{"phases", "uniform draws from a working set of ws pages that moves every n/8 accesses, seeded", true},
}

// errTraceTooLong is wrapped when a trace has more accesses than allowed.
var errTraceTooLong = errors.New("too many accesses")

// boundedReader fails once more than max accesses are read.
type boundedReader struct {
	r   traces.Reader
	n   int
	max int
}

func (b *boundedReader) Read(buf []traces.Access) (int, error) {
	k, err := b.r.Read(buf)
	b.n += k
	if b.n > b.max {
		return 0, errTraceTooLong
	}
	return k, err
}

// loadTrace reads a request's trace into memory, bounded by max accesses
// (what says for what, in the error).
func (s *Server) loadTrace(ctx context.Context, spec traceSpec, req *request, max int, what string) (*pager.Trace, error) {
	given := 0
	for _, b := range []bool{spec.Text != "", spec.Builtin != "", req.upload != nil} {
		if b {
			given++
		}
	}
	if given != 1 {
		return nil, badInput("give one trace: text (a reference string), builtin (%s) or an uploaded file", strings.Join(builtinNames(), ", "))
	}
	var (
		r       traces.Reader
		name    string
		display string // the name in errors: "" for typed text, which says "line N"
		err     error
	)
	switch {
	case spec.Text != "":
		name = "typed"
		r, err = openText(spec.Text)
	case req.upload != nil:
		name, display = req.uploadName, req.uploadName
		if spec.Format != "" && spec.Format != traces.FormatAuto && !slices.Contains(traces.Formats(), spec.Format) {
			return nil, badInput("format %q: want auto, %s", spec.Format, strings.Join(traces.Formats(), ", "))
		}
		if spec.PageSize != 0 && !arch.PageSize(spec.PageSize).Valid() {
			return nil, badInput("page_size %d: must be a power of two", spec.PageSize)
		}
		var closer io.Closer
		r, closer, err = traces.NewReader(bytes.NewReader(req.upload), name, &traces.OpenOptions{Format: spec.Format, PageSize: arch.PageSize(spec.PageSize)})
		if err == nil {
			defer closer.Close()
		}
	default:
		name = spec.Builtin
		r, err = s.openBuiltin(spec, max)
	}
	if err != nil {
		return nil, traceError(err, display)
	}
	t, err := pager.Load(ctx, name, &boundedReader{r: r, max: max}, nil)
	if errors.Is(err, errTraceTooLong) {
		return nil, tooLarge("the trace has more than %d accesses, the most %s: cut it, or run it with the command line", max, what)
	}
	if err != nil {
		return nil, traceError(err, display)
	}
	if t.Len() == 0 {
		return nil, badInput("the trace has no access")
	}
	return t, nil
}

func openText(text string) (traces.Reader, error) {
	r, _, err := traces.NewReader(strings.NewReader(text), "", &traces.OpenOptions{Format: traces.FormatPages})
	return r, err
}

func builtinNames() []string {
	var names []string
	for _, b := range builtins {
		names = append(names, b.Name)
	}
	return names
}

// openBuiltin returns a built-in trace's reader.
func (s *Server) openBuiltin(spec traceSpec, max int) (traces.Reader, error) {
	switch spec.Builtin {
	case "textbook":
		return openText(textbookString)
	case "belady":
		return openText(beladyString)
	}
	if !slices.Contains(builtinNames(), spec.Builtin) {
		return nil, badInput("builtin %q: want %s", spec.Builtin, strings.Join(builtinNames(), ", "))
	}
	n, distinct := spec.N, spec.Distinct
	if n == 0 {
		n = 40
	}
	if distinct == 0 {
		distinct = 8
	}
	if n > uint64(max) {
		return nil, tooLarge("n %d: more than %d accesses, the most this request takes", n, max)
	}
	if distinct > 1<<20 {
		return nil, badInput("distinct %d: at most %d pages", distinct, 1<<20)
	}
	if !(spec.Alpha >= 0 && spec.Alpha <= 100) {
		return nil, badInput("alpha %v: want an exponent from 0 to 100", spec.Alpha)
	}
	if spec.WorkingSet > distinct {
		return nil, badInput("ws %d is larger than distinct %d: the working set is part of the pages", spec.WorkingSet, distinct)
	}
	alpha := spec.Alpha
	if alpha == 0 {
		alpha = 1
	}
	r, err := gen.New(spec.Builtin, &gen.Options{N: n, Pages: distinct, Seed: spec.Seed, Alpha: alpha, WorkingSet: spec.WorkingSet})
	if err != nil {
		return nil, badInput("builtin %s: %v", spec.Builtin, err)
	}
	return r, nil
}

// traceError turns a trace's error into bad input in the user's words:
// "line 3: "x": expected a page number ..." for a typed string, with the
// upload's name for a file.
func traceError(err error, name string) error {
	var ie *inputError
	if errors.As(err, &ie) {
		return err
	}
	var pe *traces.ParseError
	if errors.As(err, &pe) {
		why := strings.TrimPrefix(pe.Err.Error(), traces.ErrSyntax.Error()+": ")
		where := fmt.Sprintf("line %d", pe.Line)
		if pe.Line == 0 {
			where = fmt.Sprintf("byte %d", pe.Offset)
		}
		if name != "" {
			where = name + ": " + where
		}
		if pe.Token != "" {
			return badInput("%s: %q: %s", where, pe.Token, why)
		}
		return badInput("%s: %s", where, why)
	}
	if errors.Is(err, pager.ErrTooLarge) {
		return tooLarge("%v", err)
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if name == "" {
		return badInput("the trace: %v", err)
	}
	return badInput("%s: %v", name, err)
}

// traceJSON describes a trace in responses.
type traceJSON struct {
	Name     string         `json:"name"`
	Accesses int            `json:"accesses"`
	Distinct int            `json:"distinct"`
	Pages    []arch.PageNum `json:"pages,omitempty"`
	Writes   []bool         `json:"writes,omitempty"`
}

func describe(t *pager.Trace, withPages bool) traceJSON {
	d := traceJSON{Name: t.Name(), Accesses: t.Len(), Distinct: t.Distinct()}
	if withPages {
		d.Pages = make([]arch.PageNum, t.Len())
		d.Writes = make([]bool, t.Len())
		for i := range t.Len() {
			id, w := t.At(i)
			d.Pages[i], d.Writes[i] = t.PageNum(id), w
		}
	}
	return d
}
