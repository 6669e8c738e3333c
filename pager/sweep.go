package pager

import (
	"runtime"
	"sync"
)

// Sweep runs every configuration on every trace, in simulation, on up to
// workers goroutines (0 means one per CPU). Results come in the order
// trace by trace, then configuration by configuration. Next uses are
// computed once per trace, before the workers start, if a configuration
// needs them.
func Sweep(traces []*Trace, cfgs []Config, workers int) ([]Result, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, cfg := range cfgs {
		pol, err := NewPolicy(cfg.Policy, cfg.Options)
		if err != nil {
			return nil, err
		}
		if nn, ok := pol.(NeedsNext); ok && nn.NeedsNext() {
			for _, t := range traces {
				t.ComputeNext()
			}
		}
	}
	results := make([]Result, len(traces)*len(cfgs))
	errs := make([]error, len(results))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(results)) {
		wg.Go(func() {
			for j := range jobs {
				t, cfg := traces[j/len(cfgs)], cfgs[j%len(cfgs)]
				results[j], errs[j] = Run(t, cfg, nil)
			}
		})
	}
	for j := range results {
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return results, nil
}
