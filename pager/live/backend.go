package live

import (
	"errors"

	"vmsim/pager"
	"vmsim/vm/arch"
)

// mechanism carries the core's decisions out on the region. Its methods run
// with Pager.mu held.
type mechanism interface {
	pager.Backend
	// clean saves resident dirty page p to the store and leaves it
	// resident, clean and write-protected; on failure the page stays dirty
	// and writable.
	clean(p arch.PageNum) error
}

// backend is the Mprotect and Remap mechanism: per-page protections of a
// memfd mapped twice, fills and saves through the second view.
type backend Pager

func grant(write bool) arch.Prot {
	if write {
		return arch.ProtReadWrite
	}
	return arch.ProtRead
}

// revoke takes all access to page p away from the program's view.
func (b *backend) revoke(p arch.PageNum) error {
	if b.mech == Remap {
		return b.region.Reserve(p, 1)
	}
	return b.region.Protect(p, 1, arch.ProtNone)
}

// allow grants prot on page p of the program's view.
func (b *backend) allow(p arch.PageNum, prot arch.Prot) error {
	if b.mech == Remap {
		return b.region.Remap(p, 1, prot)
	}
	return b.region.Protect(p, 1, prot)
}

// Evict revokes access, saves the page through the second view if dirty,
// and releases its memory. On failure the page gets its access back and
// keeps its data.
func (b *backend) Evict(v pager.PageID, dirty bool) error {
	p := arch.PageNum(v)
	if err := b.revoke(p); err != nil {
		return err
	}
	err := b.saveAndDrop(p, dirty)
	if err != nil {
		return errors.Join(err, b.allow(p, grant(dirty)))
	}
	return nil
}

func (b *backend) saveAndDrop(p arch.PageNum, dirty bool) error {
	if dirty {
		buf, err := b.region.AltPage(p)
		if err != nil {
			return err
		}
		if err := b.store.WritePage(p, buf); err != nil {
			return err
		}
	}
	return b.region.Drop(p, 1)
}

// Load fills page p through the second view, then grants access. The frame
// of a page that is not resident is always empty (never touched, or punched
// out by Evict), so a page the store knows to be zero needs no fill.
func (b *backend) Load(id pager.PageID, write bool) error {
	p := arch.PageNum(id)
	if z, ok := b.store.(pager.Zeroer); !ok || !z.IsZero(p) {
		buf, err := b.region.AltPage(p)
		if err != nil {
			return err
		}
		if err := b.store.ReadPage(p, buf); err != nil {
			// Keep the frame empty for the next attempt.
			return errors.Join(err, b.region.Drop(p, 1))
		}
	}
	return b.allow(p, grant(write))
}

// Upgrade grants read-write on a resident clean page.
func (b *backend) Upgrade(id pager.PageID) error {
	return b.region.Protect(arch.PageNum(id), 1, arch.ProtReadWrite)
}

// clean revokes write access, then saves the page through the second view.
func (b *backend) clean(p arch.PageNum) error {
	if err := b.region.Protect(p, 1, arch.ProtRead); err != nil {
		return err
	}
	buf, err := b.region.AltPage(p)
	if err != nil {
		return err
	}
	if err := b.store.WritePage(p, buf); err != nil {
		return errors.Join(err, b.region.Protect(p, 1, arch.ProtReadWrite))
	}
	return nil
}
