package bpf

// Regenerate the Go bindings and the compiled object with `go generate ./sensor/bpf/...`
// (or `make generate`). It needs clang-14 and llvm-strip; the output is committed so
// that building the sensor needs neither.
//
//go:generate go tool bpf2go -cc clang-14 -cflags "-O2 -g -Wall -Werror" -target bpfel -type event_hdr -type exec_event -type exit_event -type file_event -type net_event -type dns_event -type module_event -type priv_event -type ptrace_event -type prefix_key -type prefix_val -type dir_verdict -type event_kind -type counter -type priv_op -type exec_flag -type udp_peer_key -type ns_event -type ns_op -type ns_kind -type mount_event -type mount_op -type mount_kind -type bpf_load_event -type bpf_load_kind -type memfd_event -type memfd_kind -type userfaultfd_event -type userfaultfd_kind -type kernel_log_event -type kernel_log_kind -type listen_event -type exec_context -type exec_context_flag -type file_op_kind -type link_type -type socket_event -type fd_dup_event -type socket_kind -type dup_op Sensor sensor.bpf.c
