package cost

import (
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// hostEvents is n events of an ordinary server at steadyRate a second: a few
// services exec'ing helpers, reading their files, talking to databases and AWS
// endpoints, resolving names, with the sensor's own heartbeat every 30 s and host
// stats every 60 s. Times advance evenly; ids are ULIDs of those times.
func hostEvents(n int, steadyRate float64, start time.Time) []event.Event {
	step := time.Duration(float64(time.Second) / steadyRate)
	services := []struct{ exe, cmd, parent string }{
		{"/usr/sbin/nginx", "nginx: worker process", "/usr/sbin/nginx"},
		{"/usr/bin/python3", "python3 /srv/app/worker.py --queue default", "/usr/lib/systemd/systemd"},
		{"/usr/bin/java", "java -Xmx2g -jar /opt/svc/svc.jar", "/usr/lib/systemd/systemd"},
		{"/usr/bin/bash", "bash /etc/cron.hourly/logrotate", "/usr/sbin/cron"},
		{"/usr/bin/git", "git fetch origin", "/usr/bin/bash"},
	}
	paths := []string{"/srv/app/config.yaml", "/etc/ssl/certs/ca-certificates.crt", "/var/log/nginx/access.log",
		"/proc/self/stat", "/opt/svc/lib/netty.jar", "/tmp/upload-8812.part", "/etc/resolv.conf"}
	peers := []string{"10.20.1.5", "10.20.1.6", "10.20.3.40", "3.5.29.12"}
	names := []string{"db.internal", "sqs.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com", "api.github.com"}
	tags := []string{"env:prod", "team:payments", "az:us-east-1b"}
	out := make([]event.Event, n)
	at := start
	for i := range out {
		at = at.Add(step)
		s := services[(i/11)%len(services)]
		pid := uint32(2000 + (i/11)%150)
		e := event.Event{SensorID: "i-0feed0000000000a1", Hostname: "web-17", Tags: tags,
			TimeNanos: at.UnixNano(), ID: event.NewID(at), PID: pid, PPID: 1, UID: 33, GID: 33, EUID: 33,
			User: "www-data", FilePath: s.exe, CommandLine: s.cmd, ParentFilePath: s.parent, CgroupID: 9001}
		switch r := i % 25; {
		case i%3000 == 0:
			e.Type, e.SensorVersion, e.UptimeSeconds = event.SensorHeartbeat, "1.4.0", uint64(i/100)
		case r < 2:
			e.Type = event.NewProcess
		case r < 4:
			e.Type = event.TerminateProcess
		case r < 16:
			e.Type, e.TargetPath, e.FileFlags = event.FileOpen, paths[(i/3)%len(paths)], "read"
		case r < 21:
			e.Type, e.Protocol, e.SourceIP, e.SourcePort = event.NetworkConnect, "tcp", "10.20.0.17", uint16(40000+i%9000)
			e.DestIP, e.DestPort = peers[i%len(peers)], []uint16{5432, 443, 6379, 443}[i%4]
		default:
			e.Type, e.DomainName, e.DNSType, e.Protocol = event.DNSRequest, names[i%len(names)], "A", "udp"
			e.DestIP, e.DestPort = "10.20.0.2", 53
		}
		out[i] = e
	}
	return out
}

// encodedSizes encodes events as the sensor does: stream batches of batch events
// (the stream encoder) and one lake file (the file writer, zstd default level).
func encodedSizes(t *testing.T, events []event.Event, batch int) (batchBytes []int, fileBytes int) {
	t.Helper()
	enc := event.NewEncoder()
	for off := 0; off+batch <= len(events); off += batch {
		data, err := enc.Encode(events[off : off+batch])
		if err != nil {
			t.Fatal(err)
		}
		batchBytes = append(batchBytes, len(data))
	}
	fw := event.NewFileWriter()
	if err := fw.Write(events); err != nil {
		t.Fatal(err)
	}
	data, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	return batchBytes, len(data)
}

func mean(xs []int) float64 {
	var s float64
	for _, x := range xs {
		s += float64(x)
	}
	return s / float64(len(xs))
}

// TestEncodedSizeDefaults encodes a realistic mix with the project's encoders and
// checks that the model's default sizes (a fixed part per record or file plus a
// part per event) predict what they write within 20 %: one-second stream batches
// of hosts at 30 to 2,000 events a second, and five-minute lake files of hosts at
// 10 to 100 events a second.
func TestEncodedSizeDefaults(t *testing.T) {
	d := DefaultParams()
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	within := func(t *testing.T, what string, got, want float64) {
		t.Helper()
		t.Logf("%s: %.0f bytes, the model says %.0f", what, got, want)
		if r := got / want; math.Abs(r-1) > 0.2 {
			t.Errorf("%s is %.0f bytes, the model says %.0f (ratio %.2f)", what, got, want, r)
		}
	}
	for _, batch := range []int{30, 100, 500, 2000} {
		t.Run(fmt.Sprintf("batch=%d", batch), func(t *testing.T) {
			batches, _ := encodedSizes(t, hostEvents(batch*20, float64(batch), start), batch)
			within(t, fmt.Sprintf("a batch of %d events", batch), mean(batches),
				d.StreamRecordOverheadBytes+float64(batch)*d.StreamBytesPerEvent)
		})
	}
	for _, rate := range []int{10, 30, 100} {
		t.Run(fmt.Sprintf("file-rate=%d", rate), func(t *testing.T) {
			n := rate * 300
			_, file := encodedSizes(t, hostEvents(n, float64(rate), start), n)
			within(t, fmt.Sprintf("a lake file of %d events", n), float64(file),
				d.LakeFileOverheadBytes+float64(n)*d.LakeBytesPerEvent)
		})
	}
}
