package live

import (
	"errors"

	"vmsim/pager"
	"vmsim/vm/arch"
)

// uffdBackend is the Uffd mechanism: anonymous memory registered with
// userfaultfd. A resident page is write-protected while clean and writable
// once dirty; a page that is not resident is missing (its memory released),
// so touching it raises SIGBUS. Nothing changes a memory area.
//
// There is no second view: a page is saved from the program's view, after
// write protection has made sure no thread can change it any more (reads
// may go on: they see the data being saved).
type uffdBackend struct {
	*Pager
	// buf holds a page read from the store on its way in; zero is a page of
	// zeros for pages the store knows are zero. Both are used under mu.
	buf, zero []byte
}

func newUffdBackend(lp *Pager) *uffdBackend {
	ps := int(lp.region.PageSize())
	return &uffdBackend{Pager: lp, buf: make([]byte, ps), zero: make([]byte, ps)}
}

// Evict write-protects a dirty page and saves it, then releases the page's
// memory (MADV_DONTNEED), which makes it missing. A clean page is already
// write-protected. On failure the page stays resident, with its data and
// its access.
func (b *uffdBackend) Evict(v pager.PageID, dirty bool) error {
	p := arch.PageNum(v)
	if dirty {
		if err := b.clean(p); err != nil {
			return err
		}
	}
	if err := b.region.Drop(p, 1); err != nil {
		if dirty {
			// Still resident and, for the core, dirty: writable again.
			return errors.Join(err, b.region.WriteProtect(p, 1, false))
		}
		return err
	}
	return nil
}

// Load fills missing page p in one step (UFFDIO_COPY): write-protected for a
// read, writable for a write (the page loads dirty). A page the store knows
// to be zero is filled from a page of zeros without asking the store.
func (b *uffdBackend) Load(id pager.PageID, write bool) error {
	p := arch.PageNum(id)
	src := b.zero
	if z, ok := b.store.(pager.Zeroer); !ok || !z.IsZero(p) {
		if err := b.store.ReadPage(p, b.buf); err != nil {
			return err // nothing was installed: the page is still missing
		}
		src = b.buf
	}
	return b.region.Fill(p, src, grant(write))
}

// Upgrade lifts the write protection of a clean resident page.
func (b *uffdBackend) Upgrade(id pager.PageID) error {
	return b.region.WriteProtect(arch.PageNum(id), 1, false)
}

// clean write-protects page p, then saves it from the program's view.
func (b *uffdBackend) clean(p arch.PageNum) error {
	if err := b.region.WriteProtect(p, 1, true); err != nil {
		return err
	}
	page, err := b.region.Page(p)
	if err != nil {
		return errors.Join(err, b.region.WriteProtect(p, 1, false))
	}
	if err := b.store.WritePage(p, page); err != nil {
		return errors.Join(err, b.region.WriteProtect(p, 1, false))
	}
	return nil
}
