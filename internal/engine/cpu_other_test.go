//go:build !linux

package engine

import "time"

// threadCPU is unknown here: benchmarks report no events/cpu-s.
func threadCPU() time.Duration { return 0 }
