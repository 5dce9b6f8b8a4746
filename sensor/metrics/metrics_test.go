package metrics

import (
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

// listen is a DogStatsD agent on loopback recording the lines it receives.
func listen(t *testing.T) (*net.UDPConn, func() []string) {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, func() []string {
		var lines []string
		buf := make([]byte, 65536)
		for {
			_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			n, err := conn.Read(buf)
			if err != nil {
				return lines
			}
			for l := range strings.SplitSeq(strings.TrimSpace(string(buf[:n])), "\n") {
				lines = append(lines, l)
			}
		}
	}
}

func TestMetricsReachTheAgent(t *testing.T) {
	conn, read := listen(t)
	m, err := New(conn.LocalAddr().String(), []string{"sensor_id:i-1", "env:prod"})
	if err != nil {
		t.Fatal(err)
	}
	m.Event("NEW_PROCESS")
	m.Event("NEW_PROCESS")
	m.Event("FILE_OPEN")
	m.Shipped("stream", 1234, 40*time.Millisecond)
	m.Report(Snapshot{KernelDrops: 3, DroppedRecords: 1, SpoolBytes: 4096, SpoolRecords: 2, SpoolFiles: 1,
		KernelTime: 1500 * time.Microsecond})
	m.Report(Snapshot{KernelDrops: 5, DroppedRecords: 1, SpoolBytes: 0, KernelTime: 4 * time.Millisecond,
		SpoolCorrupt: 2, EncodeStream: 1, EncodeLake: 3, EdgeDetections: 4, EdgeUnsent: 1, EdgeStateEvicted: 7,
		EdgeActions: 2, EdgeDryRuns: 3})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	lines := read()
	want := []string{
		"vigil.sensor.events:2|c|#sensor_id:i-1,env:prod,event_type:NEW_PROCESS",
		"vigil.sensor.events:1|c|#sensor_id:i-1,env:prod,event_type:FILE_OPEN",
		"vigil.sensor.batch_bytes:1234|d|#sensor_id:i-1,env:prod,path:stream",
		"vigil.sensor.ship_latency:40.000000|ms|#sensor_id:i-1,env:prod,path:stream",
		"vigil.sensor.drops:5|c|#sensor_id:i-1,env:prod,source:kernel",
		"vigil.sensor.drops:1|c|#sensor_id:i-1,env:prod,source:spool_records",
		"vigil.sensor.drops:2|c|#sensor_id:i-1,env:prod,source:spool_corrupt",
		"vigil.sensor.drops:1|c|#sensor_id:i-1,env:prod,source:encode_stream",
		"vigil.sensor.drops:3|c|#sensor_id:i-1,env:prod,source:encode_lake",
		"vigil.sensor.spool_bytes:0|g|#sensor_id:i-1,env:prod",
		"vigil.sensor.spool_batches:0|g|#sensor_id:i-1,env:prod,path:stream",
		"vigil.sensor.bpf_cpu:4000|c|#sensor_id:i-1,env:prod",
		"vigil.sensor.edge_detections:4|c|#sensor_id:i-1,env:prod",
		"vigil.sensor.edge_unsent:1|c|#sensor_id:i-1,env:prod",
		"vigil.sensor.edge_state_evicted:7|c|#sensor_id:i-1,env:prod",
		"vigil.sensor.edge_actions:2|c|#sensor_id:i-1,env:prod,result:done",
		"vigil.sensor.edge_actions:3|c|#sensor_id:i-1,env:prod,result:dry_run",
	}
	for _, w := range want {
		if !slices.Contains(lines, w) {
			t.Errorf("missing %q in\n%s", w, strings.Join(lines, "\n"))
		}
	}
}

func TestDisabled(t *testing.T) {
	m, err := New("", nil)
	if err != nil || m != nil {
		t.Fatalf("New(\"\") = %v, %v", m, err)
	}
	m.Event("X") // a nil *Metrics does nothing
	m.Shipped("lake", 1, time.Second)
	m.Report(Snapshot{})
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
}
