package traces

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"vmsim/vm/arch"
)

// The vmt format is vmsim's own binary trace format, made to decode fast.
// docs/traces.md describes it byte by byte. In short: a 32-byte header
//
//	offset size field
//	     0    8 magic "\x89VMT\r\n\x1a\n"
//	     8    2 version (1), little-endian like every field
//	    10    2 flags: bit 0 set when count is known
//	    12    4 page size in bytes (a power of two)
//	    16    8 count: the number of accesses, when flag bit 0 is set, else 0
//	    24    8 reserved, zero
//
// then one 8-byte little-endian word per access: page<<1 | write. A page of
// 2^63-1 or more does not fit in 63 bits: its word is the escape
// 0xffff_ffff_ffff_fffe | write, followed by a word holding the page.
//
// With flag bit 1 (dense), which this package's writer always sets, a word
// holds a dense id instead of a page number: pages are numbered 0, 1, 2...
// in the order of their first access, the first access to a page is the
// word 0xffff_ffff_ffff_fffc | write followed by a word holding the page
// number (and takes the next id), and every later access is id<<1 | write.
// A reader keeps the table of page numbers, 8 bytes per distinct page, and a
// replay can take the ids as they are ([DenseReader]): no hash table of page
// numbers, which is most of the cost of replaying large traces.

// VMTMagic starts every vmt trace. Like PNG's signature it holds a byte
// above 0x7f, a CR LF pair, a DOS end-of-file and a LF, so that transfers
// that mangle text damage it visibly.
const VMTMagic = "\x89VMT\r\n\x1a\n"

// VMTVersion is the version of the vmt format this package writes and reads.
const VMTVersion = 1

// VMTHeaderSize is the size of a vmt header in bytes.
const VMTHeaderSize = 32

// Header flags.
const (
	// VMTFlagCount says the count field holds the number of accesses.
	VMTFlagCount = 1 << 0
	// VMTFlagDense says the words hold dense ids (see the format above).
	VMTFlagDense = 1 << 1
)

const (
	// vmtEscape, or'ed with the write bit, announces a page of escapePage or
	// more in the next word.
	vmtEscape  = 0xffff_ffff_ffff_fffe
	escapePage = 1<<63 - 1
	// vmtNew, or'ed with the write bit, is a dense trace's first access to
	// a page, whose number is in the next word.
	vmtNew = 0xffff_ffff_ffff_fffc
)

// ErrBadHeader is wrapped by the error for a binary trace whose header is
// missing, damaged or of an unsupported version.
var ErrBadHeader = errors.New("bad header")

// ErrTruncated is wrapped by the error for a binary trace that ends inside a
// record, or before the number of accesses its header announced.
var ErrTruncated = errors.New("truncated trace")

// ErrBadRecord is wrapped by the error for a binary record whose fields are
// impossible.
var ErrBadRecord = errors.New("bad record")

// VMTHeader is the header of a vmt trace.
type VMTHeader struct {
	// Version is the format version, VMTVersion.
	Version uint16
	// Flags holds VMTFlagCount and VMTFlagDense, or nothing.
	Flags uint16
	// PageSize is the page size in bytes that the page numbers count in.
	PageSize arch.PageSize
	// Count is the number of accesses if Flags has VMTFlagCount, else 0.
	Count uint64
}

// CountKnown reports whether the header gives the number of accesses.
func (h VMTHeader) CountKnown() bool { return h.Flags&VMTFlagCount != 0 }

// Dense reports whether the words hold dense ids.
func (h VMTHeader) Dense() bool { return h.Flags&VMTFlagDense != 0 }

func (h VMTHeader) encode() []byte {
	b := make([]byte, VMTHeaderSize)
	copy(b, VMTMagic)
	binary.LittleEndian.PutUint16(b[8:], h.Version)
	binary.LittleEndian.PutUint16(b[10:], h.Flags)
	binary.LittleEndian.PutUint32(b[12:], uint32(h.PageSize))
	binary.LittleEndian.PutUint64(b[16:], h.Count)
	return b
}

