package main

import (
	"context"
	"sync"
)

// runJobs calls do(i) for each i in [0, n), in order of i, on up to
// workers goroutines, and hands out no more jobs once ctx is done: it then
// returns ctx's error, after the jobs under way have ended.
func runJobs(ctx context.Context, n, workers int, do func(i int)) error {
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range jobs {
				do(i)
			}
		})
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return ctx.Err()
}
