package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"vmsim/pager/live"
	"vmsim/vm/exercise"
)

//go:embed static
var static embed.FS

// Limits bound what one request may cost. A zero field means its default.
type Limits struct {
	// MaxBody is the largest request body in bytes, an upload included
	// (default 8 MiB).
	MaxBody int64
	// MaxAccesses is the longest trace for curves, in accesses (default
	// 2,000,000).
	MaxAccesses int
	// MaxStepAccesses is the longest trace a step playback shows (default
	// 2,000).
	MaxStepAccesses int
	// MaxFrames is the largest frame count of a step playback or a real
	// run (default 64).
	MaxFrames int
	// MaxCurveFrames is the largest frame count of a curve (default
	// 65,536), and MaxCurvePoints its number of frame counts (default 64).
	MaxCurveFrames int
	MaxCurvePoints int
	// MaxPolicies is the most policies of one request (default 8).
	MaxPolicies int
	// MaxWork bounds a curve's accesses × runs (default 200,000,000).
	MaxWork uint64
	// MaxRealAccesses and MaxRealPages bound a real run: accesses and
	// distinct pages, each a real page of memory (defaults 200,000 and
	// 4,096).
	MaxRealAccesses int
	MaxRealPages    int
	// RunTimeout is the deadline of one request's runs (default 20s).
	RunTimeout time.Duration
	// MaxRuns is the number of requests that may run at once (default 4);
	// real-memory runs and exercises go one at a time besides.
	MaxRuns int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	if l.MaxBody <= 0 {
		l.MaxBody = 8 << 20
	}
	def(&l.MaxAccesses, 2_000_000)
	def(&l.MaxStepAccesses, 2_000)
	def(&l.MaxFrames, 64)
	def(&l.MaxCurveFrames, 1<<16)
	def(&l.MaxCurvePoints, 64)
	def(&l.MaxPolicies, 8)
	if l.MaxWork == 0 {
		l.MaxWork = 200_000_000
	}
	def(&l.MaxRealAccesses, 200_000)
	def(&l.MaxRealPages, 4096)
	if l.RunTimeout <= 0 {
		l.RunTimeout = 20 * time.Second
	}
	def(&l.MaxRuns, 4)
	return l
}

// KernelCounts are the kernel's own page faults during a real run.
type KernelCounts struct {
	// Source is "ebpf" (the probe: faults on the run's memory only).
	Source string `json:"source"`
	// Faults is NotPresent + Protection.
	Faults     uint64 `json:"faults"`
	NotPresent uint64 `json:"not_present"`
	Protection uint64 `json:"protection"`
}

// KernelMeter counts the kernel's page faults on a real run's memory. The
// server calls it for one run at a time.
type KernelMeter interface {
	// Measure runs fn, a replay on lp, and returns the kernel's faults on
	// lp's memory during it.
	Measure(lp *live.Pager, fn func() error) (KernelCounts, error)
}

// Checker grades a student's C program for one exercise.
type Checker interface {
	// Check compiles and runs source against exercise and returns the
	// report, in the words of vmsim check.
	Check(ctx context.Context, exercise string, source []byte) (report string, err error)
}

// Options configure the handler. A nil *Options means the defaults.
type Options struct {
	// Limits bound each request.
	Limits Limits
	// Kernel counts the kernel's own faults beside real runs; nil when the
	// server cannot (KernelNote says why, in plain words, for the page).
	Kernel     KernelMeter
	KernelNote string
	// Spawn starts the second process of the two-process exercises; nil
	// leaves them out.
	Spawn exercise.Spawner
	// Check grades C programs; nil answers 501 with CheckNote (or a default
	// sentence).
	Check     Checker
	CheckNote string
	// NoReal leaves real-memory runs and exercises out (501).
	NoReal bool
}

// Server is the classroom's handler.
type Server struct {
	lim  Limits
	opts Options
	mux  *http.ServeMux
	// runs holds a token per request that runs; real holds the one token
	// of real-memory work.
	runs chan struct{}
	real chan struct{}
	// timeout is the deadline of runs: lim.RunTimeout, or less in tests.
	timeout time.Duration
}

// New returns the classroom's handler: the page, its assets and the API.
func New(opts *Options) *Server {
	var o Options
	if opts != nil {
		o = *opts
	}
	s := &Server{lim: o.Limits.withDefaults(), opts: o, mux: http.NewServeMux()}
	s.runs = make(chan struct{}, s.lim.MaxRuns)
	s.real = make(chan struct{}, 1)
	s.timeout = s.lim.RunTimeout
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is part of the binary
	}
	files := http.FileServerFS(sub)
	s.mux.Handle("/", method("GET", files))
	s.mux.Handle("/api/info", method("GET", http.HandlerFunc(s.info)))
	s.mux.Handle("/api/steps", method("POST", s.run(s.steps)))
	s.mux.Handle("/api/curve", method("POST", s.run(s.curve)))
	s.mux.Handle("/api/mrc", method("POST", s.run(s.mrc)))
	s.mux.Handle("/api/real", method("POST", s.run(s.realRun)))
	s.mux.Handle("/api/exercise", method("POST", s.run(s.exercise)))
	s.mux.Handle("/api/check", method("POST", s.run(s.check)))
	s.mux.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("%s %s: no such endpoint (see GET /api/info)", r.Method, r.URL.Path))
	})
	return s
}

