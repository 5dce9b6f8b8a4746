package detect

import "github.com/vigil-sec/vigil/internal/event"

// Events returns the events of the last batch, valid until the next call to
// Batch. Of a batch none of whose events matched, they hold only the fields
// the rules read and the fields of HOST_STATS and SENSOR_HEARTBEAT events;
// the others are zero (see Batch).
func (d *Detector) Events() []event.Event { return d.events }
