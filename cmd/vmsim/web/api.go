package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/traces"
	"vmsim/traces/mrc"
	"vmsim/vm/arch"
	"vmsim/vm/exercise"
)

// policyInfo describes a policy for the page.
type policyInfo struct {
	Name        string `json:"name"`
	Summary     string `json:"summary"`
	Order       string `json:"order"`
	VictimFirst bool   `json:"victim_first"`
}

type exerciseInfo struct {
	Name    string `json:"name"`
	Summary string `json:"summary"`
	// Private says whether the exercise takes private (MAP_PRIVATE).
	Private bool `json:"private"`
}

// exercises are the mmap exercises the page runs.
var exercises = []exerciseInfo{
	{"mprotect", "a SIGSEGV handler that mprotects the faulting page, then the access retries", false},
	{"remap", "a SIGSEGV handler that maps a page at the faulting address and jumps back", false},
	{"shared-file", "two processes map the same file: each sees the other's writes", true},
	{"shared-anon", "the same with no file: a memfd passed to the child", true},
	{"beyond-eof", "map more pages than the file has: the tail reads zeros, past it SIGBUS", false},
}

type availability struct {
	Available bool   `json:"available"`
	Note      string `json:"note,omitempty"`
}

type infoJSON struct {
	Policies   []policyInfo   `json:"policies"`
	Builtins   []builtin      `json:"builtins"`
	Formats    []string       `json:"formats"`
	Mechanisms []string       `json:"mechanisms"`
	Exercises  []exerciseInfo `json:"exercises"`
	Limits     limitsJSON     `json:"limits"`
	Real       availability   `json:"real"`
	Kernel     availability   `json:"kernel"`
	Check      availability   `json:"check"`
}

type limitsJSON struct {
	MaxBody         int64   `json:"max_body"`
	MaxAccesses     int     `json:"max_accesses"`
	MaxStepAccesses int     `json:"max_step_accesses"`
	MaxFrames       int     `json:"max_frames"`
	MaxCurveFrames  int     `json:"max_curve_frames"`
	MaxCurvePoints  int     `json:"max_curve_points"`
	MaxPolicies     int     `json:"max_policies"`
	MaxWork         uint64  `json:"max_work"`
	MaxRealAccesses int     `json:"max_real_accesses"`
	MaxRealPages    int     `json:"max_real_pages"`
	RunTimeout      float64 `json:"run_timeout_seconds"`
	MaxRuns         int     `json:"max_runs"`
}

const defaultCheckNote = "grading a C program (vmsim check) is not in this build yet"

func (s *Server) info(w http.ResponseWriter, r *http.Request) {
	in := infoJSON{Builtins: builtins, Formats: traces.Formats(), Mechanisms: live.Mechanisms()}
	for _, name := range pager.Policies() {
		order, first := pager.Order(name)
		in.Policies = append(in.Policies, policyInfo{name, pager.Summary(name), order, first})
	}
	for _, e := range exercises {
		if s.opts.Spawn == nil && strings.HasPrefix(e.Name, "shared-") {
			continue
		}
		in.Exercises = append(in.Exercises, e)
	}
	l := s.lim
	in.Limits = limitsJSON{l.MaxBody, l.MaxAccesses, l.MaxStepAccesses, l.MaxFrames, l.MaxCurveFrames, l.MaxCurvePoints, l.MaxPolicies, l.MaxWork, l.MaxRealAccesses, l.MaxRealPages, l.RunTimeout.Seconds(), l.MaxRuns}
	in.Real = availability{Available: !s.opts.NoReal}
	if s.opts.NoReal {
		in.Real.Note = "this server runs simulations only"
	}
	in.Kernel = availability{Available: s.opts.Kernel != nil && !s.opts.NoReal, Note: s.opts.KernelNote}
	in.Check = availability{Available: s.opts.Check != nil, Note: s.opts.CheckNote}
	if s.opts.Check == nil && in.Check.Note == "" {
		in.Check.Note = defaultCheckNote
	}
	writeJSON(w, http.StatusOK, in)
}

// runSpec is what the run endpoints share: a trace, policies and frames.
type runSpec struct {
	Trace    traceSpec `json:"trace"`
	Policies []string  `json:"policies"`
	Frames   int       `json:"frames"`
	// Seed, Tick and Tau are the policies' options (pager.Options).
	Seed uint64 `json:"seed"`
	Tick uint64 `json:"tick"`
	Tau  uint64 `json:"tau"`
}