// method answers 405, in JSON, to any method but m (and HEAD for GET).
func method(m string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != m && !(m == "GET" && r.Method == "HEAD") {
			w.Header().Set("Allow", m)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("%s %s: want %s", r.Method, r.URL.Path, m))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// NewServer returns an http.Server for h at addr, with timeouts that a
// slow or idle client cannot hold past.
func NewServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// ServeHTTP serves the page, its assets and the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// The page loads nothing from other hosts, and may not.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(r.URL.Path, "/api/") {
		h.Set("Cache-Control", "no-store")
	}
	s.mux.ServeHTTP(w, r)
}

// Errors the handlers return, mapped to statuses by statusOf.
var (
	// errBadInput is wrapped by every error of a request that is wrong.
	errBadInput = errors.New("bad input")
	// errTooLarge is wrapped by the errors of inputs past a bound.
	errTooLarge = errors.New("too large")
	// errBusy is wrapped when every run slot is taken.
	errBusy = errors.New("busy")
	// errUnavailable is wrapped by the errors of features this server
	// does not have.
	errUnavailable = errors.New("not available")
	// errMediaType is wrapped for a body that is neither JSON nor
	// multipart.
	errMediaType = errors.New("unsupported media type")
)

// ErrBadInput is what a [Checker] wraps when the request, not the server,
// is wrong (an unknown exercise): the page gets a 400 with its message.
var ErrBadInput = errBadInput

// inputError is bad input: its message is what the user reads.
type inputError struct {
	kind error
	msg  string
}

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == e.kind }

func badInput(format string, args ...any) error {
	return &inputError{errBadInput, fmt.Sprintf(format, args...)}
}

func tooLarge(format string, args ...any) error {
	return &inputError{errTooLarge, fmt.Sprintf(format, args...)}
}

func statusOf(err error) int {
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, errBadInput):
		return http.StatusBadRequest
	case errors.Is(err, errTooLarge), errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, errMediaType):
		return http.StatusUnsupportedMediaType
	case errors.Is(err, errBusy), errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable
	case errors.Is(err, errUnavailable):
		return http.StatusNotImplemented
	}
	return http.StatusInternalServerError
}

// errorBody is every error's JSON.
type errorBody struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, err error) {
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, errorBody{Error: err.Error()})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}

// handler is an API endpoint: it reads its request, runs, and returns
// what to write as JSON (or a *download to write as is).
type handler func(ctx context.Context, req *request) (any, error)

// download is a response that is not JSON: CSV data.
type download struct {
	contentType string
	name        string
	body        []byte
}

// run wraps an endpoint: the body read within its bound, then a run slot,
// a deadline, and errors as JSON. The body is read before the slot is
// taken: a client that sends its body slowly holds only its own
// connection (until the server's ReadTimeout), never a slot that the
// requests of others need.
func (s *Server) run(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req, err := s.readRequest(w, r)
		if err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		select {
		case s.runs <- struct{}{}:
			defer func() { <-s.runs }()
		default:
			writeError(w, http.StatusServiceUnavailable, fmt.Errorf("%d runs are under way, the most this server runs at once: %w; try again in a moment", s.lim.MaxRuns, errBusy))
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		v, err := h(ctx, req)
		if err != nil {
			switch {
			case errors.Is(err, context.DeadlineExceeded):
				err = fmt.Errorf("the run took longer than %v, this server's limit: try a shorter trace, fewer frames or fewer policies: %w", s.lim.RunTimeout, context.DeadlineExceeded)
			case errors.Is(err, context.Canceled):
				err = fmt.Errorf("the request was cancelled before its run ended: %w", errBusy)
			}
			writeError(w, statusOf(err), err)
			return
		}
		if d, ok := v.(*download); ok {
			w.Header().Set("Content-Type", d.contentType)
			w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": d.name}))
			w.Write(d.body)
			return
		}
		writeJSON(w, http.StatusOK, v)
	}
}

// request is a request's JSON, its uploaded trace if any, and its query.
type request struct {
	body       []byte
	upload     []byte
	uploadName string
	format     string // ?format=csv
}

// decode reads the request's JSON into v, refusing unknown fields.
func (r *request) decode(v any) error {
	if len(r.body) == 0 {
		return badInput("the request has no JSON body")
	}
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			return badInput("the request is not JSON: byte %d: %v", se.Offset, err)
		case errors.Is(err, io.ErrUnexpectedEOF):
			return badInput("the request is not JSON: it ends too soon")
		case errors.As(err, &te):
			return typeError(reflect.TypeOf(v), te)
		}
		return badInput("the request: %v", err)
	}
	if dec.More() {
		return badInput("the request holds more than one JSON value")
	}
	return nil
}

