package detect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/anomaly"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// Anomalies turns HOST_STATS events the host activity model finds unusual into
// detections of rule anomaly/host_activity (severity medium, category anomaly),
// carrying the score, the threshold, the model group and the features that
// contributed most. The Lambda and `vigil local` share it.
type Anomalies struct {
	// Scorer returns the current scorer; a nil scorer (no model yet) scores nothing.
	// anomaly.Live.Scorer refreshes it from S3 by ETag.
	Scorer func(ctx context.Context) (*anomaly.Scorer, error)
}

// AnomalyName is the report name of an anomaly detection.
const AnomalyName = "Unusual host activity"

// Append appends the anomaly detections of evs to dst. An error loading the model
// is returned with dst unchanged: rules keep working without it.
func (a *Anomalies) Append(ctx context.Context, dst []Detection, evs []event.Event) ([]Detection, error) {
	var sc *anomaly.Scorer
	for i := range evs {
		ev := &evs[i]
		if ev.Type != event.HostStats {
			continue
		}
		if sc == nil {
			var err error
			if sc, err = a.Scorer(ctx); err != nil {
				return dst, fmt.Errorf("anomaly model: %w", err)
			}
			if sc == nil {
				return dst, nil
			}
		}
		f, ok := sc.Check(ev)
		if !ok {
			continue
		}
		top := make([]string, 0, len(f.Top))
		for _, c := range f.Top {
			top = append(top, fmt.Sprintf("%s=%.4g (%.3f)", c.Feature, c.Value, c.Weight))
		}
		meta := map[string]string{"severity": "medium", "category": "anomaly", "score": fmt.Sprintf("%.4f", f.Score),
			"threshold": fmt.Sprintf("%.4f", f.Threshold), "group": f.Group, "top": strings.Join(top, ", ")}
		finding := f
		dst = append(dst, Detection{ID: DetectionID(anomaly.RuleName, ev.ID), Rule: anomaly.RuleName,
			Name: AnomalyName, Severity: "medium", Category: "anomaly", Time: time.Unix(0, ev.TimeNanos).UTC(),
			Event: *ev, Anomaly: &finding,
			Actions: []engine.Action{{Action: engine.ActReport, Name: AnomalyName, Metadata: meta}}})
	}
	return dst, nil
}
