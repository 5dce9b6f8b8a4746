package detect

import (
	"context"
	"fmt"
	"slices"
	"time"

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

// Detector evaluates batches of events against an engine, stateful rules and
// suppression included, keeping their state in a State. It keeps its buffers
// between calls and is not safe for concurrent use.
type Detector struct {
	eng   *engine.Engine
	state engine.State
	// Clock gives the time of evaluation (windows, suppression periods, expiries);
	// time.Now when nil.
	Clock func() time.Time

	decoder *event.Decoder
	records *event.RecordDecoder // reads stream records through decoder
	events  []event.Event
	rows    []int // of each detection of the last batch, its event's index in events
	matches []engine.Match
	byName  map[string]*engine.Rule // the engine's rules by name, made when first needed
}

// NewDetector returns a Detector evaluating with eng and keeping state in memory.
func NewDetector(eng *engine.Engine) *Detector {
	return NewDetectorState(eng, engine.NewMemoryState())
}

// NewDetectorState returns a Detector evaluating with eng and keeping state in st.
func NewDetectorState(eng *engine.Engine, st engine.State) *Detector {
	return &Detector{eng: eng, state: st}
}

// EvaluateContext appends the detections for events to dst. An error comes from the state
// store; the detections of the events before it are returned.
func (d *Detector) EvaluateContext(ctx context.Context, dst []Detection, events []event.Event) ([]Detection, error) {
	return d.evaluate(ctx, dst, events, nil)
}

// evaluate is EvaluateContext; rows, when not nil, gets the index in events
// of each detection's event appended.
func (d *Detector) evaluate(ctx context.Context, dst []Detection, events []event.Event, rows *[]int) ([]Detection, error) {
	// one time for the batch: its events arrived together, and windows and
	// suppression periods are minutes long
	now := time.Now
	if d.Clock != nil {
		now = d.Clock
	}
	at := now()
	for i := range events {
		var err error
		d.matches, err = d.eng.Process(ctx, &events[i], d.state, at, d.matches[:0])
		for j := range d.matches {
			m := &d.matches[j]
			if len(m.Actions) == 0 {
				continue // every action held back by suppression or its condition
			}
			dst = append(dst, FromMatch(m))
			if rows != nil {
				*rows = append(*rows, i)
			}
		}
		if err != nil {
			return dst, fmt.Errorf("evaluate event %s: %w", events[i].ID, err)
		}
	}
	return dst, nil
}

// Evaluate is EvaluateContext without a context, for callers whose state cannot fail
// (the default memory state); state errors end the evaluation early.
func (d *Detector) Evaluate(dst []Detection, events []event.Event) []Detection {
	dst, _ = d.EvaluateContext(context.Background(), dst, events)
	return dst
}

// actions returns the actions of rule whose verbs are given (a detection read
// back from its wire form, which keeps verbs only), as the rule set has them
// (with their parameters: kill's descendants, notify's webhook), its report
// first; verbs of a rule the rule set does not have stay bare.
func (d *Detector) actions(rule string, verbs []engine.Action) []engine.Action {
	r := d.rule(rule)
	if r == nil {
		return verbs
	}
	var out []engine.Action
	if rep := r.Report(); rep != nil {
		out = append(out, *rep)
	}
	used := make([]bool, len(r.Response))
	for _, v := range verbs {
		i := slices.IndexFunc(r.Response, func(a engine.Action) bool { return a.Action == v.Action && a.Action != engine.ActReport })
		for i >= 0 && used[i] {
			i = nextAction(r.Response, i, v.Action)
		}
		if i < 0 {
			out = append(out, v)
			continue
		}
		used[i] = true
		out = append(out, r.Response[i])
	}
	return out
}

// rule returns the engine's rule of name, nil if it has none.
func (d *Detector) rule(name string) *engine.Rule {
	if d.byName == nil {
		d.byName = make(map[string]*engine.Rule, len(d.eng.Rules()))
		for _, r := range d.eng.Rules() {
			d.byName[r.Name] = r
		}
	}
	return d.byName[name]
}

// nextAction returns the index of the next action of verb after i, -1 for none.
func nextAction(acts []engine.Action, i int, verb string) int {
	for j := i + 1; j < len(acts); j++ {
		if acts[j].Action == verb {
			return j
		}
	}
	return -1
}

// Batch decodes one stream record — a Parquet batch, zstd-framed as the sensor
// ships it or bare — and returns its detections and how many events it held.
// Undecodable input is an error wrapping event.ErrNotParquet.
//
// The record is read in two steps. First only the columns the rules read
// (engine.Engine.Columns) and those of HOST_STATS and SENSOR_HEARTBEAT events
// (for the anomaly model and the sensor registry, see Events): most batches
// match nothing, and the rest of their columns are never read. When an event
// matched, the rest of the batch is read, and the detections carry their
// events whole.
func (d *Detector) Batch(dst []Detection, data []byte) ([]Detection, int, error) {
	if d.decoder == nil {
		dec, err := batchDecoder(d.eng)
		if err != nil {
			return dst, 0, fmt.Errorf("decode batch: %w", err)
		}
		d.decoder, d.records = dec, event.NewRecordDecoder(dec)
	}
	var err error
	d.events, err = d.records.Decode(data, MaxBatchRows)
	if err != nil {
		return dst, 0, fmt.Errorf("decode batch: %w", err)
	}
	start := len(dst)
	d.rows = d.rows[:0]
	dst, err = d.evaluate(context.Background(), dst, d.events, &d.rows)
	if len(dst) > start {
		if cerr := d.complete(dst[start:]); cerr != nil {
			return dst[:start], len(d.events), cerr
		}
	}
	return dst, len(d.events), err
}

// batchDecoder returns the stream decoder of Batch for the rules of eng: it
// reads the columns they read, and those of HOST_STATS and SENSOR_HEARTBEAT
// events.
func batchDecoder(eng *engine.Engine) (*event.Decoder, error) {
	dec := event.NewStreamDecoder()
	if cols := eng.Columns(); cols != nil {
		cols = append(cols, event.TypeColumns(event.HostStats)...)
		cols = append(cols, event.TypeColumns(event.SensorHeartbeat)...)
		if err := dec.Project(cols); err != nil {
			return nil, err
		}
	}
	return dec, nil
}

// complete reads the columns of the last batch its first read left out and
// puts the whole events in ds, the batch's detections, rendering their
// outputs again.
func (d *Detector) complete(ds []Detection) error {
	evs, err := d.records.Complete()
	if err != nil {
		return fmt.Errorf("decode batch: %w", err)
	}
	d.events = evs
	for k := range ds {
		ds[k].Event = evs[d.rows[k]]
		if r := d.rule(ds[k].Rule); r != nil {
			ds[k].Output = output(r, &ds[k].Event)
		}
	}
	return nil
}
