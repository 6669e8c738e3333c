//go:build linux

package probe

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// skipIfNotSupported skips the test when err says the kernel lacks a
// feature, naming it, and fails on an ErrNotSupported that does not say
// what is missing ([vmtest.SkipIfNotSupported]; a failure under
// vmtest.RequireEnv).
func skipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	if errors.Is(err, ErrNotSupported) {
		var e *Error
		if !errors.As(err, &e) || e.Missing == "" {
			tb.Fatalf("ErrNotSupported without saying what is missing: %v", err)
		}
	}
	vmtest.SkipIfNotSupported(tb, err)
}

// requireProbePrivilege skips tb (see [vmtest.Missing]) unless the process
// may load and attach the probe.
func requireProbePrivilege(tb testing.TB) {
	tb.Helper()
	caps, err := effectiveCaps()
	require.NoError(tb, err)
	if !caps.canTrace() {
		vmtest.Missing(tb, caps.missing()+", or CAP_SYS_ADMIN (to load the eBPF probe; run as root)")
	}
}

// openProbe opens a probe for the test and closes it at cleanup.
func openProbe(tb testing.TB, opts *Options) *Probe {
	tb.Helper()
	requireProbePrivilege(tb)
	p, err := Open(opts)
	skipIfNotSupported(tb, err)
	require.NoError(tb, err)
	tb.Cleanup(func() { p.Close() })
	return p
}

// attachModes are the two hooks; every kernel test runs on both.
var attachModes = []Attach{AttachTracepoint, AttachRawTracepoint}

func newAnonymous(tb testing.TB, pages int, prot arch.Prot) *vm.Region {
	tb.Helper()
	r, err := vm.NewAnonymous(pages, &vm.Options{Prot: prot})
	require.NoError(tb, err)
	tb.Cleanup(func() { r.Unmap() })
	return r
}

func newShared(tb testing.TB, pages int) *vm.Region {
	tb.Helper()
	r, err := vm.NewShared(pages, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { r.Unmap() })
	return r
}

// pager resolves faults the way vmsim's real mode does, and counts them:
// the user-space faults.
type pager struct {
	r *vm.Region
	// grant returns the protection to give a page whose protection is cur.
	grant func(p arch.PageNum, cur arch.Prot) arch.Prot
	// fill, if set, runs before the first grant of a page.
	fill func(p arch.PageNum) error
	// faults counts the faults handled.
	faults int
}

func (pg *pager) HandleFault(f *faults.Fault) error {
	p, ok := pg.r.PageOf(f.Address)
	if !ok {
		return errors.New("fault outside the region")
	}
	pg.faults++
	cur, err := pg.r.Prot(p)
	if err != nil {
		return err
	}
	if cur == arch.ProtNone && pg.fill != nil {
		if err := pg.fill(p); err != nil {
			return err
		}
	}
	return pg.r.Protect(p, 1, pg.grant(p, cur))
}

// register gives the region's faults to pg in a fresh registry.
func register(tb testing.TB, pg *pager) *faults.Registry {
	tb.Helper()
	reg := &faults.Registry{}
	require.NoError(tb, reg.Register(pg.r.Range(), pg))
	return reg
}

// grantRW grants read and write at once.
func grantRW(arch.PageNum, arch.Prot) arch.Prot { return arch.ProtReadWrite }

// grantReadThenWrite grants read first, and write on the next fault: how
// a pager finds dirty pages.
func grantReadThenWrite(_ arch.PageNum, cur arch.Prot) arch.Prot {
	if cur == arch.ProtNone {
		return arch.ProtRead
	}
	return arch.ProtReadWrite
}
