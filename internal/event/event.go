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
)

// Types lists every event type Vigil knows, in a stable order.
var Types = []Type{
	NewProcess, TerminateProcess, FileOpen, NetworkConnect, NetworkAccept,
	DNSRequest, ModuleLoad, PrivilegeChange, SensorHeartbeat, HostStats,
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
type Event struct {
	// routing
	SensorID  string   `parquet:"sensor_id,dict"`
	Hostname  string   `parquet:"hostname,dict"`
	Tags      []string `parquet:"tags,list"`
	Type      string   `parquet:"event_type,dict"`
	TimeNanos int64    `parquet:"event_time,timestamp(nanosecond)"`
	ID        string   `parquet:"event_id"`

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
	CgroupID          uint64 `parquet:"cgroup_id"`
	ContainerID       string `parquet:"container_id,dict"`

	// TERMINATE_PROCESS
	ExitCode int32 `parquet:"exit_code"`

	// FILE_OPEN: the file opened (FILE_PATH is the process executable)
	TargetPath string `parquet:"target_path"`
	FileFlags  string `parquet:"file_flags,dict"`

	// NETWORK_CONNECT / NETWORK_ACCEPT
	Protocol   string `parquet:"protocol,dict"`
	SourceIP   string `parquet:"source_ip"`
	SourcePort uint16 `parquet:"source_port"`
	DestIP     string `parquet:"dest_ip"`
	DestPort   uint16 `parquet:"dest_port"`

	// DNS_REQUEST
	DomainName string `parquet:"domain_name"`
	DNSType    string `parquet:"dns_type,dict"`

	// MODULE_LOAD
	ModuleName string `parquet:"module_name"`

	// PRIVILEGE_CHANGE
	NewUID uint32 `parquet:"new_uid"`

	// SENSOR_HEARTBEAT
	SensorVersion string `parquet:"sensor_version,dict"`
	Drops         uint64 `parquet:"drops"`
}
