package check

import (
	"fmt"
)

// KernelCheck is the name of the check that --kernel adds.
const KernelCheck = "the kernel saw every caught fault (--kernel)"

// kernelCheck relates the kernel's own page faults of the first process
// to the faults the program caught.
func kernelCheck(r *run) Result {
	res := Result{Check: KernelCheck, Evidence: []string{}}
	if r.kernelErr != nil {
		res.Status, res.Explanation = Warning, "The kernel's page faults could not be read: "+r.kernelErr.Error()
		return res
	}
	ms := mappingsOf(r.t, r.t.PID, len(r.t.Events), false)
	own := func(a uint64) bool {
		for _, m := range ms {
			if m.contains(a) && (m.anonymous() || r.pathOf(m.ev) != "" && r.pathOf(m.ev)[0] != '/') {
				return true
			}
		}
		return false
	}
	var mine []KernelFault
	for _, k := range r.kernel {
		if own(k.Addr) {
			mine = append(mine, k)
		}
	}
	for i, k := range mine {
		if i == 6 {
			res.Evidence = append(res.Evidence, fmt.Sprintf("... and %d more", len(mine)-6))
			break
		}
		res.Evidence = append(res.Evidence, k.String())
	}
	caught := r.faults(r.t.PID)
	res.Evidence = append(res.Evidence, fmt.Sprintf("%d kernel page faults in the program's own mappings (%d in all), %d of them caught as signals", len(mine), len(r.kernel), len(caught)))
	for _, f := range caught {
		page := f.Signal.Addr &^ (r.ps - 1)
		seen := false
		for _, k := range mine {
			if k.Addr&^(r.ps-1) == page {
				seen = true
			}
		}
		if !seen {
			res.Status = Failed
			res.Explanation = fmt.Sprintf("The signal at %#x has no page fault of the kernel behind it.", f.Signal.Addr)
			return res
		}
	}
	res.Status = OK
	res.Explanation = "Every fault the program caught is a page fault the kernel took and turned into a signal. The kernel also takes faults it resolves alone, which user space never sees: the first touch of a page allocates it (after the handler's mprotect, the restarted write faults once more, in the kernel only, to get its page)."
	return res
}
