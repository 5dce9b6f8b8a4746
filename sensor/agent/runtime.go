package agent

import (
	"fmt"
	"os"
	"strings"
	"syscall"
)

// RuntimeGODEBUG is the Go runtime setting the sensor runs with: freed heap
// pages go back to the kernel with MADV_FREE instead of MADV_DONTNEED. The
// shipper's encoders free and reuse megabytes a second, and a page handed back
// with MADV_DONTNEED faults again when it is reused (see "What the sensor
// costs" in docs/sensor.md). The kernel still takes MADV_FREE pages back when
// memory is short, the systemd unit's MemoryMax included.
const RuntimeGODEBUG = "madvdontneed=0"

// WithRuntimeSettings re-executes the running program (same arguments, same
// pid) with RuntimeGODEBUG added to GODEBUG, which the Go runtime reads only at
// start, unless GODEBUG already says how to free pages. It returns nil without
// re-executing in that case; otherwise it returns only if it could not
// re-execute, with the reason, and the program goes on as it is.
func WithRuntimeSettings() error {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "madvdontneed=") {
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("sensor: set GODEBUG=%s: %w", RuntimeGODEBUG, err)
	}
	if godebug != "" {
		godebug += ","
	}
	env := make([]string, 0, len(os.Environ())+1)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GODEBUG="+godebug+RuntimeGODEBUG)
	if err := syscall.Exec(self, os.Args, env); err != nil {
		return fmt.Errorf("sensor: set GODEBUG=%s: re-execute %s: %w", RuntimeGODEBUG, self, err)
	}
	return nil
}
