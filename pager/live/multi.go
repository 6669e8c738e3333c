package live

import (
	"errors"
	"fmt"

	"vmsim/faults"
	"vmsim/pager"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// Regions is real memory for many processes sharing one frame budget
// (package pager/multi): one region per process, its own address space in
// the study, each with its own backing store, all paged by the run's
// pagers (one for every process, or one each) through the mechanism of
// [Options]. The faults of each region are caught as a [Pager]'s are, and
// each decision is carried out on the region of the page's process. The
// frames are the run's: at most that many pages of all the regions are in
// memory at once.
//
// Regions implements multi.Memory. It is for one run on one goroutine:
// Touch is not safe for concurrent use, and nothing else may touch the
// regions.
type Regions struct {
	reg   *faults.Registry
	procs []*regionProc
	// cur is the access Touch is running, for its loop and the handler.
	cur     touch
	body    func()
	at      func(f *faults.Fault)
	sink    byte
	regions []arch.Range // registered
}

// regionProc is one process's region: a Pager without a core, for its
// region, its store and its mechanism.
type regionProc struct {
	lp         *Pager
	userFaults uint64
}

// touch is one access of Touch.
type touch struct {
	proc   int
	page   arch.PageNum
	write  bool
	view   []byte
	off    uint64
	step   func(faulted bool) error
	called bool
}

// NewRegions maps one region per process, of pages[k] pages (at least one)
// for process k, all out of memory, for a run of at most frames resident
// pages in all. opts.Mechanism and opts.Registry are as for [New];
// opts.Store must be nil: each region has its own swap store in the
// system's temporary directory. With Mprotect and Remap it refuses a
// budget that could split the regions into more memory areas than
// vm.max_map_count allows (vm.ErrMapLimit); where userfaultfd cannot be had
// it says what is missing.
func NewRegions(pages []int, frames int, opts *Options) (*Regions, error) {
	o := opts.withDefaults()
	if o.Store != nil {
		return nil, errors.New("regions: each region has its own store: Options.Store must be nil")
	}
	if frames < 1 {
		return nil, fmt.Errorf("%d frames: %w", frames, pager.ErrFrames)
	}
	total := 0
	for _, n := range pages {
		total += max(n, 1)
	}
	if o.Mechanism == Mprotect || o.Mechanism == Remap {
		if err := checkRegionsBudget(min(frames, total), len(pages)); err != nil {
			return nil, err
		}
	}
	r := &Regions{reg: o.Registry}
	r.body, r.at = r.run, r.declare
	for k, n := range pages {
		lp, err := newRegionPager(max(n, 1), o)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("process %d: %w", k, err), r.Close())
		}
		rp := &regionProc{lp: lp}
		r.procs = append(r.procs, rp)
		if err := r.reg.Register(lp.region.Range(), regionHandler{r: r, proc: k}); err != nil {
			return nil, errors.Join(fmt.Errorf("process %d: %w", k, err), r.Close())
		}
		r.regions = append(r.regions, lp.region.Range())
	}
	return r, nil
}

// checkRegionsBudget refuses frame budgets past what vm.max_map_count
// allows for regions regions: each resident page can split its region's
// view into up to two more areas, and each region takes a few of its own.
func checkRegionsBudget(frames, regions int) error {
	room, err := vm.MapRoom()
	if err != nil {
		return nil // no /proc: the kernel will say
	}
	need := 2*frames + 4*regions
	if need <= room {
		return nil
	}
	limit, _ := vm.MapLimit()
	return fmt.Errorf("%d frames over %d regions need up to %d memory areas but only %d are free under vm.max_map_count=%d (mechanism uffd has no such bound): %w",
		frames, regions, need, room, limit, vm.ErrMapLimit)
}

// newRegionPager makes a Pager's region, store and mechanism, with no core
// and no handler.
func newRegionPager(pages int, o Options) (*Pager, error) {
	var region *vm.Region
	var err error
	switch o.Mechanism {
	case Mprotect, Remap:
		region, err = vm.NewShared(pages, &vm.Options{Reserve: o.Mechanism == Remap, Name: "vmsim-multi"})
	case Uffd:
		region, err = vm.NewAnonymous(pages, &vm.Options{Userfault: true})
	default:
		return nil, fmt.Errorf("%v: %w", o.Mechanism, ErrUnknownMechanism)
	}
	if err != nil {
		return nil, fmt.Errorf("mechanism %v: %w", o.Mechanism, err)
	}
	store, err := pager.NewSwapStore("", region.PageSize())
	if err != nil {
		return nil, errors.Join(err, region.Unmap())
	}
	lp := &Pager{region: region, reg: o.Registry, store: store, owned: true, mech: o.Mechanism, shift: region.PageSize().Shift()}
	if o.Mechanism == Uffd {
		lp.be = newUffdBackend(lp)
	} else {
		lp.be = (*backend)(lp)
	}
	return lp, nil
}

