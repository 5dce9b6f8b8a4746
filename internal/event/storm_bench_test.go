package event

import (
	"strconv"
	"testing"
	"time"
)

// execStorm is n events of an exec storm as the sensor ships them: a
// process runs /usr/bin/true over and over, each child's NEW_PROCESS then its
// TERMINATE_PROCESS, every event with its process context and the ancestry
// the children share (the storm process, its parent, a shell, ...).
func execStorm(n int) []Event {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	tags := []string{"env:prod", "deployment:d-1a2b3c"}
	ancPIDs := []uint32{31337, 31300, 2012, 1990, 1}
	ancPaths := []string{"/usr/local/bin/build-runner", "/usr/local/bin/build-runner", "/usr/bin/bash",
		"/usr/sbin/sshd", "/usr/lib/systemd/systemd"}
	ancCmds := []string{"/usr/local/bin/build-runner --worker 3 --queue default --log /var/log/build/worker-3.log",
		"/usr/local/bin/build-runner --workers 8 --queue default --config /etc/build/runner.yaml",
		"-bash", "sshd: ci@pts/0", "/usr/lib/systemd/systemd --system --deserialize 31"}
	ancUsers := []string{"ci", "ci", "ci", "root", "root"}
	args := []string{"true"}
	env := []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	out := make([]Event, n)
	at := start
	for i := range out {
		at = at.Add(time.Duration(40+(i*7919)%30) * time.Microsecond)
		pid := uint32(100000 + i/2)
		e := Event{SensorID: "i-0abc123def4567890", Hostname: "ip-10-0-1-17", Tags: tags,
			TimeNanos: at.UnixNano(), ID: NewID(at), PID: pid, PPID: ancPIDs[0], UID: 1001, GID: 1001,
			User: "ci", FilePath: "/usr/bin/true", CommandLine: "true",
			ParentFilePath: ancPaths[0], ParentCommandLine: ancCmds[0], GrandparentPath: ancPaths[1],
			GrandparentCmd: ancCmds[1], EUID: 1001, CgroupID: 4242,
			Args: args, CWD: "/home/ci/work/" + strconv.Itoa(3), LoginUID: 1001, SessionID: 12,
			ProcessStartTime: at.UnixNano() - 300_000, CapEffective: 0,
			AncestorPIDs: ancPIDs, AncestorPaths: ancPaths, AncestorCommandLines: ancCmds, AncestorUsers: ancUsers}
		if i%2 == 0 {
			e.Type, e.Environment = NewProcess, env
		} else {
			e.Type = TerminateProcess
		}
		out[i] = e
	}
	return out
}

// BenchmarkEncodeExecStorm encodes an exec storm as the shipper does at
// 20,000 execs a second: batches of 2,000 events for the stream, and the
// same events into the open lake file.
func BenchmarkEncodeExecStorm(b *testing.B) {
	events := execStorm(2000)
	b.Run("stream", func(b *testing.B) { benchEncode(b, events) })
	b.Run("lake", func(b *testing.B) { benchFileWriter(b, events) })
}
