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

// withDefaults returns a copy of o (nil: the zero Options) with the
// defaults of [New] filled in.
func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Mechanism == 0 {
		out.Mechanism = Mprotect
	}
	if out.Registry == nil {
		out.Registry = faults.Default
	}
	return out
}

// ErrInconsistent is matched by the error returned when real memory and the
// pager disagree: an access that should have faulted did not. It means a
// bug, never bad input. It is [pager.ErrInconsistent].
var ErrInconsistent = pager.ErrInconsistent

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
// concurrent use: accesses of the accessors and of replays may run at once
// (each fault carries its own access), though the core then hears of them
// interleaved, not as simulation of either alone would.
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
	// late counts the accesses that completed while their page was
	// resident but were reported after another goroutine evicted it: hits
	// the core never hears of (see [Pager.ReadAt]). Protected by mu.
	late pager.Stats
	// others counts the accesses that the accessors and undeclared code
	// reported to the core: a replay that sees it move knows that another
	// goroutine may have evicted its pages. Protected by mu.
	others uint64

	// afterFault, if not nil, is called (with mu held) after each fault of
	// a replay is resolved: tests use it to take a grant back behind the
	// core's back.
	afterFault func(p arch.PageNum)
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
	o := opts.withDefaults()
	if frames < 1 {
		return nil, fmt.Errorf("%d frames: %w", frames, pager.ErrFrames)
	}
	var region *vm.Region
	var err error
	switch o.Mechanism {
	case Mprotect, Remap:
		if err := checkMapBudget(min(frames, pages), 0); err != nil {
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
// each resident page can split the view into up to two more areas. margin
// more areas are kept free besides.
func checkMapBudget(frames, margin int) error {
	room, err := vm.MapRoom()
	if err != nil {
		return nil // no /proc: the kernel will say
	}
	need := 2*frames + 4
	if need+margin <= room {
		return nil
	}
	limit, _ := vm.MapLimit()
	return fmt.Errorf("%d frames need up to %d memory areas but only %d are free under vm.max_map_count=%d (at most %d frames with per-page protections; --mechanism uffd has no such bound): %w",
		frames, need, room, limit, max((room-4-margin)/2, 0), vm.ErrMapLimit)
}

// RunMargin is the number of memory areas [CheckRun] keeps free beyond a
// Pager's own, for the process's other mappings (its heap, its threads'
// stacks) to grow while a run of several Pagers goes on.
const RunMargin = 512

// CheckRun says whether Pagers of mechanism m with up to frames frames over
// pages pages can be made one after another for the whole of a run: with
// Mprotect and Remap, whether vm.max_map_count leaves room for the largest
// of them and [RunMargin] more (an error matching vm.ErrMapLimit that says
// the largest budget that fits); Uffd takes any budget. A front checks it
// once before a run, so that the run does not stop half-way with finished
// results lost.
func CheckRun(m Mechanism, pages, frames int) error {
	if m == Uffd {
		return nil
	}
	return checkMapBudget(min(frames, pages), RunMargin)
}

// Range returns the addresses of the memory being paged: the program's
// view, whose faults the Pager handles. Access to it goes through the
// Pager ([Pager.ReadAt], [Pager.WriteAt], [Pager.Replay]): a protection
// changed behind its back would make real memory and the core disagree.
func (lp *Pager) Range() arch.Range { return lp.region.Range() }

// SecondView returns the addresses of the always-writable second view that
// the Mprotect and Remap mechanisms fill and save pages through, or an
// empty range (Uffd has none).
func (lp *Pager) SecondView() arch.Range {
	r, _ := lp.region.AltRange()
	return r
}

// PageSize returns the size of the region's pages.
func (lp *Pager) PageSize() arch.PageSize { return lp.region.PageSize() }

// Pages returns the number of pages of the region.
func (lp *Pager) Pages() int { return lp.region.Pages() }

// Stats returns the counters so far.
func (lp *Pager) Stats() Stats {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	st := lp.core.Stats()
	st.Add(lp.late)
	return Stats{Stats: st, UserFaults: lp.userFaults}
}

// Used returns the number of resident pages.
func (lp *Pager) Used() int {
	lp.mu.Lock()
	defer lp.mu.Unlock()
	return lp.core.Used()
}

// Classify lets the registry tell the fault's signal: SIGBUS with Uffd,
// SIGSEGV otherwise.
func (lp *Pager) Classify(a arch.Addr) arch.Signal { return lp.region.Classify(a) }

// HandleFault resolves a fault in the region: it implements faults.Handler.
// A fault of [Pager.Replay] carries its access (time and next use included)
// in its cookie; any other is a read or write of the accessors, or of code
// that declared nothing.
func (lp *Pager) HandleFault(f *faults.Fault) error {
	p, ok := lp.region.PageOf(f.Address)
	if !ok {
		return fmt.Errorf("fault at %v outside the region %v", f.Address, lp.region.Range())
	}
	id := pager.PageID(p)
	lp.mu.Lock()
	defer lp.mu.Unlock()
	lp.userFaults++
	if rf, ok := f.Cookie.(*replayFault); ok {
		return lp.replayFaultLocked(id, rf)
	}
	lp.others++
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

// replayFaultLocked resolves a fault of Replay: the core hears of the
// access with Replay's own Ref, as simulation would. An access that faults
// again once its fault was resolved lost the grant: if no other goroutine
// used the core since, real memory and the core disagree (an error); if one
// did, its fault may have evicted the page, and the access faults, and
// counts, again, as the accessors' do. The caller holds mu.
func (lp *Pager) replayFaultLocked(id pager.PageID, rf *replayFault) error {
	if rf.ref.Page != id {
		return fmt.Errorf("replay access %d to page %d faulted at page %d: %w", rf.index, rf.ref.Page, id, ErrInconsistent)
	}
	if rf.resolved && lp.others == rf.others {
		return fmt.Errorf("replay access %d to page %d faulted again after its fault was resolved (a grant was lost): %w", rf.index, rf.ref.Page, ErrInconsistent)
	}
	_, err := lp.core.Access(rf.ref)
	if err != nil {
		return err
	}
	rf.resolved, rf.others = true, lp.others
	if lp.afterFault != nil {
		lp.afterFault(arch.PageNum(id))
	}
	return nil
}

// tick returns the next virtual time. The caller holds mu.
func (lp *Pager) tick() uint64 {
	t := lp.clock
	lp.clock++
	return t
}

// touchLocked reports access index of a replay, which did not fault: a hit.
// seen is the count of others' accesses when the replay last heard of the
// core: if it moved, another goroutine may have evicted the page after the
// access completed, which is a hit the policy does not hear of. The caller
// holds mu.
func (lp *Pager) touchLocked(r pager.Ref, index, seen uint64) error {
	if !lp.core.Resident(r.Page) || (r.Write && !lp.core.Dirty(r.Page)) {
		if lp.others != seen {
			lp.lateHitLocked(r.Write)
			return nil
		}
		return fmt.Errorf("replay access %d to page %d (write %v) did not fault but the page is not resident with that access: %w", index, r.Page, r.Write, ErrInconsistent)
	}
	_, err := lp.core.Access(r)
	return err
}

// lateHitLocked counts an access that completed while its page was
// resident, reported once another goroutine had evicted (or cleaned) it: a
// hit, which the policy does not hear of since the page is gone. The caller
// holds mu.
func (lp *Pager) lateHitLocked(write bool) {
	lp.late.Accesses++
	lp.late.Hits++
	if write {
		lp.late.Writes++
	} else {
		lp.late.Reads++
	}
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
