//go:build linux

package probe

import (
	"encoding/binary"
	"slices"
)

// Ranges returns the ranges watched now.
func (p *Probe) Ranges() []Range {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ranges)
}

// SetRanges replaces the watched ranges and resets the counts (a range's
// counters are kept by its index). Faults that happen while it runs may be
// counted under the old or the new ranges.
func (p *Probe) SetRanges(rs []Range) error {
	if err := checkRanges(rs); err != nil {
		return &Error{Op: "set ranges", Err: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &Error{Op: "set ranges", Err: ErrClosed}
	}
	n := max(len(p.ranges), len(rs))
	if err := p.putRangesLocked(rs); err != nil {
		return err
	}
	p.ranges = slices.Clone(rs)
	return p.resetLocked(n)
}

func (p *Probe) putRangesLocked(rs []Range) error {
	v := make([]byte, MaxRanges*rangeSlot)
	for i, r := range rs {
		binary.NativeEndian.PutUint64(v[i*rangeSlot:], uint64(r.Start))
		binary.NativeEndian.PutUint64(v[i*rangeSlot+8:], uint64(r.End))
	}
	if err := p.rangesMap.Put(uint32(0), v); err != nil {
		return kernelError("set ranges", "", err)
	}
	return nil
}
