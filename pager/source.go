package pager

import (
	"errors"
	"fmt"
	"io"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// Source gives a trace's accesses in order, a batch at a time: a trace held
// in memory ([Trace.Source]) or one decoded as it is read ([Decoder]).
type Source interface {
	// Next returns the next batch, valid until the following call, or nil
	// and io.EOF after the last one. Any other error (a malformed record, a
	// failed read) comes once the batches before it have been returned.
	Next() (*Batch, error)
}

// errEOF is io.EOF: the end of a source.
var errEOF = io.EOF

// DecoderOptions tune a [Decoder]. A nil *DecoderOptions means the defaults.
type DecoderOptions struct {
	// BatchSize is the number of accesses decoded at a time; zero means
	// 65,536.
	BatchSize int
	// Next asks for each access's next use, when the reader supplies them
	// ([traces.NextReader]); see [Decoder.HasNext].
	Next bool
	// Progress, if not nil, is called after each batch with the number of
	// accesses decoded so far.
	Progress func(accesses uint64)
}

// Decoder reads a trace and numbers its pages densely (0, 1, 2... in the
// order of their first access), a batch at a time: the source of every
// replay that does not hold the whole trace in memory. Its memory grows with
// the trace's distinct pages, not with its length. A dense reader
// ([traces.DenseReader], the vmt format) gives its ids as they are, with no
// hash table of page numbers.
type Decoder struct {
	name string
	r    traces.Reader
	nr   traces.NextReader // when next uses are asked for and supplied
	dr   traces.DenseReader
	ids  *traces.Dense // when not dense
	// distinct is the number of ids given so far.
	distinct int
	buf      []traces.Access
	nextBuf  []uint64
	start    uint64
	progress func(uint64)
	err      error // sticky
	own      Batch
}

// NewDecoder returns a decoder of the trace read from r, called name in
// errors.
func NewDecoder(name string, r traces.Reader, opts *DecoderOptions) *Decoder {
	var o DecoderOptions
	if opts != nil {
		o = *opts
	}
	if o.BatchSize <= 0 {
		o.BatchSize = defaultBatch
	}
	d := &Decoder{name: name, r: r, buf: make([]traces.Access, o.BatchSize), progress: o.Progress}
	if nr, ok := r.(traces.NextReader); ok && o.Next {
		d.nr = nr
		d.nextBuf = make([]uint64, o.BatchSize)
	}
	if dr, ok := r.(traces.DenseReader); ok && d.nr == nil {
		// A bad header is not dense here; Read reports it.
		if dense, err := dr.Dense(); err == nil && dense {
			d.dr = dr
			// The decoder reads ids and nothing else: the reader need
			// not keep their page numbers.
			if ir, ok := r.(traces.IDsOnlyReader); ok {
				ir.IDsOnly()
			}
		}
	}
	if d.dr == nil {
		d.ids = traces.NewDense()
	}
	return d
}

// HasNext reports whether the batches carry next uses: they were asked for
// and the reader supplies them.
func (d *Decoder) HasNext() bool { return d.nr != nil }

// Distinct returns the number of distinct pages decoded so far.
func (d *Decoder) Distinct() int { return d.distinct }

// Accesses returns the number of accesses decoded so far.
func (d *Decoder) Accesses() uint64 { return d.start }

// Next implements [Source], with a batch the decoder owns.
func (d *Decoder) Next() (*Batch, error) {
	if err := d.Fill(&d.own); err != nil {
		return nil, err
	}
	return &d.own, nil
}

// Fill decodes the next batch into b, reusing its slices' memory: for a
// consumer that keeps several batches in flight. At the end it returns
// io.EOF and leaves b empty.
func (d *Decoder) Fill(b *Batch) error {
	for d.err == nil {
		var n int
		switch {
		case d.nr != nil:
			n, d.err = d.nr.ReadNext(d.buf, d.nextBuf)
		case d.dr != nil:
			n, d.err = d.dr.ReadDense(d.buf)
		default:
			n, d.err = d.r.Read(d.buf)
		}
		if n == 0 {
			continue
		}
		b.Pages, b.Writes = growLen(b.Pages, n), growLen(b.Writes, n)
		if n = d.number(b, d.buf[:n]); n == 0 {
			continue
		}
		if d.nr != nil {
			b.Next = append(b.Next[:0], d.nextBuf[:n]...)
		} else {
			b.Next = nil
		}
		b.Start = d.start
		b.ids = d.distinct
		d.start += uint64(n)
		if d.progress != nil {
			d.progress(d.start)
		}
		return nil
	}
	b.Pages, b.Writes, b.Next = b.Pages[:0], b.Writes[:0], nil
	return d.err
}

// number gives the accesses of as their dense ids in b, and returns how many
// it took: fewer, with d.err set, when a dense trace skips an id or the
// trace has more pages than ids can number.
func (d *Decoder) number(b *Batch, as []traces.Access) int {
	// Locals, not fields, in the loops: a store through b could change
	// b's slices, as far as the compiler knows, so it would load them
	// again for every access.
	pages, writes := b.Pages[:len(as)], b.Writes[:len(as)]
	if d.dr != nil {
		distinct := d.distinct
		for i, a := range as {
			if a.Page >= arch.PageNum(distinct) {
				if a.Page != arch.PageNum(distinct) || distinct == maxPages {
					d.err = fmt.Errorf("%s: dense id %d after %d pages: %w", d.name, a.Page, distinct, errNotDense)
					as = as[:i]
					break
				}
				distinct++
			}
			pages[i], writes[i] = PageID(a.Page), a.Write
		}
		d.distinct = distinct
	} else {
		if d.ids.Len() > maxPages-len(as) {
			d.err = fmt.Errorf("%s: more than %d distinct pages", d.name, maxPages)
			return 0
		}
		d.ids.IDs(as, uint32s(pages))
		for i, a := range as {
			writes[i] = a.Write
		}
		d.distinct = d.ids.Len()
	}
	b.Pages, b.Writes = pages[:len(as)], writes[:len(as)]
	return len(as)
}

func growLen[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// errNotDense is wrapped by the error for a dense reader whose ids skip.
var errNotDense = errors.New("ids must be given in order")

// maxPages is the most distinct pages a trace may have: ids are uint32.
const maxPages = 1<<32 - 2
