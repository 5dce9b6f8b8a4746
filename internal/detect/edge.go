package detect

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/vigil-sec/vigil/internal/task"
)

// EdgeRecord is what a sensor that evaluates rules on its host (package
// sensor/edge) puts on the stream, beside its Parquet batches and ahead of the
// batch that carries the events: the detections it made, and the tasks it
// carried out for their edge actions (finished: done or failed). The detect
// function stores them as it stores its own; ids are the same on both sides
// (DetectionID; task ids are <detection id>-<action>, as the response workflow
// names them), so the cloud's evaluation of the same batch adds nothing.
type EdgeRecord struct {
	Detections []Detection `json:"detections,omitempty"`
	Tasks      []task.Task `json:"tasks,omitempty"`
}

// edgeMagic starts every edge record; a Parquet batch starts with PAR1.
const edgeMagic = "VIGIL-EDGE/1\n"

// MaxEdgeRecordBytes bounds an encoded edge record: the Kinesis record limit (1
// MiB) with room to spare.
const MaxEdgeRecordBytes = 512 << 10

// ErrNotEdgeRecord is wrapped by DecodeEdgeRecord's errors: the data is not an
// edge record, or a damaged one. Such a record is poison, as undecodable Parquet
// is.
var ErrNotEdgeRecord = errors.New("not an edge record")

// IsEdgeRecord reports whether a stream record is an edge record rather than a
// Parquet batch.
func IsEdgeRecord(data []byte) bool { return bytes.HasPrefix(data, []byte(edgeMagic)) }

// Encode returns the record's stream form: the magic line, then the record as
// JSON (detections in their wire form, Detection.MarshalJSON).
func (r *EdgeRecord) Encode() ([]byte, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return nil, fmt.Errorf("encode edge record: %w", err)
	}
	return append([]byte(edgeMagic), raw...), nil
}

// DecodeEdgeRecord reads an edge record. The data is untrusted: it is refused
// over MaxEdgeRecordBytes, and so are tasks that are invalid or not finished.
func DecodeEdgeRecord(data []byte) (EdgeRecord, error) {
	var r EdgeRecord
	if !IsEdgeRecord(data) {
		return r, ErrNotEdgeRecord
	}
	if len(data) > MaxEdgeRecordBytes {
		return r, fmt.Errorf("%w: %d bytes, over %d", ErrNotEdgeRecord, len(data), MaxEdgeRecordBytes)
	}
	if err := json.Unmarshal(data[len(edgeMagic):], &r); err != nil {
		return EdgeRecord{}, fmt.Errorf("%w: %w", ErrNotEdgeRecord, err)
	}
	for i := range r.Tasks {
		t := &r.Tasks[i]
		if err := t.Validate(); err != nil {
			return EdgeRecord{}, fmt.Errorf("%w: %w", ErrNotEdgeRecord, err)
		}
		if !t.Status.Final() {
			return EdgeRecord{}, fmt.Errorf("%w: task %s is %s, not finished", ErrNotEdgeRecord, t.ID, t.Status)
		}
	}
	return r, nil
}

// EdgeTaskID is the id of the task of a detection's action: the one the response
// workflow gives it, so that the edge's task and the workflow's are one.
func EdgeTaskID(detectionID, action string) string { return detectionID + "-" + action }

// EdgeRecord reads an edge record the sensor with id sensorID sent (the
// record's partition key on the stream): a detection or task of another sensor,
// or a detection whose id is not its rule's and event's, makes the record
// poison (ErrNotEdgeRecord). Its detections are marked Edge and carry the
// actions of the Detector's rule of their name, as the Detector's own do.
func (d *Detector) EdgeRecord(sensorID string, data []byte) (EdgeRecord, error) {
	r, err := DecodeEdgeRecord(data)
	if err != nil {
		return r, err
	}
	for i := range r.Detections {
		x := &r.Detections[i]
		if x.Event.SensorID != sensorID || x.ID != DetectionID(x.Rule, x.Event.ID) {
			return EdgeRecord{}, fmt.Errorf("%w: detection %s of rule %s on event %s of sensor %q, sent by sensor %q",
				ErrNotEdgeRecord, x.ID, x.Rule, x.Event.ID, x.Event.SensorID, sensorID)
		}
		x.Edge = true
		x.Actions = d.actions(x.Rule, x.Actions)
	}
	for i := range r.Tasks {
		if r.Tasks[i].SensorID != sensorID {
			return EdgeRecord{}, fmt.Errorf("%w: task %s of sensor %q, sent by sensor %q", ErrNotEdgeRecord, r.Tasks[i].ID, r.Tasks[i].SensorID, sensorID)
		}
	}
	return r, nil
}

// StoreEdgeTasks keeps the finished tasks of an edge record in tasks. A task
// of the same id that was created first (by the response workflow, or vigil
// local's responder) and has not ended ends with the edge's result; one that
// has ended keeps its own.
func StoreEdgeTasks(ctx context.Context, tasks TaskRecorder, ts []task.Task) error {
	for _, t := range ts {
		stored, err := tasks.Create(ctx, t)
		if err == nil && !stored.Status.Final() {
			stored, err = tasks.Update(ctx, t.ID, t.Status, t.Result, t.Updated)
		}
		if err != nil && !stored.Status.Final() {
			return fmt.Errorf("store edge task %s: %w", t.ID, err)
		}
	}
	return nil
}