func (s *Server) checkPolicies(names []string) error {
	if len(names) == 0 {
		return badInput("policies: give at least one (%s)", strings.Join(pager.Policies(), ", "))
	}
	if len(names) > s.lim.MaxPolicies {
		return tooLarge("policies: %d of them, more than %d, the most of one request", len(names), s.lim.MaxPolicies)
	}
	for i, n := range names {
		if !slices.Contains(pager.Policies(), n) {
			return badInput("policies: %q: want %s", n, strings.Join(pager.Policies(), ", "))
		}
		if slices.Contains(names[:i], n) {
			return badInput("policies: %q twice", n)
		}
	}
	return nil
}

func (s *Server) checkFrames(frames int) error {
	if frames < 1 {
		return badInput("frames %d: want at least 1", frames)
	}
	if frames > s.lim.MaxFrames {
		return tooLarge("frames %d: more than %d, the most this page draws", frames, s.lim.MaxFrames)
	}
	return nil
}

func (sp runSpec) config(policy string, frames int) pager.Config {
	return pager.Config{Policy: policy, Frames: frames, Options: pager.Options{Seed: sp.Seed, Tick: sp.Tick, Tau: sp.Tau}}
}

// totalsJSON are running counts.
type totalsJSON struct {
	Accesses         uint64 `json:"accesses"`
	Hits             uint64 `json:"hits"`
	Faults           uint64 `json:"faults"`
	Evictions        uint64 `json:"evictions"`
	Writebacks       uint64 `json:"writebacks"`
	ProtectionFaults uint64 `json:"protection_faults"`
}

func totals(st pager.Stats) totalsJSON {
	return totalsJSON{st.Accesses, st.Hits, st.Faults, st.Evictions, st.Writebacks, st.ProtectionFaults}
}

// slotJSON is one frame slot of a step: its page and the policy's state of
// it.
type slotJSON struct {
	Page  arch.PageNum `json:"page"`
	Dirty bool         `json:"dirty"`
	Note  string       `json:"note,omitempty"`
	Hand  bool         `json:"hand,omitempty"`
	List  string       `json:"list,omitempty"`
	// Ref is the reference (or visited) bit, 0 or 1, absent for policies
	// that keep none.
	Ref *int `json:"ref,omitempty"`
	// Key is the number the policy judges the page by, named KeyName;
	// absent for none, and for opt's next use "never".
	Key     *uint64 `json:"key,omitempty"`
	KeyName string  `json:"key_name,omitempty"`
}

type ghostJSON struct {
	Name  string         `json:"name"`
	Pages []arch.PageNum `json:"pages"`
}

type stepJSON struct {
	Kind        string         `json:"kind"`
	Victim      *arch.PageNum  `json:"victim"`
	WrittenBack bool           `json:"written_back"`
	Slot        int            `json:"slot"`
	Slots       []*slotJSON    `json:"slots"`
	Order       []arch.PageNum `json:"order"`
	NextVictim  *arch.PageNum  `json:"next_victim"`
	Note        string         `json:"note,omitempty"`
	Ghosts      []ghostJSON    `json:"ghosts,omitempty"`
	Totals      totalsJSON     `json:"totals"`
}

type stepRunJSON struct {
	Policy      string     `json:"policy"`
	Summary     string     `json:"summary"`
	Order       string     `json:"order"`
	VictimFirst bool       `json:"victim_first"`
	Totals      totalsJSON `json:"totals"`
	Steps       []stepJSON `json:"steps"`
}

type stepsJSON struct {
	Trace  traceJSON     `json:"trace"`
	Frames int           `json:"frames"`
	Slots  int           `json:"slots"`
	Seed   uint64        `json:"seed"`
	Runs   []stepRunJSON `json:"runs"`
}

