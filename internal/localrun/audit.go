package localrun

import (
	"context"
	"fmt"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// auditStream is the stream the API puts the Kubernetes audit webhook's
// events on: each batch goes through Process at once, as a sensor's batch
// from the in-process stream does.
type auditStream struct{ a *App }

func (s auditStream) Put(ctx context.Context, _ string, records [][]byte) error {
	for i, rec := range records {
		evs, err := event.Decode(nil, rec, detect.MaxBatchRows)
		if err != nil {
			return fmt.Errorf("local: audit batch %d: %w", i, err)
		}
		if _, err := s.a.Process(context.WithoutCancel(ctx), nil, evs, WallClock); err != nil {
			return fmt.Errorf("local: audit batch %d: %w", i, err)
		}
	}
	return nil
}
