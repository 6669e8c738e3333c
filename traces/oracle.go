package traces

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"

	"vmsim/vm/arch"
)

// The oracle format is libCacheSim's oracleGeneral binary trace: packed
// little-endian records of 24 bytes, without a header:
//
//	offset size field
//	     0    4 uint32 clock time (seconds; ignored when read)
//	     4    8 uint64 object id: the page number
//	    12    4 uint32 object size in bytes (ignored when read)
//	    16    8 int64 next access: the position in the trace of the next
//	            request for the same object, or -1 (or 2^63-1) if none
//
// Positions come in two conventions. libCacheSim's traceConv counts
// requests from 1 (it writes n_req minus the position counted from the
// end), so the record at 0-based index i has a next access of at least
// i+2; other generators count from 0 (at least i+1). libCacheSim reads both,
// since OPT only compares next accesses; so does this package: the reader
// tells the conventions apart on the first records that can (see
// [OracleReader]) and returns 0-based indices either way. The format has no
// operation field: every access reads.

// OracleRecordSize is the size of an oracleGeneral record in bytes.
const OracleRecordSize = 24

// NoNext is the next use of an access whose page is not accessed again:
// math.MaxUint64. It is also the engine's: package pager reads next uses
// with it unchanged.
const NoNext = math.MaxUint64

// NextReader is implemented by readers whose format carries, with each
// access, the position of the next access to the same page: the input of
// Belady's OPT policy. An engine that finds it need not make a next-use pass
// over the trace (which needs the whole trace in memory first), and can
// stream the trace:
//
//	if nr, ok := r.(traces.NextReader); ok {
//		n, err := nr.ReadNext(batch, next)
//		// next[:n] are 0-based indices into the whole trace, or NoNext
//	}
//
// Only the oracle reader implements it. The positions are checked to come
// after their access, but not checked to name an access of the same page:
// that would need memory that grows with the number of pages.
type NextReader interface {
	Reader
	// ReadNext is Read that also sets next[i], for each access buf[i] it
	// returns, to the 0-based index in the whole trace of the next access
	// to the same page, or to NoNext. next must be at least as long as buf.
	ReadNext(buf []Access, next []uint64) (int, error)
}

// ReadAllNext reads every access of r with its next use.
func ReadAllNext(r NextReader) ([]Access, []uint64, error) {
	var all []Access
	var nexts []uint64
	buf := make([]Access, 4096)
	next := make([]uint64, len(buf))
	for {
		n, err := r.ReadNext(buf, next)
		all = append(all, buf[:n]...)
		nexts = append(nexts, next[:n]...)
		if err == io.EOF {
			return all, nexts, nil
		}
		if err != nil {
			return all, nexts, err
		}
	}
}

// OracleReader reads libCacheSim's oracleGeneral format. It implements
// [NextReader] and allocates nothing per access.
//
// It tells the 1-based and 0-based conventions of next accesses apart
// before it returns the first access, from the first 65,536 records (or the
// whole trace, if shorter): a next access at the very next position proves
// 0-based, and a record whose object is found at one of the two positions
// its next access can name, and not at the other, proves that convention.
// Until then it takes libCacheSim's own, 1-based. A proof of 0-based found
// only after accesses were returned (no record of the first window names
// a position inside it, as in a scan of more than 65,536 objects) does not
// change how the rest is read: every next use of such a trace is then one
// less than its position, the same for all of them, so that they keep
// their order and never tie (OPT, which looks at nothing else, stays
// exact), where switching would have made a next use read before the
// proof equal to one read after it.
type OracleReader struct {
	name string
	src  io.Reader
	buf  []byte
	r, w int // unread bytes are buf[r:w]
	eof  bool
	rerr error  // a read error, returned after the data before it
	n    uint64 // records decoded
	err  error  // sticky: returned after the accesses before it

	// base is the convention of next accesses, once known.
	base oracleBase
	// scanned is the index of the first record not yet looked at for the
	// convention.
	scanned uint64
}

// oracleBase is the convention of an oracle trace's next accesses.
type oracleBase uint8

const (
	baseUnknown oracleBase = iota // until proven: taken as 1-based
	baseOne                       // libCacheSim's traceConv
	baseZero                      // other generators
	// baseZeroLate is 0-based, proven after accesses were returned as if
	// 1-based: read one less than their positions, as those were.
	baseZeroLate
)

