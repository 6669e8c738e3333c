//go:build race

package live

// The race detector slows real faults down tenfold: run I3 with fewer
// accesses under it.
const i3Accesses = 20_000
