package live

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"vmsim/faults"
	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// Mechanism is how real mode maps and unmaps pages.
type Mechanism uint8

// Mechanisms.
const (
	// Mprotect changes per-page protections of a memfd mapped twice.
	Mprotect Mechanism = iota + 1
	// Remap maps pages in place with MAP_FIXED and maps PROT_NONE over them
	// to evict.
	Remap
	// Uffd registers anonymous memory with userfaultfd: pages are filled
	// with UFFDIO_COPY, write-protected while clean, and dropped with
	// MADV_DONTNEED. It splits no memory area.
	Uffd
)

// allMechanisms lists the mechanisms in the order Mechanisms names them.
var allMechanisms = []Mechanism{Mprotect, Remap, Uffd}

func (m Mechanism) String() string {
	switch m {
	case Mprotect:
		return "mprotect"
	case Remap:
		return "remap"
	case Uffd:
		return "uffd"
	}
	return fmt.Sprintf("Mechanism(%d)", uint8(m))
}

// ErrUnknownMechanism is matched by the error for a mechanism name that does
// not exist.
var ErrUnknownMechanism = errors.New("unknown mechanism")

// Mechanisms returns the names of the mechanisms, whether or not this
// system supports them ([New] says).
func Mechanisms() []string {
	names := make([]string, len(allMechanisms))
	for i, m := range allMechanisms {
		names[i] = m.String()
	}
	return names
}

// ParseMechanism parses a mechanism name.
func ParseMechanism(s string) (Mechanism, error) {
	for _, m := range allMechanisms {
		if m.String() == s {
			return m, nil
		}
	}
	return 0, fmt.Errorf("%q (known: %s): %w", s, strings.Join(Mechanisms(), ", "), ErrUnknownMechanism)
}

// Options configure a Pager. A nil *Options means the defaults.
type Options struct {
	// Mechanism is Mprotect, Remap or Uffd; zero means Mprotect.
	Mechanism Mechanism
	// Store backs the pages; nil means a swap store in the system's
	// temporary directory, owned (and closed) by the Pager. A store given
	// here is not closed by the Pager.
	Store pager.Store
	// Registry receives the region's fault handler; nil means
	// faults.Default.
	Registry *faults.Registry
}

// ErrInconsistent is matched by the error returned when real memory and the
// pager disagree: an access that should have faulted did not. It means a
// bug, never bad input.
var ErrInconsistent = errors.New("real memory and the pager disagree")

// Stats are the core's counters plus what only real mode sees.
type Stats struct {
	pager.Stats
	// UserFaults counts the faults caught in user space (SIGSEGV, or SIGBUS
	// with Uffd): in Replay, Faults + ProtectionFaults with every mechanism.
	// (With Uffd a protection fault is a write-protect fault, where the
	// others take a write to a read-only page.) Under concurrent access it
	// also counts faults that another goroutine resolved first.
	UserFaults uint64 `json:"user_faults"`
}

// Pager is demand paging on real memory. Its methods are safe for
// concurrent use, except that Replay must be the only user while it runs.
type Pager struct {
	region *vm.Region
	reg    *faults.Registry
	store  pager.Store
	owned  bool // store created here
	mech   Mechanism
	shift  uint
	// be carries the core's decisions out with mech.
	be mechanism

	// mu serialises the core and every change to the region's pages.
	mu         sync.Mutex
	core       *pager.Pager // protected by mu
	clock      uint64       // virtual time of accesses reported; protected by mu
	userFaults uint64       // protected by mu

	// replay is the access of the running Replay that just faulted, set on
	// the replaying goroutine by the fault's kindAt callback; nil outside
	// Replay.
	replay *pager.Ref
}

// New maps a region of pages pages, all out of memory, and pages them with
// policy in at most frames frames.
//
// With Mprotect and Remap it refuses a frame budget that would split the
// region into more memory areas than vm.max_map_count allows (an error
// matching vm.ErrMapLimit). Uffd splits nothing and takes any budget; where
// userfaultfd cannot be had, New returns a *vm.UserfaultError that matches
// vm.ErrNotSupported or os.ErrPermission and names what is missing.
func New(pages int, policy pager.Policy, frames int, opts *Options) (*Pager, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Mechanism == 0 {
		o.Mechanism = Mprotect
	}
	if o.Registry == nil {
		o.Registry = faults.Default
	}
	if frames < 1 {
		return nil, fmt.Errorf("%d frames: %w", frames, pager.ErrFrames)
	}
	var region *vm.Region
	var err error
	switch o.Mechanism {
	case Mprotect, Remap:
		if err := checkMapBudget(min(frames, pages)); err != nil {
			return nil, err
		}
		region, err = vm.NewShared(pages, &vm.Options{Reserve: o.Mechanism == Remap, Name: "vmsim-live"})
	case Uffd:
		region, err = vm.NewAnonymous(pages, &vm.Options{Userfault: true})
	default:
		return nil, fmt.Errorf("%v: %w", o.Mechanism, ErrUnknownMechanism)
	}
	if err != nil {
		return nil, fmt.Errorf("mechanism %v: %w", o.Mechanism, err)
	}
	lp := &Pager{region: region, reg: o.Registry, store: o.Store, mech: o.Mechanism, shift: region.PageSize().Shift()}
	if o.Mechanism == Uffd {
		lp.be = newUffdBackend(lp)
	} else {
		lp.be = (*backend)(lp)
	}
	if lp.store == nil {
		s, err := pager.NewSwapStore("", region.PageSize())
		if err != nil {
			region.Unmap()
			return nil, err
		}
		lp.store, lp.owned = s, true
	}
	// The core drives the region through the backend.
	if lp.core, err = pager.New(policy, frames, lp.be); err != nil {
		lp.closeStore()
		region.Unmap()
		return nil, err
	}
	if err := lp.reg.Register(region.Range(), lp); err != nil {
		lp.closeStore()
		region.Unmap()
		return nil, err
	}
	return lp, nil
}

