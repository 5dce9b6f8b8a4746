package agent

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"path"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/netnstest"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// TestRunEmitsHeartbeatAndHostStats runs the real sensor (root, eBPF) for a moment
// and checks that the stream carries the captured execs together with the sensor's
// own SENSOR_HEARTBEAT and HOST_STATS, and that the lake got the same events.
// HOST_STATS count the datagrams the test sends over a veth pair to a peer
// namespace of its own (see peer).
func TestRunEmitsHeartbeatAndHostStats(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot capture here: %v", err)
	}
	p := newPeer(t)
	stream := local.NewStream(4096)
	lake := &local.Lake{Dir: t.TempDir()}
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	_, stop := startSensor(t, Options{SensorID: "agent-test", Tags: []string{"env:test"}, Stream: stream, Lake: lake,
		BatchInterval: 100 * time.Millisecond, Spool: sp, Version: "test", HeartbeatEvery: 200 * time.Millisecond,
		StatsEvery: 300 * time.Millisecond, SysClassNet: p.sysClassNet})
	// the execs the sensor must report: these five, by pid
	trues := map[uint32]bool{}
	for range 5 {
		cmd := exec.Command("/bin/true")
		if err := cmd.Run(); err != nil {
			t.Fatal(err)
		}
		trues[uint32(cmd.Process.Pid)] = false
	}
	sent := p.send(t, 100, 1000)
	time.Sleep(800 * time.Millisecond)
	st := stop()
	stream.Close()
	count := map[string]int{}
	var hb, hs *event.Event
	var outbound uint64
	for rec := range stream.Records() {
		evs, err := event.DecodeRecord(nil, rec.Data, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			e := &evs[i]
			count[e.Type]++
			switch e.Type {
			case event.NewProcess:
				if _, ours := trues[e.PID]; ours && path.Base(e.FilePath) == "true" {
					trues[e.PID] = true
				}
			case event.SensorHeartbeat:
				hb = e
			case event.HostStats:
				hs = e
				outbound += e.OutboundBytes
			}
		}
	}
	for pid, seen := range trues {
		if !seen {
			t.Errorf("no NEW_PROCESS of /bin/true with pid %d", pid)
		}
	}
	if hb == nil || hs == nil {
		t.Fatalf("events by type: %v", count)
	}
	if hb.SensorVersion != "test" || hb.SensorID != "agent-test" || len(hb.Tags) != 1 {
		t.Errorf("heartbeat %+v", hb)
	}
	if hs.IntervalSeconds > 1 || hs.SensorID != "agent-test" {
		t.Errorf("host stats %+v", hs)
	}
	if outbound < uint64(sent) {
		t.Errorf("HOST_STATS count %d outbound bytes; %d were sent", outbound, sent)
	}
	files, _ := lake.Files()
	if len(files) == 0 {
		t.Error("no lake file")
	}
	if st.Shipper.SpoolBytes != 0 || st.Drops() != 0 {
		t.Errorf("stats %+v", st)
	}
}

// peer is a network namespace of the test's own at the other end of a veth
// pair from the test's namespace (10.234.x.x/30, by the test's process id),
// with a UDP socket listening there. The sensor counts only physical
// interfaces, and sysfs places veths under devices/virtual; so the sensor reads
// sysClassNet, a /sys/class/net the test builds, where the test's end of the
// pair links under a PCI device, as a NIC does, and lo and every other
// interface of the namespace under devices/virtual.
type peer struct {
	sysClassNet string
	conn        net.Conn // connected to the socket in the peer namespace
}

func newPeer(t *testing.T) *peer {
	t.Helper()
	netnstest.Require(t)
	own, addr := netnstest.Subnet30(234)
	ns := netnstest.New(t, "vgl-ag")
	end := netnstest.Unique("vag")
	netnstest.Veth(t, netnstest.End{Name: end, Addrs: []string{own.String()}},
		netnstest.End{NS: ns, Name: "vap", Addrs: []string{addr.String()}})
	var pc net.PacketConn
	ns.Do(t, func() {
		var err error
		if pc, err = net.ListenPacket("udp4", net.JoinHostPort(addr.Addr().String(), "9")); err != nil {
			t.Fatal(err)
		}
	})
	t.Cleanup(func() { pc.Close() })
	conn, err := net.Dial("udp4", pc.LocalAddr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// one datagram through first: the peer's address resolved, none of the
	// counted ones waits for it (or is dropped while waiting)
	if _, err := conn.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := pc.ReadFrom(make([]byte, 16)); err != nil {
		t.Fatalf("the peer got nothing over the veth pair: %v", err)
	}
	return &peer{sysClassNet: netnstest.SysClassNet(t, end), conn: conn}
}

// send sends n datagrams of size bytes to the peer and returns the bytes sent.
func (p *peer) send(t *testing.T, n, size int) int {
	t.Helper()
	sent := 0
	for range n {
		k, err := p.conn.Write(make([]byte, size))
		if err != nil {
			t.Fatal(err)
		}
		sent += k
	}
	return sent
}

// startSensor runs the sensor with o (its log discarded unless o has one) until
// stop is called, which returns the run's final counters; stats returns them so
// far. The test fails if the sensor stops before its probes are attached or Run
// returns an error.
func startSensor(tb testing.TB, o Options) (stats func() Stats, stop func() Stats) {
	tb.Helper()
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan func() Stats, 1)
	o.Started = func(stats func() Stats) { started <- stats }
	type result struct {
		st  Stats
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := Run(ctx, o)
		done <- result{st, err}
	}()
	select {
	case stats = <-started:
	case r := <-done:
		cancel()
		tb.Fatalf("sensor stopped before starting: %v", r.err)
	}
	return stats, func() Stats {
		tb.Helper()
		cancel()
		r := <-done
		if r.err != nil {
			tb.Fatal(r.err)
		}
		return r.st
	}
}