const (
	// oracleWindow is the number of records read before the first access
	// is returned, to find the convention of next accesses.
	oracleWindow = 1 << 16
	// oracleRead is how much a later fill reads at a time: small enough
	// for the records to stay in the cache until decoded.
	oracleRead = 2730 * OracleRecordSize
)

// NewOracleReader returns a reader of the oracleGeneral format from src;
// name names the trace in errors.
func NewOracleReader(src io.Reader, name string) *OracleReader {
	return &OracleReader{name: name, src: src, buf: make([]byte, oracleWindow*OracleRecordSize)}
}

// fill reads more input after the unread bytes: up to a whole window while
// the convention is unknown at the start, else oracleRead bytes.
func (o *OracleReader) fill() {
	if o.r > 0 {
		o.w = copy(o.buf, o.buf[o.r:o.w])
		o.r = 0
	}
	end := min(len(o.buf), o.w+oracleRead)
	if o.n == 0 && o.base == baseUnknown {
		end = len(o.buf)
	}
	n, err := o.src.Read(o.buf[o.w:end])
	o.w += n
	switch {
	case err == io.EOF:
		o.eof = true
	case err != nil:
		o.rerr = err
	}
}

// Read implements [Reader].
func (o *OracleReader) Read(buf []Access) (int, error) { return o.ReadNext(buf, nil) }

// ReadNext implements [NextReader]; next may be nil to skip the next uses.
// A record whose next access does not come after it gives a *ParseError
// wrapping [ErrBadRecord]; a trace that ends inside a record, one wrapping
// [ErrTruncated]. Both give the record's byte offset.
func (o *OracleReader) ReadNext(buf []Access, next []uint64) (int, error) {
	if next != nil && len(next) < len(buf) {
		panic(fmt.Sprintf("traces: ReadNext with %d next slots for %d accesses", len(next), len(buf)))
	}
	n := 0
	for n < len(buf) && o.err == nil {
		if o.n == 0 && o.base == baseUnknown && o.w < len(o.buf) && !o.eof && o.rerr == nil {
			o.fill() // the whole first window, before anything is returned
			continue
		}
		if o.w-o.r < OracleRecordSize {
			if !o.eof && o.rerr == nil {
				o.fill()
				continue
			}
			o.err = o.end()
			break
		}
		if o.base == baseUnknown {
			o.findBase()
		}
		// Under baseZero a next access may name the following record;
		// under the other two it must come one later (a 1-based position
		// after this one), and findBase has seen to it that one naming
		// the following record proved baseZero.
		first, sub := o.n+2, uint64(1)
		switch o.base {
		case baseZero:
			first, sub = o.n+1, 0
		case baseZeroLate:
			first = o.n + 1
		}
		k := min((o.w-o.r)/OracleRecordSize, len(buf)-n)
		src := o.buf[o.r : o.r+k*OracleRecordSize]
		for i := range k {
			rec := src[i*OracleRecordSize : (i+1)*OracleRecordSize]
			buf[n] = Access{Page: arch.PageNum(binary.LittleEndian.Uint64(rec[4:]))}
			nx := int64(binary.LittleEndian.Uint64(rec[16:]))
			var use uint64 = NoNext
			if nx != -1 && nx != math.MaxInt64 {
				if nx < 0 || uint64(nx) < first {
					o.err = o.badNext(nx)
					break
				}
				use = uint64(nx) - sub
			}
			if next != nil {
				next[n] = use
			}
			n++
			o.n++
			first++
			o.r += OracleRecordSize
		}
	}
	return finish(n, o.err)
}

// badNext returns the error of a next access nx that does not come after
// record o.n.
func (o *OracleReader) badNext(nx int64) error {
	what := fmt.Sprintf("expected the position of a later request (after %d, 1-based, or %d, 0-based), or -1; got %d", o.n+1, o.n, nx)
	switch o.base {
	case baseZero, baseZeroLate:
		what = fmt.Sprintf("expected the position of a later request (after %d: this trace counts from 0), or -1; got %d", o.n, nx)
	case baseOne:
		what = fmt.Sprintf("expected the position of a later request (after %d: this trace counts from 1), or -1; got %d", o.n+1, nx)
	}
	return &ParseError{File: o.name, Offset: int64(o.n) * OracleRecordSize, Err: fmt.Errorf("%w: %s", ErrBadRecord, what)}
}

