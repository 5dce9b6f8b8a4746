package agent

import (
	"fmt"
	"log/slog"

	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// newEdge builds the run's edge evaluator when o asks for one (nil otherwise),
// sending on the stream when there is one.
func newEdge(o Options, ship *shipper.Shipper, log *slog.Logger) (*edge.Evaluator, error) {
	if o.Edge == nil {
		return nil, nil
	}
	eo := *o.Edge
	eo.SensorID = o.SensorID
	if eo.Log == nil {
		eo.Log = log
	}
	if o.Stream != nil {
		eo.Sink = ship
	}
	eval, err := edge.New(eo)
	if err != nil {
		return nil, fmt.Errorf("sensor: %w", err)
	}
	log.Info("edge rules", "evaluated", len(eval.Rules()), "cloud_only", len(eval.CloudOnly()), "enforce", eo.Enforce)
	return eval, nil
}
