package testcheck

import (
	"syscall"
	"time"
)

// ProcessCPU is the CPU time (user and system) the process has used, its
// garbage collector's included; 0 where the system cannot tell. On a shared,
// loaded machine work per CPU second is steadier than work per wall second.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