// steps is POST /api/steps: every access of every policy, as pager.Steps
// records it.
func (s *Server) steps(ctx context.Context, req *request) (any, error) {
	var sp runSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	if err := s.checkPolicies(sp.Policies); err != nil {
		return nil, err
	}
	if err := s.checkFrames(sp.Frames); err != nil {
		return nil, err
	}
	t, err := s.loadTrace(ctx, sp.Trace, req, s.lim.MaxStepAccesses, "a step playback shows")
	if err != nil {
		return nil, err
	}
	out := stepsJSON{Trace: describe(t, true), Frames: sp.Frames, Slots: min(sp.Frames, t.Distinct()), Seed: sp.Seed}
	for _, name := range sp.Policies {
		order, first := pager.Order(name)
		run := stepRunJSON{Policy: name, Summary: pager.Summary(name), Order: order, VictimFirst: first, Steps: make([]stepJSON, 0, t.Len())}
		res, err := pager.Steps(ctx, t, sp.config(name, sp.Frames), func(st pager.Step) {
			run.Steps = append(run.Steps, stepOf(t, st))
		})
		if err != nil {
			return nil, err
		}
		run.Totals = totals(res.Stats)
		out.Runs = append(out.Runs, run)
	}
	return out, nil
}

// stepOf turns a step into its JSON, in the trace's page numbers.
func stepOf(t *pager.Trace, st pager.Step) stepJSON {
	num := func(id pager.PageID) *arch.PageNum {
		n := t.PageNum(id)
		return &n
	}
	j := stepJSON{Kind: st.Kind.String(), WrittenBack: st.WroteBack, Slot: st.Slot, Note: st.State.Note, Totals: totals(st.Stats)}
	if st.Evicted {
		j.Victim = num(st.Victim)
	}
	if v, ok := st.NextVictim(); ok {
		j.NextVictim = num(v)
	}
	byPage := map[pager.PageID]pager.Frame{}
	j.Order = make([]arch.PageNum, len(st.State.Frames))
	for i, f := range st.State.Frames {
		byPage[f.Page] = f
		j.Order[i] = t.PageNum(f.Page)
	}
	j.Slots = make([]*slotJSON, len(st.Slots))
	for i, id := range st.Slots {
		if id == pager.NoPage {
			continue
		}
		f := byPage[id]
		sl := &slotJSON{Page: t.PageNum(id), Dirty: st.Dirty[i], Note: strings.TrimPrefix(f.Note, ">"), Hand: f.Hand, List: f.List, KeyName: f.KeyName}
		if f.Ref != pager.BitNone {
			r := 0
			if f.Ref == pager.BitSet {
				r = 1
			}
			sl.Ref = &r
		}
		if f.KeyName != "" && f.Key != traces.NoNext {
			k := f.Key
			sl.Key = &k
		}
		j.Slots[i] = sl
	}
	for _, g := range st.State.Ghosts {
		gj := ghostJSON{Name: g.Name, Pages: []arch.PageNum{}}
		for _, id := range g.Pages {
			gj.Pages = append(gj.Pages, t.PageNum(id))
		}
		j.Ghosts = append(j.Ghosts, gj)
	}
	return j
}

// curveSpec asks for faults against frames.
type curveSpec struct {
	Trace    traceSpec `json:"trace"`
	Policies []string  `json:"policies"`
	// From, To and Step give the frame counts: From, From+Step, ... up to
	// To (Step 1 if zero).
	From int    `json:"from"`
	To   int    `json:"to"`
	Step int    `json:"step"`
	Seed uint64 `json:"seed"`
}

type pointJSON struct {
	Frames    int     `json:"frames"`
	Faults    uint64  `json:"faults"`
	MissRatio float64 `json:"miss_ratio"`
}

type seriesJSON struct {
	Policy string      `json:"policy"`
	Points []pointJSON `json:"points"`
}

// anomalyJSON is a frame count at which a policy faults more than with
// fewer frames: Belady's anomaly.
type anomalyJSON struct {
	Policy      string `json:"policy"`
	Frames      int    `json:"frames"`
	Faults      uint64 `json:"faults"`
	FewerFrames int    `json:"fewer_frames"`
	FewerFaults uint64 `json:"fewer_faults"`
}

type curveJSON struct {
	Trace     traceJSON     `json:"trace"`
	Series    []seriesJSON  `json:"series"`
	Anomalies []anomalyJSON `json:"anomalies"`
}

