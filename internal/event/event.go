package event

// Type names the kind of activity an Event records. The names are the ones rules use
// in `detection: event:`.
type Type = string

// Event types.
const (
	NewProcess       Type = "NEW_PROCESS"
	TerminateProcess Type = "TERMINATE_PROCESS"
	FileOpen         Type = "FILE_OPEN"
	NetworkConnect   Type = "NETWORK_CONNECT"
	NetworkAccept    Type = "NETWORK_ACCEPT"
	DNSRequest       Type = "DNS_REQUEST"
	ModuleLoad       Type = "MODULE_LOAD"
	PrivilegeChange  Type = "PRIVILEGE_CHANGE"
	SensorHeartbeat  Type = "SENSOR_HEARTBEAT"
	HostStats        Type = "HOST_STATS"
	FileDelete       Type = "FILE_DELETE"
	FileRename       Type = "FILE_RENAME"
	FileChmod        Type = "FILE_CHMOD"
	Ptrace           Type = "PTRACE"
	NetworkListen    Type = "NETWORK_LISTEN"
	NamespaceChange  Type = "NAMESPACE_CHANGE"
	Mount            Type = "MOUNT"
	Unmount          Type = "UNMOUNT"
	BPFLoad          Type = "BPF_LOAD"
	MemfdCreate      Type = "MEMFD_CREATE"
	Userfaultfd      Type = "USERFAULTFD"
	FileLink         Type = "FILE_LINK"
	DirCreate        Type = "DIR_CREATE"
	DirDelete        Type = "DIR_DELETE"
	FileMknod        Type = "FILE_MKNOD"
	FileChown        Type = "FILE_CHOWN"
	FileTruncate     Type = "FILE_TRUNCATE"
	SocketCreate     Type = "SOCKET_CREATE"
	FDDup            Type = "FD_DUP"
	// KernelLogControl is a syslog(2) call that clears the kernel's log or
	// turns its console output off or on (OPERATION), with its result
	// (ERROR_CODE).
	KernelLogControl Type = "KERNEL_LOG_CONTROL"
	// K8sAudit is one Kubernetes API server audit event (audit.k8s.io/v1): a
	// second event source beside the sensor, see docs/kubernetes.md, Kubernetes audit log.
	K8sAudit Type = "K8S_AUDIT"
)

// KernelLogActions names the actions of syslog(2) a KERNEL_LOG_CONTROL reports,
// by number (SYSLOG_ACTION_READ_CLEAR is 4): its event/OPERATION.
var KernelLogActions = map[uint32]string{4: "read_clear", 5: "clear", 6: "console_off", 7: "console_on", 8: "console_level"}

// Types lists every event type Vigil knows, in a stable order.
var Types = []Type{
	NewProcess, TerminateProcess, FileOpen, FileDelete, FileRename, FileChmod,
	NetworkConnect, NetworkAccept, DNSRequest, ModuleLoad, PrivilegeChange, Ptrace,
	SensorHeartbeat, HostStats,
	NetworkListen,
	NamespaceChange, Mount, Unmount, BPFLoad, MemfdCreate, Userfaultfd,
	FileLink, DirCreate, DirDelete, FileMknod, FileChown, FileTruncate,
	SocketCreate, FDDup, KernelLogControl,
	K8sAudit,
}

