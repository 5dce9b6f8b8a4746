//go:build race

package engine

// raceEnabled: the race detector makes sync.Pool drop items, so pooled buffers (ours
// and regexp's) allocate.
const raceEnabled = true