// curve is POST /api/curve: faults against frames through pager.Sweep.
func (s *Server) curve(ctx context.Context, req *request) (any, error) {
	var sp curveSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	if err := s.checkPolicies(sp.Policies); err != nil {
		return nil, err
	}
	step := sp.Step
	if step == 0 {
		step = 1
	}
	switch {
	case sp.From < 1 || step < 1:
		return nil, badInput("frames from %d step %d: want at least 1 each", sp.From, sp.Step)
	case sp.To < sp.From:
		return nil, badInput("frames to %d is below from %d", sp.To, sp.From)
	case sp.To > s.lim.MaxCurveFrames:
		return nil, tooLarge("frames to %d: more than %d, the most of a curve here", sp.To, s.lim.MaxCurveFrames)
	case (sp.To-sp.From)/step+1 > s.lim.MaxCurvePoints:
		return nil, tooLarge("%d frame counts: more than %d, the most of a curve here; take a larger step", (sp.To-sp.From)/step+1, s.lim.MaxCurvePoints)
	}
	var frames []int
	for f := sp.From; f <= sp.To; f += step {
		frames = append(frames, f)
	}
	t, err := s.loadTrace(ctx, sp.Trace, req, s.lim.MaxAccesses, "a curve takes")
	if err != nil {
		return nil, err
	}
	runs := uint64(len(frames) * len(sp.Policies))
	if work := uint64(t.Len()) * runs; work > s.lim.MaxWork {
		return nil, tooLarge("%d accesses × %d runs is %d steps, more than %d, the most of one request: fewer frame counts or policies, or vmsim replay", t.Len(), runs, work, s.lim.MaxWork)
	}
	var cfgs []pager.Config
	for _, p := range sp.Policies {
		for _, f := range frames {
			cfgs = append(cfgs, pager.Config{Policy: p, Frames: f, Options: pager.Options{Seed: sp.Seed}})
		}
	}
	results, err := pager.Sweep(ctx, []*pager.Trace{t}, cfgs, 0)
	if err != nil {
		return nil, err
	}
	out := curveJSON{Trace: describe(t, false), Anomalies: []anomalyJSON{}}
	for i, p := range sp.Policies {
		se := seriesJSON{Policy: p}
		for j := range frames {
			r := results[i*len(frames)+j]
			se.Points = append(se.Points, pointJSON{r.Frames, r.Faults, r.MissRatio()})
		}
		for j := 1; j < len(se.Points); j++ {
			if a, b := se.Points[j-1], se.Points[j]; b.Faults > a.Faults {
				out.Anomalies = append(out.Anomalies, anomalyJSON{p, b.Frames, b.Faults, a.Frames, a.Faults})
			}
		}
		out.Series = append(out.Series, se)
	}
	if req.format == "csv" {
		return curveCSV(t.Name(), out.Series, t.Len())
	}
	return out, nil
}

func curveCSV(trace string, series []seriesJSON, accesses int) (*download, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	cw.Write([]string{"trace", "policy", "frames", "faults", "miss_ratio", "accesses"})
	for _, se := range series {
		for _, p := range se.Points {
			cw.Write([]string{trace, se.Policy, strconv.Itoa(p.Frames), strconv.FormatUint(p.Faults, 10), strconv.FormatFloat(p.MissRatio, 'f', 6, 64), strconv.Itoa(accesses)})
		}
	}
	cw.Flush()
	return &download{"text/csv; charset=utf-8", "curve.csv", b.Bytes()}, cw.Error()
}

type mrcSpec struct {
	Trace traceSpec `json:"trace"`
}

type mrcJSON struct {
	Trace  traceJSON   `json:"trace"`
	Points []pointJSON `json:"points"`
}

// mrc is POST /api/mrc: the exact LRU miss-ratio curve, at every frame
// count up to the distinct pages (about 1,000 points for more).
func (s *Server) mrc(ctx context.Context, req *request) (any, error) {
	var sp mrcSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	t, err := s.loadTrace(ctx, sp.Trace, req, s.lim.MaxAccesses, "a curve takes")
	if err != nil {
		return nil, err
	}
	c, err := mrc.Compute(newTraceReader(ctx, t), nil)
	if err != nil {
		return nil, err
	}
	n := max(int(c.Distinct()), 1)
	stride := max(1, n/1000)
	out := mrcJSON{Trace: describe(t, false)}
	for k := 1; ; k += stride {
		k = min(k, n)
		out.Points = append(out.Points, pointJSON{k, c.Misses(k), c.MissRatio(k)})
		if k == n {
			break
		}
	}
	if req.format == "csv" {
		return curveCSV(t.Name(), []seriesJSON{{Policy: "lru", Points: out.Points}}, t.Len())
	}
	return out, nil
}

