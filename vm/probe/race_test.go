//go:build race

package probe

// raceEnabled: the race detector faults on its own shadow memory at any
// moment, so a count of a thread's faults over a window can gain a few.
const raceEnabled = true
