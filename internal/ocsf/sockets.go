package ocsf

// fdDupActivity is the Network Activity of an FD_DUP: a process's standard
// stream now goes over a connection, which is neither opened nor closed by
// it (99 Other), and whose direction the duplication does not tell.
func fdDupActivity(ci *ConnectionInfo) (int32, string) {
	ci.DirectionID, ci.Direction = 0, "Unknown"
	return 99, "Other"
}