// findBase looks at the buffered records not seen yet for a proof of the
// convention of next accesses (see [OracleReader]).
func (o *OracleReader) findBase() {
	have := uint64((o.w - o.r) / OracleRecordSize) // records o.n, o.n+1...
	obj := func(j uint64) uint64 {
		return binary.LittleEndian.Uint64(o.buf[o.r+int(j-o.n)*OracleRecordSize+4:])
	}
	for j := max(o.scanned, o.n); j < o.n+have; j++ {
		rec := o.buf[o.r+int(j-o.n)*OracleRecordSize:]
		nx := int64(binary.LittleEndian.Uint64(rec[16:]))
		if nx < 0 || nx == math.MaxInt64 || uint64(nx) <= j {
			continue // none, or bad: the decoder says so
		}
		if uint64(nx) == j+1 {
			o.base = o.zero() // 1-based, it would name this very record
			break
		}
		if uint64(nx) >= o.n+have {
			continue // beyond the buffer
		}
		self := obj(j)
		one, zero := obj(uint64(nx)-1) == self, obj(uint64(nx)) == self
		if one != zero {
			o.base = baseOne
			if zero {
				o.base = o.zero()
			}
			break
		}
	}
	o.scanned = o.n + have
}

// zero is the base a proof of 0-based gives: baseZeroLate once accesses
// have been returned as if 1-based.
func (o *OracleReader) zero() oracleBase {
	if o.n > 0 {
		return baseZeroLate
	}
	return baseZero
}

func (o *OracleReader) end() error {
	switch {
	case o.rerr != nil:
		return o.rerr
	case o.r < o.w:
		return &ParseError{File: o.name, Offset: int64(o.n) * OracleRecordSize, Err: fmt.Errorf(
			"%w: expected a %d-byte record, got %d bytes", ErrTruncated, OracleRecordSize, o.w-o.r)}
	}
	return io.EOF
}

// OracleWriter writes libCacheSim's oracleGeneral format. Each record needs
// the position of the next access to its page, which is known only once the
// trace has been seen to its end: the writer keeps every page in memory
// until Close, then makes one backward pass. That costs 16 bytes per access
// (the page and its next use) plus a map entry per distinct page (about 40
// bytes). Write bits are lost: the format has none.
//
// Each record has the access's 0-based index modulo 2^32 as its clock time
// and the page size as its object size.
type OracleWriter struct {
	w     io.Writer
	size  uint32
	pages []uint64
}

// NewOracleWriter returns a writer of the oracleGeneral format to w. nil
// options mean the defaults. Call Close at the end: it writes everything.
func NewOracleWriter(w io.Writer, opts *WriterOptions) (*OracleWriter, error) {
	if opts == nil {
		opts = &WriterOptions{}
	}
	ps, err := checkPageSize(opts.PageSize)
	if err != nil {
		return nil, err
	}
	o := &OracleWriter{w: w, size: uint32(ps)}
	if opts.Count > 0 && opts.Count < 1<<28 {
		o.pages = make([]uint64, 0, opts.Count)
	}
	return o, nil
}

// Write implements [Writer]. It only stores the pages.
func (o *OracleWriter) Write(as []Access) error {
	for _, a := range as {
		o.pages = append(o.pages, uint64(a.Page))
	}
	return nil
}

// Close implements [Writer]: it computes the next accesses and writes the
// records.
func (o *OracleWriter) Close() error {
	next := make([]int64, len(o.pages))
	last := make(map[uint64]int64)
	for i := len(o.pages) - 1; i >= 0; i-- {
		p := o.pages[i]
		if j, ok := last[p]; ok {
			next[i] = j + 1 // 1-based
		} else {
			next[i] = -1
		}
		last[p] = int64(i)
	}
	buf := make([]byte, 0, 2730*OracleRecordSize)
	for i, p := range o.pages {
		buf = binary.LittleEndian.AppendUint32(buf, uint32(i))
		buf = binary.LittleEndian.AppendUint64(buf, p)
		buf = binary.LittleEndian.AppendUint32(buf, o.size)
		buf = binary.LittleEndian.AppendUint64(buf, uint64(next[i]))
		if len(buf) == cap(buf) {
			if _, err := o.w.Write(buf); err != nil {
				return err
			}
			buf = buf[:0]
		}
	}
	o.pages = nil
	_, err := o.w.Write(buf)
	return err
}
