// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
//
// A program that does nothing, for the syscalls:sys_exit_<name> tracepoints
// of the opens, where the sensor attaches sys_exit_one (sensor.bpf.c):
// BenchmarkSensorOpenStorm (storm_linux_test.go) runs its storm with it
// attached between the runs without and with the sensor, so that what any
// program at those tracepoints costs (the floor the sensor's open filter is
// measured against) is measured in the same run.
//
// Build: `make generate` (clang-14, in storm_linux_test.go); empty_hook.o is
// committed.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("tracepoint/syscalls/sys_exit_one")
int empty_exit(void *ctx)
{
	return 0;
}
