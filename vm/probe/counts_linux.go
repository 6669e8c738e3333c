//go:build linux

package probe

import (
	"errors"
	"slices"

	"github.com/cilium/ebpf"

	"vmsim/vm/arch"
)

// pageKey is the per-page map's key, laid out as the program writes it
// (fields exported for cilium's binary marshalling).
type pageKey struct {
	// Page is the address of the page's first byte.
	Page uint64
	// Code is the error code, masked to NumCodes.
	Code uint32
	// Range is the index of the watched range.
	Range uint32
}

// Reset sets every count to zero, forgets the per-page counts and discards
// the events not read yet. Faults that happen while it runs may or may not
// be counted.
func (p *Probe) Reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &Error{Op: "reset", Err: ErrClosed}
	}
	return p.resetLocked(len(p.ranges))
}

// resetLocked zeroes the totals of the first n ranges and the special
// slots, empties the per-page map and drains the ring buffer.
func (p *Probe) resetLocked(n int) error {
	zero := make([]uint64, p.ncpu)
	keys := make([]uint32, 0, n*NumCodes+2)
	for k := range uint32(n * NumCodes) {
		keys = append(keys, k)
	}
	keys = append(keys, lostSlot, overflowSlot)
	for _, k := range keys {
		if err := p.totals.Put(k, zero); err != nil {
			return kernelError("reset totals", "", err)
		}
	}
	if p.pages != nil {
		var (
			k     pageKey
			v     uint64
			batch []pageKey
		)
		it := p.pages.Iterate()
		for it.Next(&k, &v) {
			batch = append(batch, k)
		}
		if err := it.Err(); err != nil {
			return kernelError("list per-page counts", "", err)
		}
		for _, k := range batch {
			if err := p.pages.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return kernelError("reset per-page counts", "", err)
			}
		}
	}
	if p.reader != nil {
		if _, err := p.readEventsLocked(nil, true); err != nil {
			return err
		}
	}
	return nil
}

// Counts returns the faults counted since Open or the last Reset. Faults
// that happen while it runs may or may not be in the result.
func (p *Probe) Counts() (Counts, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Counts{}, &Error{Op: "counts", Err: ErrClosed}
	}
	var c Counts
	vals := make([]uint64, p.ncpu)
	sum := func(k uint32) (uint64, error) {
		if err := p.totals.Lookup(k, &vals); err != nil {
			return 0, kernelError("read totals", "", err)
		}
		var s uint64
		for _, v := range vals {
			s += v
		}
		return s, nil
	}
	c.Ranges = make([]RangeCounts, len(p.ranges))
	for i, r := range p.ranges {
		c.Ranges[i].Range = r
		for code := range NumCodes {
			n, err := sum(uint32(i*NumCodes + code))
			if err != nil {
				return Counts{}, err
			}
			if n != 0 {
				c.Ranges[i].Add(ErrorCode(code), n)
				c.Total.Add(ErrorCode(code), n)
			}
		}
	}
	var err error
	if c.Lost, err = sum(lostSlot); err != nil {
		return Counts{}, err
	}
	if c.Overflow, err = sum(overflowSlot); err != nil {
		return Counts{}, err
	}
	if p.pages == nil {
		return c, nil
	}
	byPage := map[uint64]*PageCounts{}
	var (
		k pageKey
		v uint64
	)
	it := p.pages.Iterate()
	for it.Next(&k, &v) {
		pc := byPage[k.Page]
		if pc == nil {
			pc = &PageCounts{Addr: arch.Addr(k.Page), Range: int(k.Range)}
			byPage[k.Page] = pc
		}
		pc.Add(ErrorCode(k.Code), v)
	}
	if err := it.Err(); err != nil {
		return Counts{}, kernelError("read per-page counts", "", err)
	}
	c.Pages = make([]PageCounts, 0, len(byPage))
	for _, pc := range byPage {
		c.Pages = append(c.Pages, *pc)
	}
	slices.SortFunc(c.Pages, func(a, b PageCounts) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	return c, nil
}
