package metrics

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestSendsToTheAgent: counts and timings reach a DogStatsD listener on loopback
// with the client's tags, on Flush.
func TestSendsToTheAgent(t *testing.T) {
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c, err := New(conn.LocalAddr().String(), []string{"function:detect"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Count("vigil.detect.records", 2, "result:ok")
	c.Timing("vigil.detect.batch_time", 1500*time.Millisecond)
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	var got strings.Builder
	buf := make([]byte, 4096)
	for !strings.Contains(got.String(), "batch_time") || !strings.Contains(got.String(), "records") {
		_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("received %q, then: %v", got.String(), err)
		}
		got.Write(buf[:n])
	}
	for _, want := range []string{"vigil.detect.records:2|c|#function:detect,result:ok", "vigil.detect.batch_time:1500.000000|ms|#function:detect"} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("received %q, want %q", got.String(), want)
		}
	}
	var off *Client // disabled: every call is a no-op
	off.Count("x", 1)
	off.Timing("x", time.Second)
	if off.Flush() != nil || off.Close() != nil {
		t.Error("a nil client failed")
	}
	if c, err := New("", nil); c != nil || err != nil {
		t.Errorf("empty address: %v %v, want metrics off", c, err)
	}
}
