package sweep

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// Record is one finished job: a line of a sweep's JSON Lines output. After
// the job's id come the fields of vmsim replay -o json, in its order
// (trace, policy, frames, mode and the counters), so that what reads one
// reads the other; then the trace's hash and every option that the id
// covers.
type Record struct {
	// Job is the job's id ([Job.ID]).
	Job    string `json:"job"`
	Trace  string `json:"trace"`
	Policy string `json:"policy"`
	Frames int    `json:"frames"`
	// Mode is "sim": sweeps run in simulation.
	Mode string `json:"mode"`
	pager.Stats
	MissRatio float64 `json:"miss_ratio"`
	// SHA256 is the hash of the trace file's bytes.
	SHA256   string `json:"sha256"`
	Seed     uint64 `json:"seed"`
	Tick     uint64 `json:"tick"`
	Tau      uint64 `json:"tau"`
	Format   string `json:"format"`
	PageSize uint64 `json:"page_size"`
	NoInstr  bool   `json:"no_instr"`
	Limit    uint64 `json:"limit"`
}

// NewRecord returns the record of job j with the counters st.
func NewRecord(j Job, st pager.Stats) Record {
	d := j.Decoding.normal()
	return Record{
		Job: j.ID(), Trace: j.Trace, SHA256: j.SHA256, Policy: j.Policy, Frames: j.Frames, Mode: "sim",
		Stats: st, MissRatio: st.MissRatio(),
		Seed: j.Seed, Tick: j.Tick, Tau: j.Tau,
		Format: d.Format, PageSize: d.PageSize, NoInstr: d.NoInstr, Limit: d.Limit,
	}
}

// JobOf returns the job that r is the record of.
func (r Record) JobOf() Job {
	return Job{
		Trace: r.Trace, SHA256: r.SHA256,
		Decoding: Decoding{Format: r.Format, PageSize: r.PageSize, NoInstr: r.NoInstr, Limit: r.Limit},
		Config:   pager.Config{Policy: r.Policy, Frames: r.Frames, Options: pager.Options{Seed: r.Seed, Tick: r.Tick, Tau: r.Tau}},
	}
}

// AppendLine appends r as one line of JSON, newline included.
func (r Record) AppendLine(b []byte) []byte {
	line, err := json.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("sweep: a record does not encode: %v", err)) // only numbers and strings
	}
	return append(append(b, line...), '\n')
}

// ErrBadRecord is wrapped by the error for a line that is not a valid
// record.
var ErrBadRecord = errors.New("not a valid sweep record")

// ParseError is a bad line of a file: a record of a results file, or a
// line of a manifest.
type ParseError struct {
	// File names the file; Line is the line's number, from 1.
	File string
	Line int
	// Err is what is wrong.
	Err error
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }

// Unwrap returns e.Err.
func (e *ParseError) Unwrap() error { return e.Err }

// fields are the names every record has, in the order they are written.
var fields = func() []string {
	b, _ := json.Marshal(Record{})
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic(err)
	}
	var names []string
	for k := range m {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}()

var (
	hexID  = regexp.MustCompile(`^[0-9a-f]{16}$`)
	hex256 = regexp.MustCompile(`^[0-9a-f]{64}$`)
)

// ParseRecord parses one line (without its newline) as a record and
// checks it: every field there, of its type, none unknown; a known
// policy, format and mode; counters that add up (accesses = reads +
// writes = hits + faults; evictions <= faults; writebacks <= evictions;
// protection faults <= writes and <= hits); miss_ratio = faults /
// accesses; and the id that the other fields give. Its errors wrap
// [ErrBadRecord].
func ParseRecord(line []byte) (Record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrBadRecord, jsonError(err))
	}
	for _, f := range fields {
		if _, ok := m[f]; !ok {
			return Record{}, fmt.Errorf("%w: no field %q", ErrBadRecord, f)
		}
	}
	if len(m) != len(fields) {
		for k := range m {
			if !slices.Contains(fields, k) {
				return Record{}, fmt.Errorf("%w: unknown field %q", ErrBadRecord, k)
			}
		}
	}
	var r Record
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrBadRecord, jsonError(err))
	}
	if err := r.check(); err != nil {
		return Record{}, fmt.Errorf("%w: %v", ErrBadRecord, err)
	}
	return r, nil
}

