// Package kill ends a process (and optionally its descendants) for the sensor's
// kill task, only if it is still the process the task means: a pid can be reused,
// so the task carries the process's start time (/proc/PID/stat field 22, clock
// ticks after boot) and nothing is signalled unless it matches.
//
// Each process is opened as a pidfd first and checked after, so the signal
// cannot reach a process that took the pid over in between. A tree is stopped
// (SIGSTOP) before it is killed, so it cannot fork past the kill, and the
// descendants are collected again after the stop. Every process of the tree is
// then sent SIGKILL, even when one of them refuses it (the error is returned
// with every process's outcome): a refusal leaves no other process stopped.
//
// ParseStat parses /proc/PID/stat, whose comm field the process chooses.
//
// Kill needs Linux (kill_linux.go); on other systems, where the CLI is built
// too, it fails with an error wrapping errors.ErrUnsupported.
package kill
