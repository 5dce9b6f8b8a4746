package engine

import (
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// BenignMix is benignMix for the external tests of the package.
func BenignMix() []event.Event { return benignMix() }

// ThreadCPU is threadCPU for the external benchmarks.
func ThreadCPU() time.Duration { return threadCPU() }