// typeError says, in words and with an example, what a field of the
// request (decoded into a value of type dst) should have been and what it
// was: never a Go type's name, which means nothing to the page's user.
func typeError(dst reflect.Type, te *json.UnmarshalTypeError) error {
	path, declared := jsonPath(dst, te.Field)
	got := jsonValueWords(te.Value)
	if path == "" {
		return badInput("the request: expected a JSON object {...}, not %s", got)
	}
	want := expectedWords(path, te.Type)
	if declared != nil && declared.Kind() == reflect.Slice && declared.Elem() == te.Type {
		// The decoder names the array, but the type of its item.
		return badInput("%q: expected %s, not an array holding %s", path, expectedWords(path, declared), got)
	}
	return badInput("%q: expected %s, not %s", path, want, got)
}

// jsonPath turns the decoder's path of a field ("runSpec.trace.n": Go's
// names of embedded structs included) into its JSON keys ("trace.n"), and
// returns the field's declared type (nil if the path does not resolve).
func jsonPath(t reflect.Type, field string) (string, reflect.Type) {
	if field == "" {
		return "", t
	}
	var keys []string
	for _, seg := range strings.Split(field, ".") {
		for t != nil && t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if t == nil || t.Kind() != reflect.Struct {
			keys, t = append(keys, seg), nil
			continue
		}
		var next reflect.Type
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" {
				name = f.Name
			}
			if f.Anonymous && f.Name == seg && f.Tag.Get("json") == "" {
				next = f.Type // an embedded struct: no key of its own
				break
			}
			if name == seg {
				keys, next = append(keys, seg), f.Type
				break
			}
		}
		if next == nil {
			keys = append(keys, seg)
		}
		t = next
	}
	return strings.Join(keys, "."), t
}

// stringExamples are example values of the request's string fields, by
// key.
var stringExamples = map[string]string{
	"text":      "7 0 1",
	"builtin":   "textbook",
	"format":    "pages",
	"mechanism": "mprotect",
	"name":      "mprotect",
	"exercise":  "mprotect",
}

// expectedWords says what a field at path of type t holds, with an
// example.
func expectedWords(path string, t reflect.Type) string {
	key := path[strings.LastIndex(path, ".")+1:]
	switch {
	case t == reflect.TypeFor[traceSpec]():
		return `an object like {"text": "7 0 1"}`
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.String && key == "policies":
		return `an array of strings like ["fifo", "lru"]`
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		return "an object"
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.String {
			return "an array of strings"
		}
		return "an array"
	case reflect.String:
		if ex, ok := stringExamples[key]; ok {
			return fmt.Sprintf("a string like %q", ex)
		}
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number like 3"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more, like 3"
	case reflect.Float32, reflect.Float64:
		return "a number like 1.5"
	}
	return "another kind of value"
}

// jsonValueWords says what the decoder found: its Value is "string",
// "number", "number -1" (a number the field cannot hold), "bool", "array"
// or "object".
func jsonValueWords(v string) string {
	if n, ok := strings.CutPrefix(v, "number "); ok {
		return n
	}
	switch v {
	case "string", "number":
		return "a " + v
	case "bool":
		return "a boolean"
	case "array", "object":
		return "an " + v
	}
	return v
}

// readRequest reads the body, bounded by MaxBody: JSON, or multipart with
// a "request" part (JSON) and a "trace" part (an upload), into memory.
func (s *Server) readRequest(w http.ResponseWriter, r *http.Request) (*request, error) {
	r.Body = http.MaxBytesReader(w, r.Body, s.lim.MaxBody)
	req := &request{format: r.URL.Query().Get("format")}
	if req.format != "" && req.format != "json" && req.format != "csv" {
		return nil, badInput("format %q: want json or csv", req.format)
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil && r.Header.Get("Content-Type") != "" {
		return nil, fmt.Errorf("Content-Type %q: %w: send application/json or multipart/form-data", r.Header.Get("Content-Type"), errMediaType)
	}
	tooBig := func(err error) error {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge("the request is larger than %d bytes, this server's limit", s.lim.MaxBody)
		}
		return badInput("reading the request: %v", err)
	}
	switch ct {
	case "application/json", "":
		if req.body, err = io.ReadAll(r.Body); err != nil {
			return nil, tooBig(err)
		}
	case "multipart/form-data":
		mr, err := r.MultipartReader()
		if err != nil {
			return nil, badInput("multipart body: %v", err)
		}
		_ = params
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, tooBig(err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return nil, tooBig(err)
			}
			switch part.FormName() {
			case "request":
				req.body = data
			case "trace":
				req.upload, req.uploadName = data, uploadName(part.FileName())
			default:
				return nil, badInput("multipart part %q: want request and trace", part.FormName())
			}
		}
	default:
		return nil, fmt.Errorf("Content-Type %q: %w: send application/json or multipart/form-data", ct, errMediaType)
	}
	return req, nil
}

// uploadName is the name an upload is shown by: the last element of what
// the browser sent, printable, at most 64 characters. It is never opened.
func uploadName(s string) string {
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if r := []rune(s); len(r) > 64 {
		s = string(r[:64])
	}
	if s == "" {
		s = "upload"
	}
	return s
}
