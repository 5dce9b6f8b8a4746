package detect

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/event"
)

// registryLog keeps the heartbeats written to the registry, failing while err is set.
type registryLog struct {
	written []event.Event
	err     error
}

func (r *registryLog) Heartbeat(_ context.Context, ev *event.Event) error {
	if r.err != nil {
		return r.err
	}
	r.written = append(r.written, *ev)
	return nil
}

// TestSensorWriteInterval sends heartbeats of two sensors, one record each, and
// checks which reach the registry: the first of a sensor, then one at least 5
// minutes (by the heartbeats' clock) after the one last written, and any whose
// entry changes otherwise.
func TestSensorWriteInterval(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	hb := func(sensor string, at time.Duration, edit func(*event.Event)) event.Event {
		e := event.Event{Type: event.SensorHeartbeat, SensorID: sensor, Hostname: "web-1", SensorVersion: "1.4.0",
			Tags: []string{"env:prod"}, TimeNanos: t0.Add(at).UnixNano(), UptimeSeconds: uint64(100 + at/time.Second)}
		if edit != nil {
			edit(&e)
		}
		return e
	}
	type beat struct {
		ev      event.Event
		written bool
	}
	tests := []struct {
		name  string
		every time.Duration
		beats []beat
	}{
		{"every 30 s for 11 minutes: at 0, 5 and 10 minutes", 0, func() []beat {
			var bs []beat
			for s := time.Duration(0); s <= 11*time.Minute; s += 30 * time.Second {
				bs = append(bs, beat{hb("i-1", s, nil), s%(5*time.Minute) == 0})
			}
			return bs
		}()},
		{"two sensors kept apart", 0, []beat{
			{hb("i-1", 0, nil), true}, {hb("i-2", 10*time.Second, nil), true},
			{hb("i-1", 30*time.Second, nil), false}, {hb("i-2", 40*time.Second, nil), false},
			{hb("i-2", 5*time.Minute+10*time.Second, nil), true}, {hb("i-1", 5*time.Minute+20*time.Second, nil), true},
		}},
		{"a late heartbeat waits for the interval from the last write", 0, []beat{
			{hb("i-1", 0, nil), true}, {hb("i-1", 4*time.Minute+59*time.Second, nil), false},
			{hb("i-1", 5*time.Minute+29*time.Second, nil), true}, {hb("i-1", 10*time.Minute, nil), false},
			{hb("i-1", 10*time.Minute+30*time.Second, nil), true},
		}},
		{"changes are written at once", 0, []beat{
			{hb("i-1", 0, nil), true},
			{hb("i-1", 30*time.Second, func(e *event.Event) { e.SensorVersion = "1.5.0" }), true},
			{hb("i-1", 60*time.Second, func(e *event.Event) { e.SensorVersion = "1.5.0" }), false},
			{hb("i-1", 90*time.Second, func(e *event.Event) { e.SensorVersion = "1.5.0"; e.Drops = 12 }), true},
			{hb("i-1", 120*time.Second, func(e *event.Event) { e.SensorVersion = "1.5.0"; e.Drops = 12; e.Hostname = "web-2" }), true},
			{hb("i-1", 150*time.Second, func(e *event.Event) {
				e.SensorVersion, e.Drops, e.Hostname, e.Tags = "1.5.0", 12, "web-2", []string{"env:prod", "deployment:d-2"}
			}), true},
			{hb("i-1", 180*time.Second, func(e *event.Event) {
				e.SensorVersion, e.Drops, e.Hostname, e.Tags, e.UptimeSeconds = "1.5.0", 12, "web-2", []string{"env:prod", "deployment:d-2"}, 5
			}), true}, // restarted
			{hb("i-1", 210*time.Second, func(e *event.Event) {
				e.SensorVersion, e.Drops, e.Hostname, e.Tags, e.UptimeSeconds = "1.5.0", 12, "web-2", []string{"env:prod", "deployment:d-2"}, 35
			}), false},
		}},
		{"an older heartbeat is never written", 0, []beat{
			{hb("i-1", 10*time.Minute, nil), true}, {hb("i-1", 0, func(e *event.Event) { e.SensorVersion = "1.3.0" }), false},
		}},
		{"a negative interval writes every heartbeat", -1, []beat{
			{hb("i-1", 0, nil), true}, {hb("i-1", 30*time.Second, nil), true}, {hb("i-1", 60*time.Second, nil), true},
		}},
		{"a 1-minute interval", time.Minute, []beat{
			{hb("i-1", 0, nil), true}, {hb("i-1", 30*time.Second, nil), false}, {hb("i-1", 60*time.Second, nil), true},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := &registryLog{}
			h := &KinesisHandler{Detector: NewDetector(packEngine(t)), Publisher: &recorder{}, Sensors: reg, SensorWriteInterval: tc.every}
			var want []time.Duration
			for i, b := range tc.beats {
				data, err := event.NewEncoder().Encode([]event.Event{b.ev})
				if err != nil {
					t.Fatal(err)
				}
				resp, err := h.Handle(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record("1", bytes.Clone(data))}})
				if err != nil || len(resp.BatchItemFailures) > 0 {
					t.Fatalf("heartbeat %d: %v %v", i, err, resp.BatchItemFailures)
				}
				if b.written {
					want = append(want, time.Duration(b.ev.TimeNanos-t0.UnixNano()))
				}
			}
			var got []time.Duration
			for _, e := range reg.written {
				got = append(got, time.Duration(e.TimeNanos-t0.UnixNano()))
			}
			if len(got) != len(want) {
				t.Fatalf("wrote the heartbeats at %v, want %v", got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("wrote the heartbeats at %v, want %v", got, want)
				}
			}
		})
	}
}

// TestSensorWriteFailure: a heartbeat whose write failed fails its record, and
// the next heartbeat is written (the failed one is not remembered as written).
func TestSensorWriteFailure(t *testing.T) {
	t0 := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	reg := &registryLog{err: errors.New("throttled")}
	h := &KinesisHandler{Detector: NewDetector(packEngine(t)), Publisher: &recorder{}, Sensors: reg}
	send := func(at time.Duration) events.KinesisEventResponse {
		t.Helper()
		data, err := event.NewEncoder().Encode([]event.Event{{Type: event.SensorHeartbeat, SensorID: "i-1", TimeNanos: t0.Add(at).UnixNano()}})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := h.Handle(context.Background(), events.KinesisEvent{Records: []events.KinesisEventRecord{record("7", bytes.Clone(data))}})
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	if resp := send(0); len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "7" {
		t.Fatalf("a failed write gives failures %v, want record 7", resp.BatchItemFailures)
	}
	reg.err = nil
	if resp := send(30 * time.Second); len(resp.BatchItemFailures) != 0 || len(reg.written) != 1 {
		t.Fatalf("after a failed write the next heartbeat: failures %v, %d written; want it written", resp.BatchItemFailures, len(reg.written))
	}
}