// traceReader reads a loaded trace back as accesses, for mrc.Compute, and
// stops once ctx is done.
type traceReader struct {
	ctx context.Context
	t   *pager.Trace
	i   int
}

func newTraceReader(ctx context.Context, t *pager.Trace) *traceReader {
	return &traceReader{ctx: ctx, t: t}
}

func (r *traceReader) Read(buf []traces.Access) (int, error) {
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n := 0
	for n < len(buf) && r.i < r.t.Len() {
		id, w := r.t.At(r.i)
		buf[n] = traces.Access{Page: r.t.PageNum(id), Write: w}
		n++
		r.i++
	}
	if n == 0 {
		return 0, io.EOF
	}
	return n, nil
}

// realSpec asks for real runs beside simulated ones.
type realSpec struct {
	runSpec
	Mechanism string `json:"mechanism"`
}

type realRunJSON struct {
	Policy     string        `json:"policy"`
	Sim        totalsJSON    `json:"sim"`
	Real       totalsJSON    `json:"real"`
	UserFaults uint64        `json:"user_faults"`
	Kernel     *KernelCounts `json:"kernel,omitempty"`
	// Agree reports whether real memory counted what the simulation did
	// (invariant I1).
	Agree bool `json:"agree"`
}

type realJSON struct {
	Trace      traceJSON     `json:"trace"`
	Frames     int           `json:"frames"`
	Mechanism  string        `json:"mechanism"`
	Runs       []realRunJSON `json:"runs"`
	Kernel     bool          `json:"kernel"`
	KernelNote string        `json:"kernel_note,omitempty"`
}

// tryReal takes the one token of real-memory work.
func (s *Server) tryReal() (func(), error) {
	if s.opts.NoReal {
		return nil, fmt.Errorf("real memory: %w: this server runs simulations only", errUnavailable)
	}
	select {
	case s.real <- struct{}{}:
		return func() { <-s.real }, nil
	default:
		return nil, fmt.Errorf("real memory is in use by another run, and runs one at a time: %w; try again in a moment", errBusy)
	}
}

// realRun is POST /api/real: each policy simulated and replayed on real
// memory by pager/live, with the kernel's counts when the server can.
func (s *Server) realRun(ctx context.Context, req *request) (any, error) {
	var sp realSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	if err := s.checkPolicies(sp.Policies); err != nil {
		return nil, err
	}
	if err := s.checkFrames(sp.Frames); err != nil {
		return nil, err
	}
	mech := live.Mprotect
	if sp.Mechanism != "" {
		m, err := live.ParseMechanism(sp.Mechanism)
		if err != nil {
			return nil, badInput("mechanism %q: want %s", sp.Mechanism, strings.Join(live.Mechanisms(), ", "))
		}
		mech = m
	}
	release, err := s.tryReal()
	if err != nil {
		return nil, err
	}
	defer release()
	t, err := s.loadTrace(ctx, sp.Trace, req, s.lim.MaxRealAccesses, "a real run takes")
	if err != nil {
		return nil, err
	}
	if t.Distinct() > s.lim.MaxRealPages {
		return nil, tooLarge("the trace has %d distinct pages, more than %d, the most real memory maps here", t.Distinct(), s.lim.MaxRealPages)
	}
	out := realJSON{Trace: describe(t, false), Frames: sp.Frames, Mechanism: mech.String(), Kernel: s.opts.Kernel != nil, KernelNote: s.opts.KernelNote}
	for _, name := range sp.Policies {
		cfg := sp.config(name, sp.Frames)
		sim, err := pager.Simulate(ctx, t, cfg, nil)
		if err != nil {
			return nil, err
		}
		pol, err := pager.NewPolicy(name, cfg.Options)
		if err != nil {
			return nil, err
		}
		lp, err := live.New(max(t.Distinct(), 1), pol, sp.Frames, &live.Options{Mechanism: mech})
		if err != nil {
			return nil, fmt.Errorf("real memory, %s: %w", name, err)
		}
		src := t.Source(0, pager.NeedsNext(name))
		var st live.Stats
		var kc *KernelCounts
		replay := func() error {
			var err error
			st, err = lp.Replay(ctx, src)
			return err
		}
		if s.opts.Kernel != nil {
			var c KernelCounts
			c, err = s.opts.Kernel.Measure(lp, replay)
			kc = &c
		} else {
			err = replay()
		}
		if cerr := lp.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, fmt.Errorf("real memory, %s: %w", name, err)
		}
		a, b := sim.Stats, st.Stats
		out.Runs = append(out.Runs, realRunJSON{Policy: name, Sim: totals(a), Real: totals(b), UserFaults: st.UserFaults, Kernel: kc,
			Agree: a.Faults == b.Faults && a.Evictions == b.Evictions && a.Writebacks == b.Writebacks && a.ProtectionFaults == b.ProtectionFaults})
	}
	return out, nil
}

