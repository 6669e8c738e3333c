package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/pager"
)

// parseFrames parses a frame list: "3", "3,4,8", a range "4:64:4" (from 4
// to 64 inclusive in steps of 4; the step defaults to 1), or a mix. Every
// count must be at least 1. The result is sorted, without duplicates.
func parseFrames(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, fmt.Errorf("empty item in frame list %q", s)
		}
		if !strings.Contains(part, ":") {
			n, err := atoiPositive(part)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
			continue
		}
		f := strings.Split(part, ":")
		if len(f) > 3 {
			return nil, fmt.Errorf("range %q: want FROM:TO or FROM:TO:STEP", part)
		}
		from, err := atoiPositive(f[0])
		if err != nil {
			return nil, err
		}
		to, err := atoiPositive(f[1])
		if err != nil {
			return nil, err
		}
		step := 1
		if len(f) == 3 {
			if step, err = atoiPositive(f[2]); err != nil {
				return nil, fmt.Errorf("range %q: step: %w", part, err)
			}
		}
		if to < from {
			return nil, fmt.Errorf("range %q: %d is below %d", part, to, from)
		}
		if (to-from)/step > 1_000_000 {
			return nil, fmt.Errorf("range %q: more than a million frame counts", part)
		}
		for n := from; ; n += step {
			out = append(out, n)
			if n > to-step {
				break
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// parseFrameCount parses one frame count, with the words of parseFrames.
func parseFrameCount(s string) (int, error) {
	if strings.ContainsAny(s, ",:") {
		return 0, fmt.Errorf("%q: want one frame count", s)
	}
	return atoiPositive(s)
}

func atoiPositive(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	if n < 1 {
		return 0, fmt.Errorf("%d frames: must be at least 1", n)
	}
	if n > pager.MaxFrames {
		return 0, fmt.Errorf("%d frames: at most %d", n, pager.MaxFrames)
	}
	return n, nil
}

// checkOutput validates --output against the formats a command writes, and
// --plot (if set) against the image formats.
func checkOutput(cmd *cobra.Command, output string, formats []string, plot string) error {
	if !slices.Contains(formats, output) {
		return usageErrorf(cmd, "--output %q: want %s", output, strings.Join(formats, ", "))
	}
	if plot != "" {
		if _, err := plotFormat(plot); err != nil {
			return usageErrorf(cmd, "--plot: %v", err)
		}
	}
	for _, name := range []string{"log-x", "log-y"} {
		if plot == "" && cmd.Flags().Lookup(name) != nil && cmd.Flags().Changed(name) {
			return usageErrorf(cmd, "--%s sets an axis of --plot: give --plot too", name)
		}
	}
	return nil
}