// checkMapBudget refuses frame budgets past what vm.max_map_count allows:
// each resident page can split the view into up to two more areas.
func checkMapBudget(frames int) error {
	room, err := vm.MapRoom()
	if err != nil {
		return nil // no /proc: the kernel will say
	}
	need := 2*frames + 4
	if need <= room {
		return nil
	}
	limit, _ := vm.MapLimit()
	return fmt.Errorf("%d frames need up to %d memory areas but only %d are free under vm.max_map_count=%d (at most %d frames with per-page protections): %w",
		frames, need, room, limit, max((room-4)/2, 0), vm.ErrMapLimit)
}

// Region returns the memory being paged.
func (lp *Pager) Region() *vm.Region { return lp.region }

// Stats returns the counters so far.
func (lp *Pager) Stats() Stats {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return Stats{Stats: lp.core.Stats(), UserFaults: lp.userFaults}
}

// Resident returns the number of resident pages.
func (lp *Pager) Resident() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.core.Used()
}

// Classify lets the registry tell the fault's signal: SIGBUS with Uffd,
// SIGSEGV otherwise.
func (lp *Pager) Classify(a arch.Addr) arch.Signal { return lp.region.Classify(a) }

// HandleFault resolves a fault in the region: it implements faults.Handler.
func (lp *Pager) HandleFault(f *faults.Fault) error {
	p, ok := lp.region.PageOf(f.Address)
	if !ok {
		return fmt.Errorf("fault at %v outside the region %v", f.Address, lp.region.Range())
	}
	id := pager.PageID(p)
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.userFaults++
	if r := lp.replay; r != nil {
		lp.replay = nil
		if r.Page != id {
			return fmt.Errorf("replay access %d to page %d faulted at page %d: %w", r.Time, r.Page, id, ErrInconsistent)
		}
		_, err := lp.core.Access(*r)
		return err
	}
	write := f.Access == arch.AccessWrite
	if lp.core.Resident(id) {
		switch {
		case f.Access == arch.AccessRead, lp.core.Dirty(id):
			// Another goroutine loaded (or upgraded) the page between the
			// fault and now: the access hits on its retry. Tell the core
			// now; the accessor does not report accesses that faulted.
			_, err := lp.core.Access(pager.Ref{Page: id, Write: write, Time: lp.tick(), Next: traces.NoNext})
			return err
		}
		// A fault on a clean resident page is a write (declared or not).
		write = true
	}
	_, err := lp.core.Access(pager.Ref{Page: id, Write: write, Time: lp.tick(), Next: traces.NoNext})
	return err
}

// tick returns the next virtual time. The caller holds mu.
func (lp *Pager) tick() uint64 {
	t := lp.clock
	lp.clock++
	return t
}

// touchLocked reports an access that did not fault: a hit. The caller holds
// mu.
func (lp *Pager) touchLocked(r pager.Ref) error {
	if !lp.core.Resident(r.Page) || (r.Write && !lp.core.Dirty(r.Page)) {
		return fmt.Errorf("access %d to page %d (write %v) did not fault but the page is not resident with that access: %w", r.Time, r.Page, r.Write, ErrInconsistent)
	}
	_, err := lp.core.Access(r)
	return err
}

// Sync writes every dirty resident page to the store and makes it clean
// (read-only), so that the store holds everything written so far.
func (lp *Pager) Sync() error {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.core.Flush(func(id pager.PageID) error { return lp.be.clean(arch.PageNum(id)) })
}

// Close writes dirty pages back (Sync), then unregisters and unmaps the
// region and closes the store if the Pager created it. If the write-back
// fails, Close returns its error and leaves everything in place, memory
// included: the dirty pages are not lost, and Close can be called again.
// No access may run during or after Close.
func (lp *Pager) Close() error {
	if err := lp.Sync(); err != nil {
		return fmt.Errorf("close: writing dirty pages back: %w", err)
	}
	errs := []error{lp.reg.Unregister(lp.region.Range())}
	errs = append(errs, lp.region.Unmap())
	errs = append(errs, lp.closeStore())
	return errors.Join(errs...)
}

func (lp *Pager) closeStore() error {
	if lp.owned {
		return lp.store.Close()
	}
	return nil
}
