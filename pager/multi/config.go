package multi

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"vmsim/pager"
)

// Scope says where a fault's victim may come from.
type Scope uint8

// Scopes.
const (
	// Global replacement: one policy over every frame; the victim may
	// belong to any process.
	Global Scope = iota
	// Local replacement: each process has its own frames and its own
	// policy over them; the victim is one of the faulting process's pages.
	Local
)

func (s Scope) String() string {
	switch s {
	case Global:
		return "global"
	case Local:
		return "local"
	}
	return fmt.Sprintf("Scope(%d)", uint8(s))
}

// Allocation says how local replacement shares the frames out among the
// processes of a run.
type Allocation uint8

// Allocations.
const (
	// Equal gives each process frames/N frames (the first frames%N get
	// one more).
	Equal Allocation = iota
	// Proportional gives each process a share of the frames proportional
	// to its size (its distinct pages), at least one.
	Proportional
)

func (a Allocation) String() string {
	switch a {
	case Equal:
		return "equal"
	case Proportional:
		return "proportional"
	}
	return fmt.Sprintf("Allocation(%d)", uint8(a))
}

// Control is the load control: what decides which processes may run.
type Control uint8

// Load controls.
const (
	// None runs every process all the time.
	None Control = iota
	// WorkingSet runs a process only if its working set W(t, τ) fits in
	// the frames the working sets of the others leave; otherwise it is
	// suspended and its pages released, and it resumes when there is room.
	WorkingSet
	// PFF (page-fault frequency) grows a process's allocation when its
	// fault rate is above an upper threshold and shrinks it when the rate
	// is below a lower one; a process that needs a frame when none is free
	// is suspended. Local scope only.
	PFF
)

func (c Control) String() string {
	switch c {
	case None:
		return "none"
	case WorkingSet:
		return "ws"
	case PFF:
		return "pff"
	}
	return fmt.Sprintf("Control(%d)", uint8(c))
}

// ErrConfig is matched by the errors for a configuration that cannot run.
var ErrConfig = errors.New("bad configuration")

// ParseScope parses "global" or "local".
func ParseScope(s string) (Scope, error) {
	for _, v := range []Scope{Global, Local} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: scope %q: want global or local", ErrConfig, s)
}

// ParseAllocation parses "equal" or "proportional".
func ParseAllocation(s string) (Allocation, error) {
	for _, v := range []Allocation{Equal, Proportional} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: allocation %q: want equal or proportional", ErrConfig, s)
}

// ParseControl parses "none", "ws" or "pff".
func ParseControl(s string) (Control, error) {
	for _, v := range []Control{None, WorkingSet, PFF} {
		if v.String() == s {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: load control %q: want none, ws or pff", ErrConfig, s)
}

// Defaults of the parameters (the sources are in the package comment).
const (
	DefaultQuantum    = 1000
	DefaultAccessTime = 10 * time.Microsecond
	DefaultFaultTime  = 5 * time.Millisecond
	DefaultTau        = 1000
	DefaultPFFWindow  = 2000
	DefaultPFFUpper   = 0.01
	DefaultPFFLower   = 0.001
)

// Config is one run of many processes on one memory. The zero value of
// each parameter means its default.
type Config struct {
	// Policy is the replacement policy (pager.Policies); every process of
	// local scope has its own instance.
	Policy string
	// PolicyOptions parameterise the policy (seed, tick, wsclock's tau).
	PolicyOptions pager.Options
	// Frames is the number of frames of the memory all processes share.
	Frames int
	Scope  Scope
	// Allocation is local scope's share of frames: fixed with no load
	// control, the starting point of PFF. The working-set control
	// allocates by working sets instead.
	Allocation Allocation
	Control    Control
	// Quantum is the round robin's time slice, in accesses; 0 means 1,000.
	Quantum int
	// AccessTime is the processor time of one access; 0 means 10 µs.
	AccessTime time.Duration
	// FaultTime is the time the paging device takes to serve one fault; 0
	// means 5 ms.
	FaultTime time.Duration
	// Tau is the working-set window of the WorkingSet control, in the
	// process's own accesses; 0 means 1,000.
	Tau int
	// PFFWindow is the number of a process's own last accesses over which
	// PFF measures its fault rate; 0 means 2,000.
	PFFWindow int
	// PFFUpper and PFFLower are PFF's thresholds, in faults per access; 0
	// means 0.01 and 0.001 (20 and 2 faults in the default window).
	PFFUpper, PFFLower float64
}

// WithDefaults returns c with every zero parameter set to its default.
func (c Config) WithDefaults() Config {
	if c.Quantum == 0 {
		c.Quantum = DefaultQuantum
	}
	if c.AccessTime == 0 {
		c.AccessTime = DefaultAccessTime
	}
	if c.FaultTime == 0 {
		c.FaultTime = DefaultFaultTime
	}
	if c.Tau == 0 {
		c.Tau = DefaultTau
	}
	if c.PFFWindow == 0 {
		c.PFFWindow = DefaultPFFWindow
	}
	if c.PFFUpper == 0 {
		c.PFFUpper = DefaultPFFUpper
	}
	if c.PFFLower == 0 {
		c.PFFLower = DefaultPFFLower
	}
	return c
}

// Check reports what makes c impossible to run with procs processes, as an
// error matching [ErrConfig] (or pager.ErrUnknownPolicy, pager.ErrFrames).
func (c Config) Check(procs int) error {
	c = c.WithDefaults()
	if _, err := pager.NewPolicy(c.Policy, c.PolicyOptions); err != nil {
		return err
	}
	var bad []string
	if c.Frames < 1 || c.Frames > pager.MaxFrames {
		return fmt.Errorf("%d frames: %w", c.Frames, pager.ErrFrames)
	}
	if procs < 1 {
		bad = append(bad, "no process to run")
	}
	if c.Scope > Local {
		bad = append(bad, c.Scope.String())
	}
	if c.Allocation > Proportional {
		bad = append(bad, c.Allocation.String())
	}
	if c.Control > PFF {
		bad = append(bad, c.Control.String())
	}
	if c.Control == PFF && c.Scope != Local {
		bad = append(bad, "page-fault frequency adjusts each process's own allocation: it needs local scope")
	}
	if c.Scope == Local && c.Control != WorkingSet && c.Frames < procs {
		bad = append(bad, fmt.Sprintf("local replacement gives each process at least one frame: %d frames for %d processes", c.Frames, procs))
	}
	if c.Quantum < 1 {
		bad = append(bad, fmt.Sprintf("quantum %d: want at least 1 access", c.Quantum))
	}
	if c.AccessTime < 0 || c.FaultTime < 0 {
		bad = append(bad, "times must not be negative")
	}
	if c.Tau < 1 {
		bad = append(bad, fmt.Sprintf("tau %d: want at least 1 access", c.Tau))
	}
	if c.PFFWindow < 1 {
		bad = append(bad, fmt.Sprintf("PFF window %d: want at least 1 access", c.PFFWindow))
	}
	if !(c.PFFLower > 0 && c.PFFLower < c.PFFUpper && c.PFFUpper <= 1) {
		bad = append(bad, fmt.Sprintf("PFF thresholds %v and %v: want 0 < lower < upper <= 1 fault per access", c.PFFLower, c.PFFUpper))
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s", ErrConfig, strings.Join(bad, "; "))
	}
	return nil
}
