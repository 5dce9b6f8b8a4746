// Package edge evaluates the rule set on the sensor's host, on each event as the
// collector decodes it, before it is batched: detections in milliseconds instead
// of after the hot path's batch (up to a second) and the backend's evaluation.
//
// It runs the backend's engine (internal/engine) over the same compiled rule set
// (internal/rulesource: the pack, the user's sources, tuning applied), less the
// rules engine.Rule.Edge keeps in the cloud: count rules and suppressions whose
// state spans hosts, and rules that say edge: false. A detection is the one the
// backend's evaluation of the same event makes (detect.New: the same id), marked
// Edge. It is sent at once as an edge record (detect.EdgeRecord) through the
// Sink, the shipper's Send: on the stream ahead of the batch that carries its
// event, through the spool while the stream is down. Records are at least MinGap
// apart: detections closer together share one. The detect function stores the
// edge's detection, publishes it and starts its response; when it evaluates the
// batch, the same detection id is already stored and nothing is added.
//
// State (with child and with descendant markers, count counters, suppression
// counters, and the events kept behind markers and counts for explanations) is
// the host's own, in an engine.MemoryState bounded to MaxState entries
// (DefaultMaxState, 65,536: about 120 bytes a marker or counter with the pack's
// key shapes, some 8 MB at the bound; a marked process keeps its event too, about
// 720 bytes for the pair, some 24 MB at the bound when every entry is one). At the
// bound the expired entries are dropped
// first, then the live ones that expire soonest (Stats.StateEvicted): a dropped
// marker is a with child match the edge misses, a dropped counter a count or a
// suppression period started again. The backend evaluates every batch as well,
// so nothing the edge forgets is lost to detection, only its speed.
//
// The rule set can be replaced while the sensor runs (Options.Updates,
// SetRules: vigil-sensor reloads its sources on SIGHUP): the new set applies
// from the next event, the state kept.
//
// Edge actions (isolate, kill, snapshot with edge: true in the rule) are tasks
// the sensor carries out itself, at once, on worker goroutines (MaxActions
// queued; beyond, a task fails saying so): through the Executor
// (sensor/respond.Runner.Execute: the pid reuse check, the allow lists, the
// state file's at-most-once) when Enforce is set, else as dry runs that record
// what they would have done. Their ids are the response workflow's
// (<detection id>-<action>), and each finished task goes in an edge record too:
// the detect function stores it in the tasks table, and its workflow leaves the
// detection's edge actions out (detect.Detection.EdgeActions).
package edge
