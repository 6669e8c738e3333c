//go:build !linux

package probe

// notLinux is the error of every call on systems other than Linux.
var notLinux = &Error{Op: "open", Missing: "Linux (eBPF and perf events)", Kind: ErrNotSupported}

// Probe counts the kernel's page faults; on this system it cannot be
// opened.
type Probe struct{}

// Open returns an error matching ErrNotSupported: the probe needs Linux.
func Open(opts *Options) (*Probe, error) { return nil, notLinux }

// Attach returns AttachAuto.
func (p *Probe) Attach() Attach { return AttachAuto }

// Ranges returns nil.
func (p *Probe) Ranges() []Range { return nil }

// SetRanges returns an error matching ErrNotSupported.
func (p *Probe) SetRanges(rs []Range) error { return notLinux }

// Reset returns an error matching ErrNotSupported.
func (p *Probe) Reset() error { return notLinux }

// Counts returns an error matching ErrNotSupported.
func (p *Probe) Counts() (Counts, error) { return Counts{}, notLinux }

// ReadEvents returns an error matching ErrNotSupported.
func (p *Probe) ReadEvents(dst []Event) ([]Event, error) { return dst, notLinux }

// Close returns an error matching ErrNotSupported.
func (p *Probe) Close() error { return notLinux }

// Counters reads the kernel's fault counters; on this system it cannot be
// opened.
type Counters struct{}

// OpenCounters returns an error matching ErrNotSupported.
func OpenCounters() (*Counters, error) { return nil, notLinux }

// PerfErr returns an error matching ErrNotSupported.
func (c *Counters) PerfErr() error { return notLinux }

// TID returns 0.
func (c *Counters) TID() int { return 0 }

// Read returns an error matching ErrNotSupported.
func (c *Counters) Read() (Sample, error) { return Sample{}, notLinux }

// Close returns an error matching ErrNotSupported.
func (c *Counters) Close() error { return notLinux }

// ZeroPageOnRead returns an error matching ErrNotSupported.
func ZeroPageOnRead() (bool, error) { return false, notLinux }