// jsonError says what encoding/json found wrong, without its package
// prefix.
func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: want a %v, not a JSON %s", te.Field, te.Type, te.Value)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// check checks what ParseRecord promises beyond the syntax.
func (r Record) check() error {
	s := r.Stats
	switch {
	case !hexID.MatchString(r.Job):
		return fmt.Errorf("job %q: want 16 lowercase hex digits", r.Job)
	case !hex256.MatchString(r.SHA256):
		return fmt.Errorf("sha256 %q: want 64 lowercase hex digits", r.SHA256)
	case r.Trace == "":
		return errors.New("empty trace name")
	case policyRankOf(r.Policy) < 0:
		return fmt.Errorf("policy %q: %v", r.Policy, pager.ErrUnknownPolicy)
	case r.Frames < 1 || r.Frames > pager.MaxFrames:
		return fmt.Errorf("frames %d: want 1 to %d", r.Frames, pager.MaxFrames)
	case r.Mode != "sim":
		return fmt.Errorf("mode %q: sweeps run in sim", r.Mode)
	case r.Format != traces.FormatAuto && !slices.Contains(traces.Formats(), r.Format):
		return fmt.Errorf("format %q: %v", r.Format, traces.ErrUnknownFormat)
	case !arch.PageSize(r.PageSize).Valid():
		return fmt.Errorf("page_size %d: %v", r.PageSize, traces.ErrPageSize)
	case s.Reads+s.Writes != s.Accesses || s.Reads > s.Accesses:
		return fmt.Errorf("reads %d + writes %d is not accesses %d", s.Reads, s.Writes, s.Accesses)
	case s.Hits+s.Faults != s.Accesses || s.Hits > s.Accesses:
		return fmt.Errorf("hits %d + faults %d is not accesses %d", s.Hits, s.Faults, s.Accesses)
	case s.Evictions > s.Faults:
		return fmt.Errorf("evictions %d are more than faults %d", s.Evictions, s.Faults)
	case s.Writebacks > s.Evictions:
		return fmt.Errorf("writebacks %d are more than evictions %d", s.Writebacks, s.Evictions)
	case s.ProtectionFaults > s.Writes || s.ProtectionFaults > s.Hits:
		return fmt.Errorf("protection_faults %d are more than writes %d or hits %d", s.ProtectionFaults, s.Writes, s.Hits)
	case r.MissRatio != s.MissRatio():
		return fmt.Errorf("miss_ratio %v is not faults / accesses = %v", r.MissRatio, s.MissRatio())
	}
	if id := r.JobOf().ID(); id != r.Job {
		return fmt.Errorf("job %s: its fields make the id %s (a field was changed, or the line is of another version)", r.Job, id)
	}
	return nil
}

// policyRankOf returns the position of policy in [pager.Policies], or -1.
func policyRankOf(policy string) int {
	if i, ok := policyRank[policy]; ok {
		return i
	}
	return -1
}

// File is what [Read] found in a file of records.
type File struct {
	// Name names the file.
	Name string
	// Records are its valid records, in order, and Lines their line
	// numbers.
	Records []Record
	Lines   []int
	// Damaged are its bad lines, in order.
	Damaged []*ParseError
	// Torn is the number of an incomplete last line (no newline: the
	// process that wrote it stopped in the middle), 0 if none. End is the
	// offset just past the last complete line.
	Torn int
	End  int64
}

// MaxLine bounds a line of a results file; a record takes about 400
// bytes.
const MaxLine = 64 << 10

// Read reads a file of records. Bad lines are collected in the File's
// Damaged, not returned as an error; an error is a failure to read.
// Blank lines are skipped.
func Read(r io.Reader, name string) (*File, error) {
	f := &File{Name: name}
	br := bufio.NewReaderSize(r, 64<<10)
	var line []byte
	for n := 1; ; n++ {
		line = line[:0]
		size := 0 // the line's bytes, kept or not
		var err error
		for {
			var chunk []byte
			chunk, err = br.ReadSlice('\n')
			size += len(chunk)
			if size <= MaxLine+1 {
				line = append(line, chunk...)
			}
			if err != bufio.ErrBufferFull {
				break
			}
		}
		if err == io.EOF {
			// No newline: the end of the file, or a line cut short.
			if size > 0 {
				f.Torn = n
			}
			return f, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		f.End += int64(size)
		text := bytes.TrimSpace(line)
		switch {
		case size > MaxLine+1:
			f.Damaged = append(f.Damaged, &ParseError{File: name, Line: n, Err: fmt.Errorf("%w: a line longer than %d bytes", ErrBadRecord, MaxLine)})
		case len(text) == 0:
		default:
			rec, perr := ParseRecord(text)
			if perr != nil {
				f.Damaged = append(f.Damaged, &ParseError{File: name, Line: n, Err: perr})
				break
			}
			f.Records = append(f.Records, rec)
			f.Lines = append(f.Lines, n)
		}
	}
}
