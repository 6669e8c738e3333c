package check

import (
	"fmt"
	"sort"
)

// KernelCheck is the name of the check that --kernel adds.
const KernelCheck = "the kernel saw every caught fault (--kernel)"

// kernelCheck relates the kernel's own page faults of the first process
// to the faults the program caught: each caught fault must be one of the
// kernel's. The evidence lists the kernel's faults at the pages of the
// caught ones, then the mappings that took the most.
func kernelCheck(r *run) Result {
	res := Result{Check: KernelCheck, Evidence: []string{}}
	if r.kernelErr != nil {
		res.Status, res.Explanation = Warning, "The kernel's page faults could not be read: "+r.kernelErr.Error()
		return res
	}
	caught := r.faults(r.t.PID)
	pages := map[uint64]bool{}
	for _, f := range caught {
		pages[f.Signal.Addr&^(r.ps-1)] = true
	}
	atPages := 0
	shown := map[uint64]int{}
	for _, k := range r.kernel {
		page := k.Addr &^ (r.ps - 1)
		if !pages[page] {
			continue
		}
		atPages++
		if shown[page] < 4 {
			res.Evidence = append(res.Evidence, k.String())
		}
		shown[page]++
	}
	// The mappings that took the most faults, newest mapping first where
	// address ranges were reused.
	ms := mappingsOf(r.t, r.t.PID, len(r.t.Events), false)
	perMap := map[*mapping]int{}
	for _, k := range r.kernel {
		for i := len(ms) - 1; i >= 0; i-- {
			if ms[i].contains(k.Addr) {
				perMap[ms[i]]++
				break
			}
		}
	}
	var top []*mapping
	for m := range perMap {
		top = append(top, m)
	}
	sort.Slice(top, func(i, j int) bool {
		if perMap[top[i]] != perMap[top[j]] {
			return perMap[top[i]] > perMap[top[j]]
		}
		return top[i].ev.Seq < top[j].ev.Seq
	})
	for i, m := range top {
		if i == 3 || perMap[m] < 2 {
			break
		}
		res.Evidence = append(res.Evidence, fmt.Sprintf("kernel: %d page faults in the mapping of %s", perMap[m], line(m.ev)))
	}
	res.Evidence = append(res.Evidence, fmt.Sprintf("kernel: %d page faults in all, %d at the pages of the %d fault(s) caught as signals", len(r.kernel), atPages, len(caught)))
	for page := range pages {
		if shown[page] == 0 {
			res.Status = Failed
			res.Explanation = fmt.Sprintf("A signal came for the page at %#x, but the kernel took no page fault there.", page)
			return res
		}
	}
	res.Status = OK
	res.Explanation = "Every fault the program caught is a page fault the kernel took and turned into a signal. The kernel takes more faults than user space sees: it resolves most alone. The first touch of a page allocates it (after the handler's mprotect, the restarted write faults once more, in the kernel only, to get its page); a mapped file's pages fault in as they are touched."
	return res
}
