//go:build race

package live

// The race detector slows real faults down tenfold: run I3 with fewer
// accesses under it.
const i3Accesses = 20_000

// scaleFrames is the frame budget of TestUffdScale, a tenth under the race
// detector.
const scaleFrames = 20_000

const raceEnabled = true
