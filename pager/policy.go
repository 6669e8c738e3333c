package pager

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Policy is a page replacement policy. The [Pager] tells it of every access
// and asks it for victims; it never sees the trace loop or the counters.
//
// For each access exactly one of these happens: Hit (the page is resident),
// or Insert (the page was not resident and now is), preceded by Evict when
// every frame was in use.
type Policy interface {
	// Name returns the policy's command-line name.
	Name() string
	// Reset prepares the policy for a run with frames frames. pages tells
	// the state of a page (a policy that prefers clean victims asks).
	Reset(frames int, pages PageState)
	// Hit is called for an access to resident page r.Page.
	Hit(r Ref)
	// Insert is called after non-resident page r.Page was loaded.
	Insert(r Ref)
	// Evict is called when r.Page must be loaded and every frame is in use.
	// It chooses a resident page, forgets it as resident, and returns it.
	Evict(r Ref) PageID
}

// PageState is what a policy may ask about pages.
type PageState interface {
	// Dirty reports whether the page is resident and modified.
	Dirty(PageID) bool
}

// Options parameterise the policies that have parameters. The zero value
// gives the defaults.
type Options struct {
	// Seed seeds random. The same seed gives the same victims on every
	// platform.
	Seed uint64
	// Tick is the period of nfu's and aging's clock tick, in accesses. Zero
	// means one tick per frames accesses.
	Tick uint64
	// Tau is wsclock's working-set window in accesses (virtual time). Zero
	// means 2 × frames.
	Tau uint64
}

// ErrUnknownPolicy is matched by the error for a policy name that does not
// exist.
var ErrUnknownPolicy = errors.New("unknown policy")

type policyInfo struct {
	name    string
	summary string
	make    func(Options) Policy
	// needsNext says that the policy reads [Ref.Next]: the engine must
	// give each access its next use.
	needsNext bool
}

// policies lists every policy, in the order "all" runs them.
var policies = []policyInfo{
	{"fifo", "first in, first out: evict the page loaded earliest", func(Options) Policy { return &fifo{} }, false},
	{"lru", "least recently used", func(Options) Policy { return &lru{} }, false},
	{"mru", "most recently used", func(Options) Policy { return &lru{mru: true} }, false},
	{"lfu", "least frequently used since loaded; ties: least recently used", func(Options) Policy { return &lfu{} }, false},
	{"random", "a resident page chosen at random (seeded, reproducible)", func(o Options) Policy { return &random{seed: o.Seed} }, false},
	{"clock", "second chance; a loaded page starts referenced", func(Options) Policy { return &clock{} }, false},
	{"clock-cold", "second chance; a loaded page starts unreferenced", func(Options) Policy { return &clock{cold: true} }, false},
	{"nfu", "not frequently used: counts ticks in which the page was referenced", func(o Options) Policy { return &nfu{tick: o.Tick} }, false},
	{"aging", "8-bit aging counters shifted every tick", func(o Options) Policy { return &aging{tick: o.Tick} }, false},
	{"wsclock", "working-set clock with window tau", func(o Options) Policy { return &wsclock{opt: o.Tau} }, false},
	{"opt", "Belady's optimal: evict the page used farthest in the future", func(Options) Policy { return &opt{} }, true},
	{"arc", "adaptive replacement cache (Megiddo & Modha, FAST'03)", func(Options) Policy { return &arc{} }, false},
	{"sieve", "SIEVE (Zhang et al., NSDI'24)", func(Options) Policy { return &sieve{} }, false},
	{"s3fifo", "S3-FIFO (Yang et al., SOSP'23)", func(Options) Policy { return &s3fifo{} }, false},
}

// NeedsNext reports whether the named policy reads each access's next use
// ([Ref.Next]), which a replay must then supply: from the trace format
// ([traces.NextReader]) or from a pass over the whole trace.
func NeedsNext(name string) bool {
	for _, p := range policies {
		if p.name == name {
			return p.needsNext
		}
	}
	return false
}

// Policies returns the names of every policy, in a stable order.
func Policies() []string {
	names := make([]string, len(policies))
	for i, p := range policies {
		names[i] = p.name
	}
	return names
}

// Summary returns a one-line description of the named policy.
func Summary(name string) string {
	for _, p := range policies {
		if p.name == name {
			return p.summary
		}
	}
	return ""
}

// NewPolicy returns a fresh policy by name.
func NewPolicy(name string, opts Options) (Policy, error) {
	for _, p := range policies {
		if p.name == name {
			return p.make(opts), nil
		}
	}
	return nil, fmt.Errorf("%q (known: %s): %w", name, strings.Join(Policies(), ", "), ErrUnknownPolicy)
}

// ParsePolicies parses a comma-separated list of policy names; "all" means
// every policy. Duplicates are dropped; the order is kept.
func ParsePolicies(list string) ([]string, error) {
	var out []string
	for _, name := range strings.Split(list, ",") {
		name = strings.ToLower(strings.TrimSpace(name))
		if name == "all" {
			for _, n := range Policies() {
				if !slices.Contains(out, n) {
					out = append(out, n)
				}
			}
			continue
		}
		if _, err := NewPolicy(name, Options{}); err != nil {
			return nil, err
		}
		if !slices.Contains(out, name) {
			out = append(out, name)
		}
	}
	return out, nil
}