// Backend returns the Backend of process proc's region: page ids are the
// process's own, its region's page numbers.
func (r *Regions) Backend(proc int) pager.Backend { return r.procs[proc].lp.be }

// Range returns the addresses of process proc's region.
func (r *Regions) Range(proc int) arch.Range { return r.procs[proc].lp.region.Range() }

// UserFaults returns the faults caught in user space on process proc's
// region: its faults and protection faults, with every mechanism.
func (r *Regions) UserFaults(proc int) uint64 { return r.procs[proc].userFaults }

// Allocated returns the bytes of memory the regions hold now.
func (r *Regions) Allocated() (int64, error) {
	var n int64
	for _, rp := range r.procs {
		b, err := rp.lp.region.Allocated()
		if err != nil {
			return 0, err
		}
		n += b
	}
	return n, nil
}

// Touch performs one access of process proc: a real load, or a store, of
// the first byte of its page page. A fault reaches the region's handler,
// which calls step(true) to have the pager resolve it, and the access is
// retried; an access that does not fault calls step(false) after it.
// Touch fails, with an error matching [ErrInconsistent], if the access
// faults again once step resolved it, or faults on another page.
func (r *Regions) Touch(proc int, page pager.PageID, write bool, step func(faulted bool) error) error {
	rp := r.procs[proc]
	if int(page) >= rp.lp.region.Pages() {
		return fmt.Errorf("process %d: page %d outside its %d-page region", proc, page, rp.lp.region.Pages())
	}
	r.cur = touch{proc: proc, page: arch.PageNum(page), write: write, view: rp.lp.region.Bytes(), off: uint64(page) << rp.lp.shift, step: step}
	if err := r.reg.Loop(r.body, r.at); err != nil {
		return fmt.Errorf("process %d, page %d: %w", proc, page, err)
	}
	if r.cur.called {
		return nil
	}
	r.cur.called = true
	return step(false)
}

// run is the access itself, retried after a fault.
func (r *Regions) run() {
	if r.cur.write {
		r.cur.view[r.cur.off] = 1
	} else {
		r.sink += r.cur.view[r.cur.off]
	}
}

// declare tells the handler what the faulting access is.
func (r *Regions) declare(f *faults.Fault) {
	f.Access = arch.AccessRead
	if r.cur.write {
		f.Access = arch.AccessWrite
	}
	f.Cookie = &r.cur
}

// regionHandler resolves the faults of one process's region.
type regionHandler struct {
	r    *Regions
	proc int
}

// Classify lets the registry tell the fault's signal.
func (h regionHandler) Classify(a arch.Addr) arch.Signal {
	return h.r.procs[h.proc].lp.region.Classify(a)
}

// HandleFault resolves a fault of Touch: the pager hears of the access
// (step), which makes the page accessible.
func (h regionHandler) HandleFault(f *faults.Fault) error {
	rp := h.r.procs[h.proc]
	p, _ := rp.lp.region.PageOf(f.Address)
	cur, ok := f.Cookie.(*touch)
	switch {
	case !ok || cur.proc != h.proc:
		return fmt.Errorf("fault at %v in process %d's region outside its accesses: %w", f.Address, h.proc, ErrInconsistent)
	case p != cur.page:
		return fmt.Errorf("process %d: the access to page %d faulted at page %d: %w", h.proc, cur.page, p, ErrInconsistent)
	case cur.called:
		return fmt.Errorf("process %d: the access to page %d faulted again after its fault was resolved (a grant was lost): %w", h.proc, cur.page, ErrInconsistent)
	}
	rp.userFaults++
	cur.called = true
	return cur.step(true)
}

// Close unregisters and unmaps every region and closes their stores. The
// pages' contents are not kept: a run's memory goes with it.
func (r *Regions) Close() error {
	var errs []error
	for _, rg := range r.regions {
		errs = append(errs, r.reg.Unregister(rg))
	}
	r.regions = nil
	for _, rp := range r.procs {
		errs = append(errs, rp.lp.region.Unmap(), rp.lp.closeStore())
	}
	r.procs = nil
	return errors.Join(errs...)
}
