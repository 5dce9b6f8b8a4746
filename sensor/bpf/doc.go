// Package bpf holds the sensor's eBPF program and its bpf2go-generated Go
// bindings.
//
// sensor.bpf.c uses BTF raw tracepoints (tp_btf) and syscall tracepoints, no
// trampolines: they load where the kernel refuses fentry/fexit and BPF LSM
// programs (EPERM on some hardened or virtualised kernels):
//
//	sched_process_exec, sched_process_exit   NEW_PROCESS, TERMINATE_PROCESS (handle_exit_group
//	                                          where the exit tracepoint passes group_dead,
//	                                          else handle_exit)
//	syscalls:sys_exit_<name> (sys_exit_one)   file opens and changes, connect, accept,
//	                                          UDP sends and DNS queries, set*id/capset,
//	                                          ptrace, listen (x86-64 syscall numbers and registers),
//	                                          attached once per syscall handled
//	raw_syscalls:sys_exit (sys_exit)          the same, for every syscall: the fallback
//	                                          where syscall tracepoints cannot be attached
//	inet_sock_set_state                       the outcome of TCP connects
//	sock_send_length                          DNS queries written on sockets connected to
//	                                          port 53, and over TCP (dns_stream.h)
//	io_uring_submit_req, io_uring_complete    file opens, deletes, renames, accepts, UDP
//	                                          connects and sends made through io_uring, where
//	                                          io_uring_complete passes a struct
//	                                          io_uring_cqe
//	module_load                               MODULE_LOAD, where the kernel has modules
//
// The syscall exits also report NAMESPACE_CHANGE (namespaces.h), MOUNT and
// UNMOUNT (mounts.h), BPF_LOAD (bpf_load.h), MEMFD_CREATE (memfd.h),
// USERFAULTFD (userfaultfd.h), SOCKET_CREATE and FD_DUP (sockets.h, with
// IORING_OP_SOCKET and IORING_OP_FIXED_FD_INSTALL at io_uring_complete): one
// header per concern, included by sensor.bpf.c, each with its record types and
// kinds.
//
// Every record goes into the `events` ring buffer; records that do not fit are
// counted per CPU in `counters`, with the file events filtered out and matched.
// File paths are built in the kernel by walking the dentry chain up through the
// mounts (with bpf_loop, the file found through the task's descriptor table at
// the syscall's exit) and looked up in the `file_prefixes` LPM trie, which user
// space fills, so unwatched opens never reach user space. Compiled once with
// CO-RE (vmlinux.h is a trimmed set of kernel types marked preserve_access_index),
// the committed sensor_bpfel.o loads on little-endian kernels 6.2 or newer with BTF
// (bpf_loop, bpf_rdonly_cast).
//
// The record layouts (SensorEventHdr, SensorFileEvent, SensorNetEvent, ...) are
// decoded by sensor/collector. Regenerate with:
//
//	go generate ./sensor/bpf/...
//
// which runs `go tool bpf2go` with clang-14; sensor_bpfel.go and sensor_bpfel.o are
// generated files and are committed so `go build` needs no C toolchain.
package bpf