type exerciseSpec struct {
	Name    string `json:"name"`
	Private bool   `json:"private"`
}

type exerciseJSON struct {
	Name       string `json:"name"`
	OK         bool   `json:"ok"`
	Transcript string `json:"transcript"`
	// Failed says which checks failed, when OK is false.
	Failed string `json:"failed,omitempty"`
}

// exercise is POST /api/exercise: one mmap exercise on real memory, its
// transcript as the command prints it.
func (s *Server) exercise(ctx context.Context, req *request) (any, error) {
	var sp exerciseSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	i := slices.IndexFunc(exercises, func(e exerciseInfo) bool { return e.Name == sp.Name })
	if i < 0 {
		var names []string
		for _, e := range exercises {
			names = append(names, e.Name)
		}
		return nil, badInput("exercise %q: want %s", sp.Name, strings.Join(names, ", "))
	}
	if sp.Private && !exercises[i].Private {
		return nil, badInput("exercise %s takes no private option (shared-file and shared-anon do)", sp.Name)
	}
	shared := strings.HasPrefix(sp.Name, "shared-")
	if shared && s.opts.Spawn == nil {
		return nil, fmt.Errorf("exercise %s: %w: it starts a second process, which this server cannot", sp.Name, errUnavailable)
	}
	release, err := s.tryReal()
	if err != nil {
		return nil, err
	}
	defer release()
	var b bytes.Buffer
	share := &exercise.ShareOptions{Private: sp.Private, Spawn: s.opts.Spawn}
	switch sp.Name {
	case "mprotect":
		err = exercise.Mprotect(&b, nil)
	case "remap":
		err = exercise.Remap(&b, nil)
	case "shared-file":
		err = exercise.SharedFile(ctx, &b, share)
	case "shared-anon":
		err = exercise.SharedAnon(ctx, &b, share)
	case "beyond-eof":
		err = exercise.BeyondEOF(&b, nil)
	}
	out := exerciseJSON{Name: sp.Name, OK: err == nil, Transcript: b.String()}
	if errors.Is(err, exercise.ErrCheck) {
		out.Failed = err.Error()
		return out, nil
	}
	if err != nil {
		return nil, fmt.Errorf("exercise %s: %w", sp.Name, err)
	}
	return out, nil
}

type checkSpec struct {
	Exercise string `json:"exercise"`
}

type checkJSON struct {
	Exercise string `json:"exercise"`
	Report   string `json:"report"`
}

// check is POST /api/check: a C program (the upload) graded against an
// exercise by the Checker, or 501 without one.
func (s *Server) check(ctx context.Context, req *request) (any, error) {
	if s.opts.Check == nil {
		note := s.opts.CheckNote
		if note == "" {
			note = defaultCheckNote
		}
		return nil, fmt.Errorf("%s: %w", note, errUnavailable)
	}
	var sp checkSpec
	if err := req.decode(&sp); err != nil {
		return nil, err
	}
	if req.upload == nil {
		return nil, badInput("upload the C program as the trace part of a multipart request")
	}
	release, err := s.tryReal()
	if err != nil {
		return nil, err
	}
	defer release()
	report, err := s.opts.Check.Check(ctx, sp.Exercise, req.upload)
	if err != nil {
		return nil, err
	}
	return checkJSON{sp.Exercise, report}, nil
}
