// Package bpf holds the sensor's eBPF program for process activity and its
// bpf2go-generated Go bindings.
//
// process.bpf.c attaches two BTF-enabled raw tracepoints, sched_process_exec and
// sched_process_exit, and writes one record per exec and per process exit into the
// `events` ring buffer; records that do not fit are counted per CPU in the `drops`
// array. It is compiled once with CO-RE (vmlinux.h is a trimmed set of kernel types
// marked preserve_access_index), so the committed process_bpfel.o loads on any
// little-endian kernel with BTF (/sys/kernel/btf/vmlinux), kernel 5.8 or newer.
//
// The record layout (ProcessEventHdr, ProcessExecEvent, ProcessExitEvent) is decoded
// by sensor/collector. Regenerate with:
//
//	go generate ./sensor/bpf/...
//
// which runs `go tool bpf2go` with clang-14; process_bpfel.go and process_bpfel.o are
// generated files and are committed so `go build` needs no C toolchain.
package bpf
