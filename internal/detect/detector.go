package detect

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// Publisher receives the detections of a batch. It is declared here, where it is
// used; printers, stores and buses implement it.
type Publisher interface {
	Publish(ctx context.Context, ds []Detection) error
}

// MaxBatchRows bounds the rows one untrusted batch may declare.
const MaxBatchRows = 1 << 20

// Detector evaluates batches of events against an engine. It keeps its buffers
// between calls and is not safe for concurrent use.
type Detector struct {
	eng     *engine.Engine
	events  []event.Event
	matched []*engine.Rule
}

// NewDetector returns a Detector evaluating with eng.
func NewDetector(eng *engine.Engine) *Detector {
	return &Detector{eng: eng}
}

// Evaluate appends the detections for events to dst.
func (d *Detector) Evaluate(dst []Detection, events []event.Event) []Detection {
	for i := range events {
		d.matched = d.eng.Eval(&events[i], d.matched[:0])
		for _, r := range d.matched {
			dst = append(dst, New(r, &events[i]))
		}
	}
	return dst
}

// Batch decodes one Parquet batch and returns its detections and how many events it
// held. Undecodable input is an error wrapping event.ErrNotParquet.
func (d *Detector) Batch(dst []Detection, data []byte) ([]Detection, int, error) {
	var err error
	d.events, err = event.Decode(d.events[:0], data, MaxBatchRows)
	if err != nil {
		return dst, 0, fmt.Errorf("decode batch: %w", err)
	}
	return d.Evaluate(dst, d.events), len(d.events), nil
}
