package pager

import (
	"context"
	"errors"
	"fmt"
	"io"

	"vmsim/traces"
)

// LoadOptions tune [Load]. A nil *LoadOptions means the defaults.
type LoadOptions struct {
	// MaxBytes bounds the memory of the loaded trace, as [LoadCost]
	// counts it; zero means no bound.
	MaxBytes uint64
	// Progress, if not nil, is called with the number of accesses read so
	// far.
	Progress func(accesses uint64)
}

// Memory a loaded trace takes: an id and a write flag per access, its next
// use once OPT needs it, and per distinct page its number and its slot in
// the numbering table (two, at the table's worst load).
const (
	bytesPerAccess = 4 + 1 + 8
	bytesPerPage   = 8 + 2*16
)

// LoadCost returns the bytes that [Load] takes for a trace of accesses
// accesses over distinct pages, next uses included.
func LoadCost(accesses, distinct uint64) uint64 {
	return accesses*bytesPerAccess + distinct*bytesPerPage
}

// ErrTooLarge is matched by the error of [Load] for a trace that does not
// fit in [LoadOptions.MaxBytes].
var ErrTooLarge = errors.New("trace too large to hold in memory")

// TooLargeError says how far [Load] got before the trace outgrew its
// budget. It matches [ErrTooLarge].
type TooLargeError struct {
	// Name is the trace's name.
	Name string
	// Read is the number of accesses read before Load stopped, and
	// Distinct their distinct pages.
	Read, Distinct uint64
	// Total is the trace's number of accesses if its format says it (a vmt
	// header), else 0.
	Total uint64
	// Need is what the whole trace would take, when Total is known; else
	// what the accesses read so far take, a lower bound.
	Need uint64
	// Max is the budget.
	Max uint64
}

func (e *TooLargeError) Error() string {
	if e.Total > 0 {
		return fmt.Sprintf("%s: %d accesses would take %s in memory, over the budget of %s: %v", e.Name, e.Total, Bytes(e.Need), Bytes(e.Max), ErrTooLarge)
	}
	return fmt.Sprintf("%s: read %d accesses (%d distinct pages, %s in memory) and the trace goes on, over the budget of %s: %v", e.Name, e.Read, e.Distinct, Bytes(e.Need), Bytes(e.Max), ErrTooLarge)
}

// Is reports whether target is ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// Bytes is a size in bytes that prints in binary units: "1.5 GiB".
type Bytes uint64

func (b Bytes) String() string {
	const unit = 1024
	if b < unit {
		return fmt.Sprintf("%d B", uint64(b))
	}
	div, exp := uint64(unit), 0
	for n := uint64(b) / unit; n >= unit && exp < 5; n /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(b)/float64(div), "KMGTPE"[exp])
}

// Load reads a whole trace into memory with dense page ids (see [LoadCost];
// next uses come with it if r supplies them). A reader that knows its count
// ([traces.Counter]) gets its memory sized once, and a trace that would not
// fit in opts.MaxBytes is refused before it is read; otherwise Load stops
// with a [*TooLargeError] as soon as what it read outgrows the budget. It
// stops with ctx's error when ctx is done, checked every batch.
func Load(ctx context.Context, name string, r traces.Reader, opts *LoadOptions) (*Trace, error) {
	var o LoadOptions
	if opts != nil {
		o = *opts
	}
	b := NewBuilder(name)
	if c, ok := r.(traces.Counter); ok {
		if n, ok := c.Count(); ok {
			if need := LoadCost(n, 0); o.MaxBytes > 0 && need > o.MaxBytes {
				return nil, &TooLargeError{Name: name, Total: n, Need: need, Max: o.MaxBytes}
			}
			// A header can lie (or be damaged): trust it up to 2^27
			// accesses; past that, slices grow as read.
			b.Grow(int(min(n, 1<<27)))
		}
	}
	buf := make([]traces.Access, defaultBatch)
	nr, hasNext := r.(traces.NextReader)
	var next, nextBuf []uint64
	if hasNext {
		nextBuf = make([]uint64, len(buf))
	}
	// A dense trace (vmt) gives ids already: no hash table of page numbers.
	dr, dense := r.(traces.DenseReader)
	if dense {
		if ok, err := dr.Dense(); err != nil || !ok || hasNext {
			dense = false // not dense, or a bad header that Read reports
		}
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var n int
		var err error
		switch {
		case hasNext:
			n, err = nr.ReadNext(buf, nextBuf)
			next = append(next, nextBuf[:n]...)
		case dense:
			n, err = dr.ReadDense(buf)
		default:
			n, err = r.Read(buf)
		}
		if b.Distinct() > maxPages-n {
			return nil, fmt.Errorf("%s: more than %d distinct pages", name, maxPages)
		}
		if dense {
			if derr := b.addDense(buf[:n], dr.Pages()); derr != nil {
				return nil, fmt.Errorf("%s: %w", name, derr)
			}
		} else {
			b.addBatch(buf[:n])
		}
		if need := LoadCost(uint64(b.Len()), uint64(b.Distinct())); o.MaxBytes > 0 && need > o.MaxBytes {
			return nil, &TooLargeError{Name: name, Read: uint64(b.Len()), Distinct: uint64(b.Distinct()), Need: need, Max: o.MaxBytes}
		}
		if o.Progress != nil && n > 0 {
			o.Progress(uint64(b.Len()))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if hasNext {
		if err := b.SetNext(next); err != nil {
			return nil, err
		}
	}
	return b.Trace(), nil
}
