package pager

import "unsafe"

// uint32s views ids as the []uint32 that [traces.Dense.IDs] fills: PageID
// is a uint32, so the two share a layout, and numbering a batch in place
// saves a copy of every id.
func uint32s(ids []PageID) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.SliceData(ids)), len(ids))
}
