package vm

import (
	"fmt"
	"sync"
)

// MapHeadroom is the number of memory areas vm leaves free below
// vm.max_map_count for the rest of the process (the Go runtime's heap,
// thread stacks, other mappings). A change that would eat into it is refused
// with ErrMapLimit before the kernel is asked.
const MapHeadroom = 2048

// maps accounts the memory areas that regions occupy, process-wide, so that
// regions never push the process to vm.max_map_count. Reading /proc/self/maps
// on every mprotect would cost more than the mprotect: the count of other
// mappings is read when a region is created and again only when the budget
// looks exhausted.
var maps mapBudget

type mapBudget struct {
	mu sync.Mutex
	// limit is vm.max_map_count; zero until first read.
	limit int
	// others is the number of areas that are not regions', as last read.
	others int
	// regions is the number of areas regions occupy now.
	regions int
}

// refreshLocked rereads the limit and the areas of the rest of the process.
func (b *mapBudget) refreshLocked() error {
	limit, err := MapLimit()
	if err != nil {
		return err
	}
	count, err := MapCount()
	if err != nil {
		return err
	}
	b.limit, b.others = limit, max(count-b.regions, 0)
	return nil
}

// room returns how many more areas regions may take.
func (b *mapBudget) roomLocked() int { return b.limit - MapHeadroom - b.others - b.regions }

// reserve takes delta areas from the budget, or fails with ErrMapLimit.
// A negative or zero delta always succeeds (it is released by the caller
// once done).
func (b *mapBudget) reserve(delta int) error {
	if delta <= 0 {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.limit == 0 || b.roomLocked() < delta {
		if err := b.refreshLocked(); err != nil {
			// Without /proc the budget cannot be kept: let the kernel
			// decide.
			b.regions += delta
			return nil
		}
		if b.roomLocked() < delta {
			return &mapLimitError{errno: fmt.Errorf("%d more memory areas needed, %d left after keeping %d for the rest of the process", delta, max(b.roomLocked(), 0), MapHeadroom), count: b.others + b.regions, limit: b.limit}
		}
	}
	b.regions += delta
	return nil
}

// release gives delta areas back.
func (b *mapBudget) release(delta int) {
	if delta <= 0 {
		return
	}
	b.mu.Lock()
	b.regions -= delta
	b.mu.Unlock()
}

// MapRoom returns how many more memory areas regions may take before vm
// refuses with ErrMapLimit: a caller that splits a region page by page (a
// pager with a frame budget) sizes its budget from it.
func MapRoom() (int, error) {
	maps.mu.Lock()
	defer maps.mu.Unlock()
	if err := maps.refreshLocked(); err != nil {
		return 0, err
	}
	return max(maps.roomLocked(), 0), nil
}

func (r *Region) altMaps() int {
	if r.alt != nil {
		return 1
	}
	return 0
}
