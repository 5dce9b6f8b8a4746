package detect

import "github.com/vigil-sec/vigil/internal/event"

// Events returns the events of the last batch, valid until the next call to Batch.
func (d *Detector) Events() []event.Event { return d.events }