// decodeVMTHeader checks and decodes a header; the error says which field
// is wrong.
func decodeVMTHeader(b []byte) (VMTHeader, error) {
	if string(b[:8]) != VMTMagic {
		return VMTHeader{}, errors.New("expected the vmt magic \\x89VMT\\r\\n\\x1a\\n")
	}
	h := VMTHeader{
		Version:  binary.LittleEndian.Uint16(b[8:]),
		Flags:    binary.LittleEndian.Uint16(b[10:]),
		PageSize: arch.PageSize(binary.LittleEndian.Uint32(b[12:])),
		Count:    binary.LittleEndian.Uint64(b[16:]),
	}
	switch {
	case h.Version != VMTVersion:
		return h, fmt.Errorf("expected version %d, got %d", VMTVersion, h.Version)
	case h.Flags&^(VMTFlagCount|VMTFlagDense) != 0:
		return h, fmt.Errorf("expected flags of at most bits 0 and 1, got %#x", h.Flags)
	case !h.PageSize.Valid() || h.PageSize > MaxPageSize:
		return h, fmt.Errorf("expected a page size that is a power of two up to 1 GiB, got %d", uint64(h.PageSize))
	case !h.CountKnown() && h.Count != 0:
		return h, fmt.Errorf("expected count 0 without the count flag, got %d", h.Count)
	case binary.LittleEndian.Uint64(b[24:]) != 0:
		return h, errors.New("expected zero reserved bytes 24-31")
	}
	return h, nil
}

// VMTReader reads the vmt format. It decodes words straight from its input
// buffer into the caller's batch and allocates nothing per access.
type VMTReader struct {
	name string
	src  io.Reader
	buf  []byte
	r, w int   // unread bytes are buf[r:w]
	off  int64 // offset in the trace of buf[r]
	eof  bool
	rerr error // a read error, returned after the data before it

	started bool
	hdr     VMTHeader
	hdrErr  error
	n       uint64 // accesses decoded
	err     error  // sticky: returned after the accesses before it
	// table maps the dense ids of a dense trace to page numbers, unless
	// idsOnly; ids counts the ids given.
	table   []arch.PageNum
	ids     uint64
	idsOnly bool
}

// NewVMTReader returns a reader of the vmt format from src; name names the
// trace in errors. The header is read by the first Read (or by Header).
func NewVMTReader(src io.Reader, name string) *VMTReader {
	return &VMTReader{name: name, src: src, buf: make([]byte, 64<<10)}
}

// Header reads the header if no Read has, and returns it. A bad header
// gives the error the first Read returns: a *ParseError wrapping
// [ErrBadHeader], or an error of the underlying reader.
func (v *VMTReader) Header() (VMTHeader, error) {
	v.start()
	return v.hdr, v.hdrErr
}

func (v *VMTReader) start() {
	if v.started {
		return
	}
	v.started = true
	for v.w < VMTHeaderSize && !v.eof && v.rerr == nil {
		v.fill()
	}
	switch {
	case v.w >= VMTHeaderSize:
		h, err := decodeVMTHeader(v.buf[:VMTHeaderSize])
		if err != nil {
			v.hdrErr = &ParseError{File: v.name, Offset: 0, Err: fmt.Errorf("%w: %w", ErrBadHeader, err)}
			break
		}
		v.hdr = h
		v.r = VMTHeaderSize
		v.off = VMTHeaderSize
	case v.rerr != nil:
		v.hdrErr = v.rerr
	default:
		v.hdrErr = &ParseError{File: v.name, Offset: int64(v.w), Err: fmt.Errorf("%w: %w: %d bytes, expected %d", ErrBadHeader, ErrTruncated, v.w, VMTHeaderSize)}
	}
	v.err = v.hdrErr
}

// fill reads more input after the unread bytes.
func (v *VMTReader) fill() {
	if v.r > 0 {
		v.w = copy(v.buf, v.buf[v.r:v.w])
		v.r = 0
	}
	n, err := v.src.Read(v.buf[v.w:])
	v.w += n
	switch {
	case err == io.EOF:
		v.eof = true
	case err != nil:
		v.rerr = err
	}
}

// Read implements [Reader]. A trace that ends inside a record, or with
// fewer or more accesses than its header's count, gives a *ParseError
// wrapping [ErrTruncated] (more: [ErrBadRecord]), at the record's offset.
func (v *VMTReader) Read(out []Access) (int, error) { return v.read(out, false) }

// Count implements [Counter]: the header's count of accesses, if it has one.
func (v *VMTReader) Count() (uint64, bool) {
	v.start()
	return v.hdr.Count, v.hdrErr == nil && v.hdr.CountKnown()
}

// Dense implements [DenseReader]: it reads the header and reports whether
// the trace holds dense ids.
func (v *VMTReader) Dense() (bool, error) {
	v.start()
	return v.hdr.Dense(), v.hdrErr
}

// Pages implements [DenseReader]: the page number of each dense id given so
// far, a view of the reader's table (do not modify it); nil after IDsOnly.
func (v *VMTReader) Pages() []arch.PageNum { return v.table }

