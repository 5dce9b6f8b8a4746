package localrun

import (
	"context"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// Clock says at what time Process evaluates events: rule windows, suppression
// periods and state expiries run on it.
type Clock int

const (
	// WallClock evaluates a batch at the time it is processed: events as they
	// are captured.
	WallClock Clock = iota
	// EventClock evaluates each event at the latest event time of its batch so
	// far: recorded events, as fast as they can be read.
	EventClock
)

// Process runs one batch of events through the pipeline: the rules (and the
// anomaly scorer), the dashboard's timeline, the sensors' heartbeats, then the
// publishers of new detections (the store claims each detection id once, so a
// batch processed twice publishes nothing new). It appends the batch's
// detections to dst and returns the result. A rule state error is logged and
// the batch goes on; a heartbeat or publisher error stops it. Every path events
// take into the App ends here; Process is safe for concurrent use.
func (a *App) Process(ctx context.Context, dst []detect.Detection, evs []event.Event, clock Clock) ([]detect.Detection, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := len(dst)
	var err error
	if clock == EventClock {
		var now time.Time
		a.det.Clock = func() time.Time { return now }
		for i := range evs {
			if t := time.Unix(0, evs[i].TimeNanos); t.After(now) {
				now = t
			}
			if dst, err = a.det.EvaluateContext(ctx, dst, evs[i:i+1]); err != nil {
				break
			}
		}
		a.det.Clock = nil
	} else {
		dst, err = a.det.EvaluateContext(ctx, dst, evs)
	}
	if err != nil {
		a.log.Error("rule state", "error", err)
	}
	if a.scorer != nil {
		if dst, err = a.scorer.Append(ctx, dst, evs); err != nil {
			a.log.Error("anomaly scorer", "error", err)
		}
	}
	a.dash.Observe(evs)
	for i := range evs {
		if evs[i].Type == event.SensorHeartbeat {
			if err := a.store.Heartbeat(ctx, &evs[i]); err != nil {
				return dst[:n], fmt.Errorf("record heartbeat: %w", err)
			}
		}
	}
	if len(dst) > n {
		if err := a.sinks.Publish(ctx, dst[n:]); err != nil {
			return dst[:n], fmt.Errorf("publish detections: %w", err)
		}
	}
	return dst, nil
}
