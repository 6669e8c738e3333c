//go:build linux

package probe_test

import (
	"errors"
	"fmt"
	"log"
	"runtime"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/probe"
)

// Count the kernel's faults on a region whose pages are granted on first
// touch, and fall back to the thread's perf counters without privilege.
func ExampleOpen() {
	r, err := vm.NewAnonymous(64, nil) // PROT_NONE: every first touch faults
	if err != nil {
		log.Fatal(err)
	}
	defer r.Unmap()

	p, err := probe.Open(&probe.Options{
		Ranges:  []probe.Range{{Label: "program view", Range: r.Range()}},
		PerPage: true,
	})
	if errors.Is(err, probe.ErrPermission) || errors.Is(err, probe.ErrNotSupported) {
		log.Printf("%v; counting this thread's faults instead", err)
		runtime.LockOSThread() // the perf counters count one OS thread
		defer runtime.UnlockOSThread()
		c, err := probe.OpenCounters()
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		// ... c.Read() before and after, Sample.Sub ...
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close()

	reg := &faults.Registry{}
	user := 0
	err = reg.Register(r.Range(), faults.HandlerFunc(func(f *faults.Fault) error {
		user++
		page, _ := r.PageOf(f.Address)
		return r.Protect(page, 1, arch.ProtReadWrite)
	}))
	if err != nil {
		log.Fatal(err)
	}
	b := r.Bytes()
	for i := range r.Pages() {
		if err := reg.Do(arch.AccessWrite, func() { b[i*int(r.PageSize())] = 1 }); err != nil {
			log.Fatal(err)
		}
	}

	c, err := p.Counts()
	if err != nil {
		log.Fatal(err)
	}
	view, _ := c.Range("program view")
	fmt.Printf("user faults %d, kernel faults %d (%s)\n", user, view.Faults, view.Codes())
	// As root on x86-64: user faults 64, kernel faults 128 (0x6:128)
}