// IDsOnly tells the reader that ReadDense is all it will be asked from now
// on: it stops keeping the table of page numbers (8 bytes per distinct
// page), which only Read and Pages need. A replay that streams a dense
// trace never asks for page numbers. Read of a dense trace fails after it.
func (v *VMTReader) IDsOnly() {
	v.idsOnly = true
	v.table = nil
}

// ReadDense implements [DenseReader]: Read with each access's dense id in
// Page. It is only valid on a dense trace.
func (v *VMTReader) ReadDense(out []Access) (int, error) {
	v.start()
	if v.hdrErr == nil && !v.hdr.Dense() {
		return 0, fmt.Errorf("%s: ReadDense on a vmt trace without the dense flag", v.name)
	}
	return v.read(out, true)
}

func (v *VMTReader) read(out []Access, ids bool) (int, error) {
	v.start()
	n := 0
	for n < len(out) && v.err == nil {
		if v.w-v.r < 16 && !v.eof && v.rerr == nil {
			v.fill()
			continue
		}
		words := (v.w - v.r) >> 3
		if words == 0 {
			v.err = v.end()
			break
		}
		if v.hdr.CountKnown() && v.n == v.hdr.Count {
			v.err = v.perr(v.off, ErrBadRecord, fmt.Sprintf("expected the end of the trace after the header's count of %d accesses", v.hdr.Count))
			break
		}
		k := min(words, len(out)-n)
		if v.hdr.CountKnown() {
			k = int(min(uint64(k), v.hdr.Count-v.n))
		}
		if v.idsOnly && !ids && v.hdr.Dense() {
			v.err = fmt.Errorf("%s: Read of a dense vmt trace after IDsOnly: only ReadDense can go on", v.name)
			break
		}
		var d int
		switch {
		case !v.hdr.Dense():
			d = decodeVMT(out[n:n+k], v.buf[v.r:v.r+8*k])
		case ids:
			d = decodeVMTIDs(out[n:n+k], v.buf[v.r:v.r+8*k], v.ids)
		default:
			d = decodeVMTDense(out[n:n+k], v.buf[v.r:v.r+8*k], v.table)
		}
		n += d
		v.n += uint64(d)
		v.r += 8 * d
		v.off += int64(8 * d)
		if d == k {
			continue
		}
		// An escape or new-page word, or (dense) an id not given yet.
		if w := binary.LittleEndian.Uint64(v.buf[v.r:]); v.hdr.Dense() && w < vmtNew {
			v.err = v.perr(v.off, ErrBadRecord, fmt.Sprintf("expected an id below %d (the pages seen so far), got %d", v.ids, w>>1))
			break
		}
		if v.w-v.r < 16 {
			if !v.eof && v.rerr == nil {
				continue // fill, then decode the escape
			}
			if v.rerr != nil {
				v.err = v.rerr
				break
			}
			v.err = v.perr(v.off, ErrTruncated, "expected a page word after the escape word")
			break
		}
		w := binary.LittleEndian.Uint64(v.buf[v.r:])
		page := binary.LittleEndian.Uint64(v.buf[v.r+8:])
		switch {
		case v.hdr.Dense() && w&^1 == vmtNew:
			if !v.idsOnly {
				v.table = append(v.table, arch.PageNum(page))
			}
			v.ids++
			if ids {
				page = v.ids - 1
			}
		case v.hdr.Dense():
			v.err = v.perr(v.off, ErrBadRecord, fmt.Sprintf("expected an id or a new page in a dense trace, got the word %#x", w))
		case page < escapePage:
			v.err = v.perr(v.off, ErrBadRecord, fmt.Sprintf("expected an escaped page of at least %#x, got %#x", uint64(escapePage), page))
		}
		if v.err != nil {
			break
		}
		out[n] = Access{Page: arch.PageNum(page), Write: w&1 != 0}
		n++
		v.n++
		v.r += 16
		v.off += 16
	}
	return finish(n, v.err)
}

// end returns the error of the end of input: io.EOF, a read error, or a
// truncation.
func (v *VMTReader) end() error {
	switch {
	case v.rerr != nil:
		return v.rerr
	case v.r < v.w:
		return v.perr(v.off, ErrTruncated, fmt.Sprintf("expected an 8-byte record, got %d bytes", v.w-v.r))
	case v.hdr.CountKnown() && v.n < v.hdr.Count:
		return v.perr(v.off, ErrTruncated, fmt.Sprintf("expected %d accesses (the header's count), got %d", v.hdr.Count, v.n))
	}
	return io.EOF
}

func (v *VMTReader) perr(off int64, sentinel error, what string) error {
	return &ParseError{File: v.name, Offset: off, Err: fmt.Errorf("%w: %s", sentinel, what)}
}

