//go:build !race

package live

// i3Accesses is the size of the I3 workload (DESIGN.md: 10^5 and more).
const i3Accesses = 120_000

// scaleFrames is the frame budget of TestUffdScale: 200,000 resident pages.
const scaleFrames = 200_000

const raceEnabled = false
