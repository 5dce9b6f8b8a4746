// Package ocsf maps Vigil's events and detections to the Open Cybersecurity Schema
// Framework (OCSF 1.1.0) and writes them as Parquet for AWS Security Lake custom
// sources.
//
//	event type                       OCSF class (class_uid)        activity_id
//	NEW_PROCESS                      Process Activity (1007)       1 Launch
//	TERMINATE_PROCESS                Process Activity (1007)       2 Terminate
//	PTRACE                           Process Activity (1007)       3 Open
//	PRIVILEGE_CHANGE                 Process Activity (1007)       5 Set User ID
//	FILE_OPEN                        File System Activity (1001)   1 Create, 3 Update, 2 Read or 14 Open (by flags)
//	FILE_DELETE / FILE_RENAME        File System Activity (1001)   4 Delete / 5 Rename
//	FILE_CHMOD                       File System Activity (1001)   7 Set Security
//	FILE_LINK, DIR_CREATE, FILE_MKNOD File System Activity (1001)  1 Create
//	DIR_DELETE                       File System Activity (1001)   4 Delete
//	FILE_CHOWN                       File System Activity (1001)   7 Set Security
//	FILE_TRUNCATE                    File System Activity (1001)   3 Update
//	NETWORK_CONNECT / NETWORK_ACCEPT Network Activity (4001)       1 Open (4 Fail when the call failed)
//	NETWORK_LISTEN                   Network Activity (4001)       99 Other, named Listen (1.1.0 has no Listen)
//	FD_DUP (TCP and UDP)             Network Activity (4001)       99 Other (a standard stream onto a connection)
//	detection                        Detection Finding (2004)      1 Create
//
// Other event types (DNS_REQUEST, MODULE_LOAD, SOCKET_CREATE, SENSOR_HEARTBEAT,
// HOST_STATS, ...) have no mapping here: MapEvent returns ErrUnmapped for them, and
// for file events without a target path and network events without an address
// (an FD_DUP of a Unix socket), which their classes require.
//
// Every class is one Go struct with json and parquet tags of the OCSF attribute
// names, so the JSON form and the Parquet schema come from the same definition. Times
// are milliseconds since the epoch (OCSF timestamp_t); type_uid is
// class_uid*100+activity_id.
package ocsf
