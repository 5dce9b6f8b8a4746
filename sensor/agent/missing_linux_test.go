package agent

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// TestHeartbeatMissingCapabilities runs the real sensor with two kinds of
// hooks left unattached, as on a kernel without them, and checks that its
// heartbeats say so: a kind of event absent because it cannot be captured is
// not silently absent.
func TestHeartbeatMissingCapabilities(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot capture here: %v", err)
	}
	stream := local.NewStream(4096)
	disable := []string{"mount", "module_load"}
	_, stop := startSensor(t, Options{SensorID: "missing-test", Stream: stream, BatchInterval: 50 * time.Millisecond,
		HeartbeatEvery: 100 * time.Millisecond, DisableCapabilities: disable})
	time.Sleep(300 * time.Millisecond)
	stop()
	stream.Close()
	beats := 0
	for rec := range stream.Records() {
		evs, err := event.DecodeRecord(nil, rec.Data, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			if e.Type != event.SensorHeartbeat {
				continue
			}
			beats++
			for _, d := range disable {
				if !slices.Contains(e.MissingCapabilities, d) {
					t.Errorf("heartbeat MISSING_CAPABILITIES %q lacks %q", e.MissingCapabilities, d)
				}
			}
			if tree := e.Tree(); tree["event"].(map[string]any)["MISSING_CAPABILITIES"] == nil {
				t.Errorf("rule path event/MISSING_CAPABILITIES absent from %v", tree["event"])
			}
		}
	}
	if beats == 0 {
		t.Fatal("no SENSOR_HEARTBEAT shipped")
	}
}