// decodeVMT decodes words of src into dst, len(src) == 8*len(dst), and
// stops before the first escape word. It returns how many it decoded.
func decodeVMT(dst []Access, src []byte) int {
	for i := range dst {
		w := binary.LittleEndian.Uint64(src)
		if w >= vmtEscape {
			return i
		}
		dst[i] = Access{Page: arch.PageNum(w >> 1), Write: w&1 != 0}
		src = src[8:]
	}
	return len(dst)
}

// decodeVMTDense decodes the words of a dense trace, ids looked up in
// table, and stops before the first new-page word or unknown id.
func decodeVMTDense(dst []Access, src []byte, table []arch.PageNum) int {
	for i := range dst {
		w := binary.LittleEndian.Uint64(src[8*i:])
		id := w >> 1
		if id >= uint64(len(table)) {
			return i
		}
		dst[i] = Access{Page: table[id], Write: w&1 != 0}
	}
	return len(dst)
}

// decodeVMTIDs is decodeVMTDense that returns the ids themselves: seen is
// the number of ids given so far.
func decodeVMTIDs(dst []Access, src []byte, seen uint64) int {
	for i := range dst {
		w := binary.LittleEndian.Uint64(src[8*i:])
		if w>>1 >= seen {
			return i
		}
		dst[i] = Access{Page: arch.PageNum(w >> 1), Write: w&1 != 0}
	}
	return len(dst)
}

// VMTWriter writes the vmt format.
type VMTWriter struct {
	w      io.Writer
	hdr    VMTHeader
	buf    []byte
	n      uint64
	ids    *Dense
	err    error // the first write error, sticky
	header bool  // the header is in buf or written
	// patch, if not nil, takes the final header at offset 0 on Close when
	// the count was not known in advance.
	patch io.WriterAt
}

// NewVMTWriter returns a writer of the vmt format to w, dense (see the
// format). nil options mean the defaults. If opts.Count is 0 and w is an
// [*AtomicFile] that is still empty, Close writes the count into the header;
// otherwise the header says the count is unknown. Call Close at the end.
func NewVMTWriter(w io.Writer, opts *WriterOptions) (*VMTWriter, error) {
	if opts == nil {
		opts = &WriterOptions{}
	}
	ps, err := checkPageSize(opts.PageSize)
	if err != nil {
		return nil, err
	}
	v := &VMTWriter{w: w, hdr: VMTHeader{Version: VMTVersion, Flags: VMTFlagDense, PageSize: ps}, buf: make([]byte, 0, 64<<10), ids: NewDense()}
	if opts.Count > 0 {
		v.hdr.Flags |= VMTFlagCount
		v.hdr.Count = opts.Count
	} else if f, ok := w.(*AtomicFile); ok && f.written == 0 {
		v.patch = f
	}
	return v, nil
}

// Write implements [Writer].
func (v *VMTWriter) Write(as []Access) error {
	if !v.header {
		v.header = true
		v.buf = append(v.buf, v.hdr.encode()...)
	}
	for _, a := range as {
		var wb uint64
		if a.Write {
			wb = 1
		}
		if id, added := v.ids.ID(a.Page); added {
			v.buf = binary.LittleEndian.AppendUint64(v.buf, vmtNew|wb)
			v.buf = binary.LittleEndian.AppendUint64(v.buf, uint64(a.Page))
		} else {
			v.buf = binary.LittleEndian.AppendUint64(v.buf, uint64(id)<<1|wb)
		}
		if len(v.buf) > cap(v.buf)-16 {
			if err := v.flush(); err != nil {
				return err
			}
		}
	}
	v.n += uint64(len(as))
	return nil
}

// flush writes the buffer. Its error is sticky: a writer that lost bytes
// must not go on as if the file were whole.
func (v *VMTWriter) flush() error {
	if v.err != nil {
		return v.err
	}
	_, v.err = v.w.Write(v.buf)
	v.buf = v.buf[:0]
	return v.err
}

// Close implements [Writer]. If the writer was told a count, writing
// another number of accesses is an error.
func (v *VMTWriter) Close() error {
	if err := v.Write(nil); err != nil {
		return err
	}
	if err := v.flush(); err != nil {
		return err
	}
	if v.hdr.CountKnown() && v.n != v.hdr.Count {
		return fmt.Errorf("vmt: wrote %d accesses, but the header says %d", v.n, v.hdr.Count)
	}
	if v.patch != nil {
		h := v.hdr
		h.Flags, h.Count = h.Flags|VMTFlagCount, v.n
		if _, err := v.patch.WriteAt(h.encode(), 0); err != nil {
			return fmt.Errorf("vmt: writing the count into the header: %w", err)
		}
	}
	return nil
}
