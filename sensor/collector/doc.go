// Package collector turns the kernel's activity into Vigil events: NEW_PROCESS,
// TERMINATE_PROCESS, FILE_OPEN, FILE_DELETE, FILE_RENAME, FILE_CHMOD,
// NETWORK_CONNECT, NETWORK_ACCEPT, DNS_REQUEST, MODULE_LOAD, PRIVILEGE_CHANGE,
// PTRACE, NETWORK_LISTEN, FILE_LINK, DIR_CREATE, DIR_DELETE, FILE_MKNOD,
// FILE_CHOWN, FILE_TRUNCATE, SOCKET_CREATE and FD_DUP (and the system events
// below).
//
// It loads the CO-RE eBPF program from sensor/bpf (see there for the hooks),
// reads the ring buffer and decodes each record into an event.Event:
//
//	if err := collector.Supported(); err != nil {
//		log.Fatalf("process capture unavailable: %v", err) // says why: not root, no BTF, ...
//	}
//	c, err := collector.New(collector.Options{Enricher: enricher})
//	...
//	defer c.Close()
//	err = c.Run(ctx, func(ev *event.Event) { ship(ev) })
//
// The decoder reads the fixed part of a record straight from the ring buffer's
// bytes into a reused struct; only the strings (path, command line) allocate,
// and an exec's strings and lists (executable, command line, arguments,
// working directory, terminal, environment) are taken from a table of those of
// earlier execs when they repeat them (intern.go): events share them, so they
// are read-only. The *event.Event passed to emit is reused for the next
// record: copy it to keep it.
//
// Each event gets a fresh ULID (event.NewID) of its time as routing/event_id.
//
// Kernel timestamps (CLOCK_BOOTTIME) become wall-clock nanoseconds with an offset
// that is re-measured at most once a second of event time, so a stepped wall clock
// is followed. Exit codes follow the shell's convention with signals negated: a
// normal exit gives its status (0–255), death by signal N gives -N.
//
// What each event carries:
//   - NEW_PROCESS: FILE_PATH is the program's path as exec was given it; a
//     program run through a descriptor (fexecve, execveat, /proc/<pid>/fd/N,
//     /dev/fd/N) is named by its file instead, as /proc/<pid>/exe names it:
//     "/memfd:<name> (deleted)" for an anonymous in-memory file, the path and
//     " (deleted)" for a file unlinked before it was run.
//   - FILE_OPEN: successful opens of regular files (directories, devices, pipes
//     and sockets are left out). FILE_FLAGS: read / write from the file's mode,
//     create when this open created the file, truncate when O_TRUNC was given on
//     a writable open. TARGET/FILE_PATH is absolute, as the opening process sees it
//     from the mount tree's root; a path longer than 1,023 bytes, or of 64
//     components and mounts or more, is cut to its end after "..." (for
//     example ".../deep/dir/file") and reported whatever its prefix, which the
//     filter cannot see. Opens made through io_uring (IORING_OP_OPENAT,
//     OPENAT2) are reported as the syscalls' are, from the io_uring_complete
//     tracepoint, whichever thread of the process ran them (the submitter, an
//     io-wq worker, the SQ polling thread), into a descriptor or into the ring's
//     own table of files (a direct descriptor; kernels from 6.13, whose table
//     the hook reads). Kernels whose io_uring_complete
//     passes the completion's fields one by one, not as a struct io_uring_cqe,
//     leave io_uring out (see Unavailable). A request submitted with
//     IOSQE_CQE_SKIP_SUCCESS posts no completion when it succeeds and is not
//     seen. RAW_PATH is the path the process passed to open, openat, openat2
//     or creat, as passed, when it holds ".." (a "../" traversal); empty
//     otherwise, and for opens through io_uring or by handle.
//   - FILE_DELETE (unlink, not rmdir), FILE_RENAME (TARGET/OLD_FILE_PATH → new),
//     FILE_CHMOD (FILE_MODE with setuid/setgid/sticky bits): successful calls only;
//     a relative name is made absolute against the directory descriptor or the
//     working directory, and "." / ".." are resolved lexically (a symlink inside
//     the given path is not followed). A path longer than 1,023 bytes (a name
//     padded with "./" to hide it from the filter, say) is cut there, ends in
//     "..." and is reported whatever its prefix. Deletes and renames made
//     through io_uring (IORING_OP_UNLINKAT, RENAMEAT) are reported alike: their
//     paths are read when the request is submitted (io_uring_submit_req) and the
//     record is sent when it completes successfully; the prefix filter counts
//     them at submission.
//   - FILE_LINK (hard: LINK_TARGET the existing file; symbolic: the target as
//     given), DIR_CREATE and DIR_DELETE (mkdir, rmdir, unlinkat with
//     AT_REMOVEDIR), FILE_MKNOD, FILE_CHOWN and FILE_TRUNCATE: successful calls
//     only, paths built and filtered as a delete's (record_file_ops.go); made
//     through io_uring (IORING_OP_MKDIRAT, LINKAT, SYMLINKAT, UNLINKAT,
//     FTRUNCATE) alike. An io_uring operation whose request type the kernel's
//     BTF lacks is listed by Unavailable.
//   - File events are filtered in the kernel by Options.FilePrefixes (default
//     DefaultFilePrefixes, and the home directories' HomeFilePrefixes) minus
//     FileExcludes, plus FileChangePrefixes (default DefaultFileChangePrefixes),
//     whose reads are not reported; a path with "/." or "//" in a file change
//     goes to user space, which cleans it and filters again.
//   - NETWORK_CONNECT tcp: reported when the handshake ends (ERROR_CODE 0 when
//     established, else the socket's error: ECONNREFUSED, ETIMEDOUT...; a
//     connect that fails before sending its SYN gives the syscall's errno);
//     SOURCE is the local end. udp: connect() with its result, and on an
//     unconnected socket the first datagram sent to each destination (sendto,
//     sendmsg, sendmmsg), ERROR_CODE 0. Connects and sends made through io_uring
//     (IORING_OP_CONNECT; SENDMSG, SEND and their zero-copy forms) are reported
//     alike: a TCP connect by its handshake, the rest when the request
//     completes (a send whose destination is in the SQE, IORING_OP_SEND with
//     addr2, by the kernel's copy of it kept at submission).
//   - NETWORK_ACCEPT: accepted TCP connections, by accept(2) or through io_uring
//     (IORING_OP_ACCEPT, each connection of a multishot accept, into a
//     descriptor or the ring's table of files); SOURCE is the peer, DESTINATION the local
//     listener. UDP has no accept and gives none.
//   - DNS_REQUEST: the first question of every UDP datagram to port 53 sent with
//     sendto/sendmsg/sendmmsg or through io_uring (glibc, musl, most resolvers),
//     or written with write/writev on a socket connected to port 53 (Go's
//     resolver); and of TCP queries to port 53 written or sent on the socket,
//     each after its 2-byte length (see docs/sensor.md for the limits).
//     DESTINATION is the resolver.
//   - PRIVILEGE_CHANGE: every successful setuid, setgid, setreuid, setregid,
//     setresuid, setresgid, setfsuid, setfsgid and capset; NEW_USER_ID and
//     NEW_GROUP_ID are the effective ids after the call, OPERATION the syscall;
//     USER_ID, GROUP_ID and the effective user id are the caller's before the
//     call (kept at the call's entry; with the catch-all syscall hook, see
//     SyscallHook, they are the ids after it).
//   - PTRACE: successful PTRACE_ATTACH and PTRACE_SEIZE, the first successful
//     write (POKE*, SET*REGS*) and read (PEEK*) of each tracee by each tracer,
//     and every PTRACE_TRACEME with its ERROR_CODE; TARGET/PROCESS_ID is the pid
//     argument (the caller for PTRACE_TRACEME), PTRACE_REQUEST_NAME the
//     request's name as Falco gives it.
//   - NETWORK_LISTEN: successful listen(2) on TCP, Multipath TCP and SCTP
//     sockets; DESTINATION is the address and port bound, read from the
//     socket, BACKLOG the kernel's backlog.
//   - MODULE_LOAD: the module_load tracepoint; absent on kernels without module
//     support (see Unavailable).
//   - NAMESPACE_CHANGE, MOUNT, UNMOUNT, BPF_LOAD, MEMFD_CREATE, USERFAULTFD:
//     setns, unshare, clone/clone3 with CLONE_NEW*, mount, move_mount, umount2,
//     bpf(BPF_PROG_LOAD) by processes other than the sensor's own,
//     memfd_create and userfaultfd that succeeded (record_namespaces.go,
//     record_mounts.go, record_bpf.go, record_memfd.go, record_userfaultfd.go).
//   - SOCKET_CREATE: packet sockets and raw IP sockets made by socket(2) or
//     IORING_OP_SOCKET; FD_DUP: TCP, UDP and Unix sockets duplicated onto
//     descriptor 0, 1 or 2 by dup, dup2, dup3, fcntl(F_DUPFD*) or
//     IORING_OP_FIXED_FD_INSTALL, with the socket's ends as a NETWORK_CONNECT's
//     (record_sockets.go). The kernel filters out every other socket and dup.
//   - Hooks a kernel lacks leave capabilities missing (see Missing and
//     Capabilities); Options.Disable leaves hooks out as such a kernel would.
//   - Every event has EFFECTIVE_USER_ID and CGROUP_ID from the kernel; the
//     Enricher adds the rest (process tree, user, container).
//
// Syscall exits are hooked at the syscalls:sys_exit_<name> tracepoint of each
// syscall the program handles, so that the program does not run for the hundred
// or so other syscalls a process makes per exec. Where those cannot be attached
// (tracefs not mounted, a kernel without syscall tracepoints) the catch-all
// raw_syscalls:sys_exit is used instead: the same events at a higher cost.
// SyscallHook says which.
//
// Wakeups are batched: a record is submitted without waking the reader until
// 1/16 of the ring buffer is waiting, and the reader polls every
// Options.MaxDelay (default 250 ms) for what arrived below that: a wakeup costs
// an interrupt and a context switch, which a storm would otherwise pay per record.
// Only the records that bring the bytes waiting over that threshold wake the
// reader (those within 16 KiB of it), not every record while the reader has yet
// to run; once woken, the reader copies the records out of the ring buffer a
// batch at a time before it handles them (drain_linux.go), which brings the
// bytes waiting back under the threshold at once.
//
// Records the kernel could not queue because the ring buffer was full are counted,
// per CPU, in the BPF `counters` map; Stats reports them with the records
// received and the file events filtered out or passed by the kernel.
// Enrichment (user name, parent process, process table) is delegated to an
// Enricher the caller supplies, typically sensor/enrich.
//
// The collector runs on Linux only (x86-64 for the syscall hooks, kernel 6.2+ with BTF, root or CAP_BPF and
// CAP_PERFMON); elsewhere Supported and New return an error saying so.
package collector