// KnownType reports whether t is one of Types.
func KnownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Event is one row of telemetry. The routing fields say where and when it happened;
// the remaining fields are the event body, filled according to Type (a NEW_PROCESS
// has no destination address, a NETWORK_CONNECT has no exit code). Unused fields stay
// at their zero value, which Parquet stores in a few bits per row.
//
// Column names (the parquet tags) are the lake's schema; rule paths are in Fields.
// Event time and id are delta-encoded: within a batch both rise almost
// monotonically (ids are monotonic ULIDs), so each row stores a small
// difference or the suffix it does not share with the previous id.
type Event struct {
	// routing
	SensorID  string   `parquet:"sensor_id,dict"`
	Hostname  string   `parquet:"hostname,dict"`
	Tags      []string `parquet:"tags,list"`
	Type      string   `parquet:"event_type,dict"`
	TimeNanos int64    `parquet:"event_time,timestamp(nanosecond),delta"`
	ID        string   `parquet:"event_id,delta"`

	// process context (every host event carries its process)
	PID               uint32 `parquet:"pid"`
	PPID              uint32 `parquet:"ppid"`
	UID               uint32 `parquet:"uid"`
	GID               uint32 `parquet:"gid"`
	User              string `parquet:"user,dict"`
	FilePath          string `parquet:"file_path,dict"`
	CommandLine       string `parquet:"command_line"`
	ParentFilePath    string `parquet:"parent_file_path,dict"`
	ParentCommandLine string `parquet:"parent_command_line"`
	GrandparentPath   string `parquet:"grandparent_file_path,dict"`
	GrandparentCmd    string `parquet:"grandparent_command_line"`
	EUID              uint32 `parquet:"euid"`
	CgroupID          uint64 `parquet:"cgroup_id"`
	ContainerID       string `parquet:"container_id,dict"`

	// Kubernetes pod context of a process in a pod's container (empty
	// elsewhere; see docs/kubernetes.md, Pod context). PodUID comes from the
	// cgroup path; the rest from the kubelet's pod list, once the sensor's
	// cache holds the pod. PodLabels are "key=value", sorted by key.
	// ContainerImage is the image as the pod spec names it; its repository
	// and tag are derived rule paths.
	PodUID            string   `parquet:"k8s_pod_uid,dict"`
	PodName           string   `parquet:"k8s_pod_name,dict"`
	PodNamespace      string   `parquet:"k8s_namespace,dict"`
	PodLabels         []string `parquet:"k8s_pod_labels,list" parquet-element:",dict"`
	PodServiceAccount string   `parquet:"k8s_service_account,dict"`
	NodeName          string   `parquet:"k8s_node_name,dict"`
	ContainerName     string   `parquet:"container_name,dict"`
	ContainerImage    string   `parquet:"container_image,dict"`

	// Process context, read by the kernel at exec and carried by every event of
	// the process (Environment: NEW_PROCESS only). See docs/sensor.md.
	//
	// Args is argv. CWD is the working directory at exec, TTY the name of the
	// controlling terminal ("pts/3", "" when the session has none). LoginUID
	// is the audit login uid (4294967295 when unset), SessionID the audit
	// session. ProcessStartTime is when the process was created (fork), Unix
	// nanoseconds. VPID is the process id in the process's own pid namespace,
	// 0 when that is the initial namespace (the rule path then reads PID).
	// CapEffective is the effective capability mask. ExeUpperLayer is 1 when
	// the executable lies on an overlayfs upper layer (written or modified in
	// the container after it started), else 0.
	Args             []string `parquet:"args,list" parquet-element:",dict"`
	CWD              string   `parquet:"cwd,dict"`
	TTY              string   `parquet:"tty,dict"`
	LoginUID         uint32   `parquet:"login_uid"`
	SessionID        uint32   `parquet:"session_id"`
	ProcessStartTime int64    `parquet:"process_start_time,optional,timestamp(nanosecond),delta"`
	VPID             uint32   `parquet:"vpid,optional"`
	CapEffective     uint64   `parquet:"cap_effective"`
	ExeUpperLayer    uint32   `parquet:"exe_upper_layer"`
	// Environment holds the configured variables of the process's environment
	// at exec, "NAME=value" (NEW_PROCESS only).
	Environment []string `parquet:"environment,list"`
	// ExePackage names the installed package that owns the executable;
	// ExeUnpackaged is 1 when the host's package database was read and no
	// package owns it (NEW_PROCESS only, with process.package_ownership on).
	ExePackage    string `parquet:"exe_package,dict"`
	ExeUnpackaged uint32 `parquet:"exe_unpackaged"`

	// Ancestry: the process's ancestors as of its exec, parent first, up to
	// the sensor's configured depth; the four lists are parallel.
	AncestorPIDs         []uint32 `parquet:"ancestor_pids,list"`
	AncestorPaths        []string `parquet:"ancestor_file_paths,list" parquet-element:",dict"`
	AncestorCommandLines []string `parquet:"ancestor_command_lines,list" parquet-element:",dict"`
	AncestorUsers        []string `parquet:"ancestor_users,list" parquet-element:",dict"`

	// TERMINATE_PROCESS
	ExitCode int32 `parquet:"exit_code"`

	// FILE_OPEN, FILE_DELETE, FILE_RENAME, FILE_CHMOD and the other file and
	// directory types (FILE_LINK, DIR_CREATE, ...): the file acted on (FILE_PATH
	// is the acting process's executable). For a rename TargetPath is the new name
	// and OldTargetPath the old one.
	TargetPath    string `parquet:"target_path"`
	OldTargetPath string `parquet:"old_target_path"`
	// FileFlags lists what an open does, comma-separated: read, write, create, truncate.
	FileFlags string `parquet:"file_flags,dict"`
	// RawPath is the path a FILE_OPEN's process passed, as it passed it, when
	// it holds ".." (a "../" traversal); empty otherwise, and for opens through
	// io_uring or by handle.
	RawPath string `parquet:"raw_path,dict"`
	// FileMode is the new mode of a FILE_CHMOD (permission and setuid/setgid/sticky bits),
	// the mode asked for by a DIR_CREATE (before the umask) and a FILE_MKNOD.
	FileMode uint32 `parquet:"file_mode"`

	// NETWORK_CONNECT / NETWORK_ACCEPT (and the resolver of a DNS_REQUEST).
	// ErrorCode is 0 on success, else the errno the call failed with.
	Protocol   string `parquet:"protocol,dict"`
	SourceIP   string `parquet:"source_ip"`
	SourcePort uint16 `parquet:"source_port"`
	DestIP     string `parquet:"dest_ip"`
	DestPort   uint16 `parquet:"dest_port"`
	ErrorCode  int32  `parquet:"error_code"`

	// DNS_REQUEST
	DomainName string `parquet:"domain_name"`
	DNSType    string `parquet:"dns_type,dict"`

	// MODULE_LOAD
	ModuleName string `parquet:"module_name"`

	// PRIVILEGE_CHANGE: the ids the process changes to, and the syscall (setuid,
	// setgid, setresuid, capset, ...). KERNEL_LOG_CONTROL: syslog(2)'s action
	// (read_clear, clear, console_off, console_on, console_level).
	NewUID    uint32 `parquet:"new_uid"`
	NewGID    uint32 `parquet:"new_gid"`
	Operation string `parquet:"operation,dict"`

	// PTRACE: the traced process and the request (PTRACE_ATTACH = 16, ...); its
	// name is PtraceRequestName. For PTRACE_TRACEME the traced process is the
	// caller and ErrorCode tells whether the request failed.
	TargetPID     uint32 `parquet:"target_pid"`
	PtraceRequest int64  `parquet:"ptrace_request"`

	// SENSOR_HEARTBEAT
	SensorVersion string `parquet:"sensor_version,dict"`
	Drops         uint64 `parquet:"drops"`
	UptimeSeconds uint64 `parquet:"uptime_seconds"`
	SpoolBytes    uint64 `parquet:"spool_bytes"`

	// HOST_STATS: counts over the last interval (IntervalSeconds), the anomaly
	// models' features.
	IntervalSeconds   uint32 `parquet:"stats_interval_seconds"`
	CountExec         uint64 `parquet:"stats_exec"`
	CountFileOpen     uint64 `parquet:"stats_file_open"`
	CountFileChange   uint64 `parquet:"stats_file_change"` // every file change but opens
	CountConnect      uint64 `parquet:"stats_connect"`
	CountAccept       uint64 `parquet:"stats_accept"`
	CountDNS          uint64 `parquet:"stats_dns"`
	CountModuleLoad   uint64 `parquet:"stats_module_load"`
	CountPrivChange   uint64 `parquet:"stats_privilege_change"`
	DistinctDestIPs   uint64 `parquet:"stats_distinct_dest_ips"`
	DistinctDestPorts uint64 `parquet:"stats_distinct_dest_ports"`
	NewExecutables    uint64 `parquet:"stats_new_executables"`
	FailedConnects    uint64 `parquet:"stats_failed_connects"`
	OutboundBytes     uint64 `parquet:"stats_outbound_bytes"`

	// PTRACE: the request's name as Falco gives it (PTRACE_ATTACH,
	// PTRACE_TRACEME, PTRACE_PEEKUSR, ...).
	PtraceRequestName string `parquet:"ptrace_request_name,dict"`

	// NETWORK_LISTEN: the length of the queue of pending connections, as the
	// kernel keeps it. The address and port listened on are DestIP/DestPort,
	// where a NETWORK_ACCEPT has them.
	Backlog uint32 `parquet:"backlog"`
	// NAMESPACE_CHANGE (OPERATION: setns, unshare, clone, clone3): the
	// namespaces entered or made, comma-separated (mnt, uts, ipc, user, pid,
	// net, cgroup, time); TargetPID is a clone's child or the process a setns
	// pidfd named; NamespaceInode the namespace a setns namespace file named.
	Namespaces     string `parquet:"namespaces,dict"`
	NamespaceInode uint64 `parquet:"namespace_inode"`

	// MOUNT, UNMOUNT (OPERATION: mount, move_mount, umount2).
	MountPath   string `parquet:"mount_path"`
	MountSource string `parquet:"mount_source"`
	FSType      string `parquet:"fs_type,dict"`
	// Flags names the flags of a MOUNT, UNMOUNT, MEMFD_CREATE or USERFAULTFD
	// call, comma-separated (ro, nosuid, bind, ...; detach, ...; cloexec, ...).
	Flags string `parquet:"flags,dict"`

	// BPF_LOAD: the program loaded.
	BPFProgType string `parquet:"bpf_prog_type,dict"`
	BPFProgName string `parquet:"bpf_prog_name"`
	BPFProgID   uint32 `parquet:"bpf_prog_id"`

	// MEMFD_CREATE
	MemfdName string `parquet:"memfd_name"`

	// USERFAULTFD: 1 if the caller had no CAP_SYS_PTRACE.
	Unprivileged uint32 `parquet:"unprivileged"`

	// SENSOR_HEARTBEAT: what this sensor cannot capture on its host (kernel
	// hooks that are not attached), e.g. module_load, io_uring.
	MissingCapabilities []string `parquet:"missing_capabilities,list"`
	// FILE_LINK: the new name is TargetPath; LinkTarget is what it points to
	// (a symbolic link's target as given, relative or not; for a hard link the
	// existing file's absolute path) and LinkType "hard" or "symbolic".
	LinkTarget string `parquet:"link_target"`
	LinkType   string `parquet:"link_type,dict"`
	// FILE_MKNOD: the type of the node made (fifo, char, block, socket, file),
	// and the call in Operation (mknod, mknodat);
	// its permission bits are in FileMode.
	FileType string `parquet:"file_type,dict"`
	// FILE_CHOWN: the new owner and group as the call gave them; -1 leaves
	// one as it was.
	OwnerUID int64 `parquet:"owner_uid"`
	OwnerGID int64 `parquet:"owner_gid"`
	// FILE_TRUNCATE: the file's new length in bytes.
	FileSize uint64 `parquet:"file_size"`
	// SOCKET_CREATE: a packet or raw socket, its domain (AF_PACKET, AF_INET,
	// AF_INET6) and type (SOCK_RAW, SOCK_DGRAM, SOCK_PACKET) named as in C,
	// and its protocol's number (a packet socket's Ethernet protocol as
	// passed, in network byte order: 768 for htons(ETH_P_ALL)).
	SocketDomain   string `parquet:"socket_domain,dict"`
	SocketType     string `parquet:"socket_type,dict"`
	SocketProtocol uint32 `parquet:"socket_protocol"`
	// FD_DUP: the standard stream (0, 1 or 2) a socket was duplicated onto;
	// the socket's protocol and ends are Protocol and the source (local) and
	// destination (peer) fields, as a NETWORK_CONNECT's, and the call is
	// Operation (dup, dup2, dup3, fcntl, fixed_fd_install).
	FDNumber uint32 `parquet:"fd_number"`

	// ---- K8S_AUDIT: the Kubernetes audit log (begin) ----
	// One audit.k8s.io/v1 Event of the API server (internal/k8saudit decodes
	// them). SensorID is "k8s-<cluster>", Hostname the cluster, ID the
	// audit id and stage. The user is the authenticated one; ImpersonatedUser
	// the one it acted as (Falco's ka.impuser.name). Decision and Reason are
	// the authorizer's annotations (authorization.k8s.io/decision: allow or
	// forbid). The fields after ResponseCode are read from the request object:
	// for a pod, or the pod template of a Deployment, DaemonSet, StatefulSet,
	// ReplicaSet, Job, CronJob or ReplicationController, whether any of its
	// containers (init and ephemeral ones too) is privileged, its hostPath
	// volumes, whether it shares the host's network, pid or ipc namespace,
	// the capabilities its containers add and their images; for a Service its
	// type; for a Role or ClusterRole the verbs and resources of its rules; for
	// a RoleBinding or ClusterRoleBinding the role it binds ("ClusterRole/
	// cluster-admin") and its subjects' names.
	K8sVerb             string   `parquet:"k8s_verb,dict"`
	K8sUser             string   `parquet:"k8s_user,dict"`
	K8sGroups           []string `parquet:"k8s_groups,list" parquet-element:",dict"`
	K8sImpersonatedUser string   `parquet:"k8s_impersonated_user,dict"`
	K8sStage            string   `parquet:"k8s_stage,dict"`
	K8sAPIGroup         string   `parquet:"k8s_api_group,dict"`
	K8sResource         string   `parquet:"k8s_resource,dict"`
	K8sSubresource      string   `parquet:"k8s_subresource,dict"`
	K8sNamespace        string   `parquet:"k8s_target_namespace,dict"`
	K8sName             string   `parquet:"k8s_target_name,dict"`
	K8sRequestURI       string   `parquet:"k8s_request_uri"`
	K8sSourceIPs        []string `parquet:"k8s_source_ips,list" parquet-element:",dict"`
	K8sUserAgent        string   `parquet:"k8s_user_agent,dict"`
	K8sResponseCode     int32    `parquet:"k8s_response_code"`
	K8sDecision         string   `parquet:"k8s_decision,dict"`
	K8sReason           string   `parquet:"k8s_reason,dict"`
	K8sPrivileged       uint32   `parquet:"k8s_privileged"`
	K8sHostPaths        []string `parquet:"k8s_host_paths,list" parquet-element:",dict"`
	K8sHostNetwork      uint32   `parquet:"k8s_host_network"`
	K8sHostPID          uint32   `parquet:"k8s_host_pid"`
	K8sHostIPC          uint32   `parquet:"k8s_host_ipc"`
	K8sCapabilities     []string `parquet:"k8s_capabilities,list" parquet-element:",dict"`
	K8sImages           []string `parquet:"k8s_images,list" parquet-element:",dict"`
	K8sServiceType      string   `parquet:"k8s_service_type,dict"`
	K8sRuleVerbs        []string `parquet:"k8s_rule_verbs,list" parquet-element:",dict"`
	K8sRuleResources    []string `parquet:"k8s_rule_resources,list" parquet-element:",dict"`
	K8sRoleRef          string   `parquet:"k8s_role_ref,dict"`
	K8sSubjects         []string `parquet:"k8s_subjects,list" parquet-element:",dict"`
	// ---- K8S_AUDIT (end) ----
}
