package faults

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"

	"vmsim/vm/arch"
)

// Errors returned by [Registry.Register] and [Registry.Unregister].
var (
	ErrOverlap       = errors.New("range overlaps a registered area")
	ErrNotRegistered = errors.New("range is not registered")
	ErrEmptyRange    = errors.New("empty or ill-formed range")
)

// DefaultMaxRetries is the number of consecutive faults at one address that a
// [Registry] tolerates before it reports [ErrUnresolved]. Two is normal (a
// write that was first granted as a read); more happen when other goroutines
// evict the page between the handler and the retry.
const DefaultMaxRetries = 100

// Handler resolves faults in an area of memory.
type Handler interface {
	// HandleFault makes the faulting access possible (maps the page, grants
	// access), so that the access can be retried, or returns an error that
	// stops the guarded call. It runs on the faulting goroutine, outside the
	// guarded function, and may be called concurrently from many goroutines.
	HandleFault(f *Fault) error
}

// HandlerFunc adapts a function to [Handler].
type HandlerFunc func(f *Fault) error

// HandleFault calls fn(f).
func (fn HandlerFunc) HandleFault(f *Fault) error { return fn(f) }

// Classifier is implemented by handlers that can tell which signal a fault in
// their area raised. The registry asks before calling HandleFault.
type Classifier interface {
	Classify(a arch.Addr) arch.Signal
}

type area struct {
	r arch.Range
	h Handler
}

// Registry maps address ranges to the handlers that own them, like
// libsigsegv's areas, and runs guarded code that dispatches its faults to
// them. Its methods are safe for concurrent use; lookups take no lock.
//
// The zero value is an empty registry ready to use.
type Registry struct {
	// MaxRetries bounds consecutive faults at one address; zero means
	// DefaultMaxRetries. Set it before use.
	MaxRetries int

	// mu serializes Register and Unregister.
	mu sync.Mutex
	// areas is sorted by start, non-overlapping, and replaced (never
	// modified) under mu.
	areas atomic.Pointer[[]area]
}

// Default is the registry used by the package-level functions.
var Default = &Registry{}

// Register gives h the faults in r. r must not overlap a registered area.
func (reg *Registry) Register(r arch.Range, h Handler) error {
	if h == nil {
		return fmt.Errorf("register %v: nil handler", r)
	}
	if r.Empty() {
		return fmt.Errorf("register %v: %w", r, ErrEmptyRange)
	}
	reg.mu.Lock()
	defer reg.mu.Unlock()
	old := reg.load()
	i := sort.Search(len(old), func(i int) bool { return old[i].r.End > r.Start })
	if i < len(old) && old[i].r.Overlaps(r) {
		return fmt.Errorf("register %v: %w %v", r, ErrOverlap, old[i].r)
	}
	areas := make([]area, 0, len(old)+1)
	areas = append(areas, old[:i]...)
	areas = append(areas, area{r, h})
	areas = append(areas, old[i:]...)
	reg.areas.Store(&areas)
	return nil
}

// Unregister removes the area registered as exactly r.
func (reg *Registry) Unregister(r arch.Range) error {
	reg.mu.Lock()
	defer reg.mu.Unlock()
	old := reg.load()
	for i, a := range old {
		if a.r == r {
			areas := make([]area, 0, len(old)-1)
			areas = append(areas, old[:i]...)
			areas = append(areas, old[i+1:]...)
			reg.areas.Store(&areas)
			return nil
		}
	}
	return fmt.Errorf("unregister %v: %w", r, ErrNotRegistered)
}

// Lookup returns the handler that owns address a and its range.
func (reg *Registry) Lookup(a arch.Addr) (Handler, arch.Range, bool) {
	areas := reg.load()
	i := sort.Search(len(areas), func(i int) bool { return areas[i].r.End > a })
	if i < len(areas) && areas[i].r.Contains(a) {
		return areas[i].h, areas[i].r, true
	}
	return nil, arch.Range{}, false
}

func (reg *Registry) load() []area {
	if p := reg.areas.Load(); p != nil {
		return *p
	}
	return nil
}

// Do runs fn; each fault it raises in a registered area is given to that
// area's handler with Access set to kind, and then fn runs again from its
// start (the retry). fn must be safe to re-run. Do returns nil once fn
// returns normally, the handler's error (wrapped) if it fails, or an error
// matching [ErrUnresolved].
//
// A fault outside every area, a nil dereference and any other panic propagate
// unchanged.
func (reg *Registry) Do(kind arch.AccessKind, fn func()) error {
	return reg.run(fn, kind, nil)
}

// Loop is the form for hot loops. body keeps its progress in variables it
// shares with its caller (a loop index declared outside it), so that when it
// is called again after a fault it resumes at the faulting access instead of
// starting over; the guard is set once per call, not per access, and an
// access that does not fault costs what it costs unguarded.
//
// at, if not nil, is called when a fault is caught, before the handler, on
// the faulting goroutine: it fills in what only body's loop knows, the kind
// of the access in progress (f.Access) and anything the handler needs to
// know of this call (f.Cookie). Errors and propagation are as for
// [Registry.Do].
func (reg *Registry) Loop(body func(), at func(f *Fault)) error {
	return reg.run(body, arch.AccessUnspecified, at)
}

func (reg *Registry) run(fn func(), kind arch.AccessKind, at func(f *Fault)) error {
	limit := reg.MaxRetries
	if limit <= 0 {
		limit = DefaultMaxRetries
	}
	var last arch.Addr
	same := 0
	for {
		f := catch(fn, reg)
		if f == nil {
			return nil
		}
		h, _, ok := reg.Lookup(f.Address)
		if !ok {
			// Unregistered between the fault and now: re-raise as if
			// nobody had owned it.
			f.Repanic()
		}
		f.Access = kind
		if at != nil {
			at(f)
		}
		if c, ok := h.(Classifier); ok {
			f.Signal = c.Classify(f.Address)
		}
		if f.Address == last {
			same++
			if same > limit {
				return &UnresolvedError{Fault: *f, Retries: same - 1}
			}
		} else {
			last, same = f.Address, 1
		}
		if err := h.HandleFault(f); err != nil {
			return fmt.Errorf("handling fault at %v: %w", f.Address, err)
		}
	}
}

// Register gives h the faults in r, in the [Default] registry.
func Register(r arch.Range, h Handler) error { return Default.Register(r, h) }

// Unregister removes r from the [Default] registry.
func Unregister(r arch.Range) error { return Default.Unregister(r) }

// Do is [Registry.Do] on the [Default] registry.
func Do(kind arch.AccessKind, fn func()) error { return Default.Do(kind, fn) }

// Loop is [Registry.Loop] on the [Default] registry.
func Loop(body func(), at func(f *Fault)) error { return Default.Loop(body, at) }
