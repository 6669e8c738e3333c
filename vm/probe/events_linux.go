//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	"vmsim/vm/arch"
)

// ringSize rounds n bytes (at most maxEventBuffer) up to a power-of-two
// number of pages, as the kernel requires of a ring buffer.
func ringSize(n int, ps arch.PageSize) int {
	if n <= 0 {
		n = defaultEventBuffer
	}
	n = min(n, maxEventBuffer)
	size := int(ps)
	for size < n {
		size <<= 1
	}
	return size
}

// ReadEvents returns the events in the ring buffer, oldest first, without
// waiting for more, and appends them to dst. Events were recorded when the
// faulting thread was still in the kernel: every fault of a thread that has
// returned to user space is there (or counted in Counts.Lost). It fails
// unless Options.Events was set.
func (p *Probe) ReadEvents(dst []Event) ([]Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return dst, &Error{Op: "read events", Err: ErrClosed}
	}
	if p.reader == nil {
		return dst, &Error{Op: "read events", Err: errors.New("the probe was opened without Options.Events")}
	}
	return p.readEventsLocked(dst, false)
}

// readEventsLocked drains the ring buffer into dst, or drops what it reads
// if discard is set.
func (p *Probe) readEventsLocked(dst []Event, discard bool) ([]Event, error) {
	p.reader.SetDeadline(time.Now())
	for {
		err := p.reader.ReadInto(&p.rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return dst, nil
		}
		if err != nil {
			return dst, kernelError("read events", "", err)
		}
		if discard {
			continue
		}
		b := p.rec.RawSample
		if len(b) < eventSize {
			return dst, &Error{Op: "read events", Err: fmt.Errorf("short record of %d bytes", len(b))}
		}
		dst = append(dst, Event{
			Time:    binary.NativeEndian.Uint64(b[0:]),
			Address: arch.Addr(binary.NativeEndian.Uint64(b[8:])),
			IP:      arch.Addr(binary.NativeEndian.Uint64(b[16:])),
			TID:     int(binary.NativeEndian.Uint32(b[24:])),
			Code:    ErrorCode(binary.NativeEndian.Uint16(b[28:])),
			Range:   int(b[30]),
		})
	}
}
