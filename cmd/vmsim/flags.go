package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"vmsim/pager"
)

// policyOptions are the flags of the policies that have parameters, shared
// by the commands that run policies.
type policyOptions struct {
	seed, tick, tau uint64
}

// addPolicyOptions declares --seed, --tick and --tau.
func addPolicyOptions(cmd *cobra.Command, o *policyOptions) {
	fl := cmd.Flags()
	fl.Uint64Var(&o.seed, "seed", 1, "seed of the random policy")
	fl.Uint64Var(&o.tick, "tick", 0, "nfu and aging: accesses between clock ticks (0: one tick per frames accesses)")
	fl.Uint64Var(&o.tau, "tau", 0, "wsclock: working-set window in accesses (0: 2 × frames)")
}

func (o policyOptions) options() pager.Options {
	return pager.Options{Seed: o.seed, Tick: o.tick, Tau: o.tau}
}

// addMaxMemoryFlag declares --max-memory on a command that holds whole
// traces in memory (what says which, for the help).
func addMaxMemoryFlag(cmd *cobra.Command, s *string, what string) {
	cmd.Flags().StringVar(s, "max-memory", "", "most memory "+what+" may take, a `SIZE` like 4GiB or 500MB (default: half of this machine's memory)")
}

// tooLarge adds to a pager.ErrTooLarge error what the user can do: cmd
// holds the whole trace; hint says how else to make it smaller.
func tooLarge(err error, cmd, hint string) error {
	if !errors.Is(err, pager.ErrTooLarge) {
		return err
	}
	return fmt.Errorf("%w; %s holds the whole trace in memory: raise --max-memory, or %s", err, cmd, hint)
}

// memoryBudget parses a --max-memory value: a size with an optional unit (B,
// KB, MB, GB, TB in powers of 1000; KiB, MiB, GiB, TiB in powers of 1024;
// k, m, g, t as the binary ones). "" means half of this machine's memory.
func memoryBudget(s string) (uint64, error) {
	if s == "" {
		return defaultBudget(), nil
	}
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q: want a size like 4GiB or 500MB", s)
	}
	mult := map[string]uint64{
		"": 1, "b": 1,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
		"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("%q: unknown unit %q (want B, KB, MB, GB, TB, KiB, MiB, GiB or TiB)", s, s[len(num):])
	}
	if n == 0 {
		return 0, fmt.Errorf("%q: the budget must be more than 0", s)
	}
	if n > ^uint64(0)/mult {
		return 0, fmt.Errorf("%q: too large", s)
	}
	return n * mult, nil
}

// defaultBudget is half of the machine's memory (1 GiB if it cannot be
// read): a trace read whole must leave room for everything else.
func defaultBudget() uint64 {
	var si syscall.Sysinfo_t
	if err := syscall.Sysinfo(&si); err != nil || si.Totalram == 0 {
		return 1 << 30
	}
	return uint64(si.Totalram) * uint64(si.Unit) / 2
}
