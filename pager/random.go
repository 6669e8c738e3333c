package pager

// random evicts a resident page chosen uniformly at random. The generator is
// SplitMix64 (Steele, Lea and Flood, OOPSLA 2014) seeded with Options.Seed,
// and a bound is drawn with Lemire's multiply-and-reject method (ACM TOMACS
// 2019), in integer arithmetic only: the same seed gives the same victims on
// every platform. Resident pages are kept in an array in load order, and the
// victim's slot is filled by the last page (swap-remove), so the array order
// (and the outcome) depends only on the trace and the seed.
type random struct {
	seed  uint64
	state uint64
	pages []PageID // resident pages
	pos   []int32  // index of each resident page in pages
}

func (p *random) Name() string { return "random" }

func (p *random) Reset(frames int, _ PageState) {
	*p = random{seed: p.seed, state: p.seed}
}

func (p *random) Hit(Ref) {}

func (p *random) Insert(r Ref) {
	if int(r.Page) >= len(p.pos) {
		p.pos = growTo(p.pos, max(int(r.Page)+1, 2*len(p.pos), 64), -1)
	}
	p.pos[r.Page] = int32(len(p.pages))
	p.pages = append(p.pages, r.Page)
}

func (p *random) Evict(Ref) PageID {
	v := p.pages[p.bounded(uint64(len(p.pages)))]
	p.take(v)
	return v
}

// Remove takes page id out of the array as an eviction does: the last page
// fills its slot.
func (p *random) Remove(id PageID) { p.take(id) }

// take swap-removes resident page v.
func (p *random) take(v PageID) {
	i := p.pos[v]
	last := p.pages[len(p.pages)-1]
	p.pages[i] = last
	p.pos[last] = i
	p.pages = p.pages[:len(p.pages)-1]
	p.pos[v] = -1
}

func (p *random) next() uint64 {
	p.state += 0x9e3779b97f4a7c15
	z := p.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// bounded returns a uniform integer in [0, n).
func (p *random) bounded(n uint64) uint64 {
	hi, lo := mul64(p.next(), n)
	if lo < n {
		threshold := -n % n
		for lo < threshold {
			hi, lo = mul64(p.next(), n)
		}
	}
	return hi
}
