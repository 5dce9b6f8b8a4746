package edge

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

// Sink takes edge records, encoded (detect.EdgeRecord), to put on the stream at
// once: shipper.Shipper.Send. It must not block.
type Sink interface {
	Send(data []byte)
}

// Executor carries out a task on this host at once, at most once by task id,
// with the safety checks of a task the sensor polls (sensor/respond.Runner),
// and returns it finished: done or failed, with its result.
type Executor interface {
	Execute(ctx context.Context, t task.Task) task.Task
}

// Defaults of Options.
const (
	// DefaultMaxState bounds the markers, counters and kept events of the
	// stateful rules and suppressions: 8 to 24 MB (see the package
	// documentation).
	DefaultMaxState = 65536
	// DefaultMaxPending bounds the detections and tasks waiting to be sent.
	DefaultMaxPending = 1024
	// DefaultMaxActions bounds the edge actions waiting to be carried out.
	DefaultMaxActions = 64
	// DefaultTaskDeadline is the deadline an edge task records, after its creation.
	DefaultTaskDeadline = 5 * time.Minute
	// MinGap is the least time between two edge records: detections made closer
	// together than this share a record.
	MinGap = 10 * time.Millisecond
)

// Options configure an Evaluator.
type Options struct {
	// Rules are the rule set (rulesource.Set.Rules): the rules engine.Rule.Edge
	// refuses are left to the cloud.
	Rules []*engine.Rule
	// SensorID names the sensor in its tasks.
	SensorID string
	// Sink takes the edge records; nil: detections are only logged.
	Sink Sink
	// Executor carries out edge actions when Enforce is set; without Enforce
	// every edge action is a dry run, recorded as a finished task saying what it
	// would have done.
	Executor Executor
	Enforce  bool
	// MaxState, MaxPending and MaxActions bound the state, the records waiting
	// and the actions waiting (defaults DefaultMaxState, DefaultMaxPending,
	// DefaultMaxActions).
	MaxState   int
	MaxPending int
	MaxActions int
	// Log receives a line per detection and per action; slog.Default when nil.
	Log *slog.Logger
	// Now is the clock of windows, periods and tasks; time.Now when nil.
	Now func() time.Time
	// Updates, when set, brings new rule sets (rulesource.Set.Rules, loaded
	// again): each replaces the rules evaluated from the next event on, the
	// state kept (see SetRules). The sensor keeps capturing throughout.
	Updates <-chan []*engine.Rule
}

// Stats counts what an Evaluator did.
type Stats struct {
	Events     uint64 // evaluated
	Detections uint64
	Records    uint64 // edge records handed to the sink
	// Unsent are detections and tasks never handed to the sink: the pending
	// bound was reached, or one alone was too large for a record. The cloud's
	// evaluation of the batches still finds such detections.
	Unsent uint64
	// StateEntries are the markers and counters held; StateEvicted the live
	// ones dropped at the bound.
	StateEntries int
	StateEvicted uint64
	// Actions carried out (Enforce), dry runs, and those that failed (a full
	// queue included).
	Actions       uint64
	DryRuns       uint64
	ActionsFailed uint64
}

// Evaluator runs the edge rules on each event Observe is given; see the package
// documentation. Observe is called from one goroutine (the collector's); the
// rest is safe for concurrent use. A nil Evaluator evaluates nothing.
type Evaluator struct {
	o       Options
	rules   atomic.Pointer[compiledRules]
	state   *engine.MemoryState
	log     *slog.Logger
	now     func() time.Time
	matches []engine.Match
	events  atomic.Uint64
	stop    chan struct{} // closed by Close: ends the updates goroutine

	mu       sync.Mutex
	pending  detect.EdgeRecord
	lastSent time.Time
	timer    *time.Timer // a send waiting for MinGap to pass
	closed   bool
	stats    Stats

	actions chan job
	workers sync.WaitGroup
	close   sync.Once
}

// compiledRules is the compiled rules the sensor evaluates and the names of those
// left to the cloud.
type compiledRules struct {
	eng   *engine.Engine
	cloud []string
}

// compile splits rules into those a sensor may evaluate, compiled, and those
// left to the cloud.
func compile(rules []*engine.Rule) (*compiledRules, error) {
	rs := &compiledRules{}
	var edge []*engine.Rule
	for _, r := range rules {
		if ok, _ := r.Edge(); ok {
			edge = append(edge, r)
		} else {
			rs.cloud = append(rs.cloud, r.Name)
		}
	}
	eng, err := engine.New(edge)
	if err != nil {
		return nil, fmt.Errorf("edge: %w", err)
	}
	rs.eng = eng
	return rs, nil
}

// job is one detection's edge tasks, carried out in order.
type job struct {
	d     detect.Detection
	tasks []task.Task
}

// workers carry out edge actions; a detection's actions run in order on one.
const workers = 2

// New builds the evaluator of the rules of o.Rules a sensor may evaluate and
// starts its action workers; Close stops them.
func New(o Options) (*Evaluator, error) {
	if o.Enforce && o.Executor == nil {
		return nil, errors.New("edge: enforcing edge actions needs an executor")
	}
	o.MaxState = cmp.Or(o.MaxState, DefaultMaxState)
	o.MaxPending = cmp.Or(o.MaxPending, DefaultMaxPending)
	o.MaxActions = cmp.Or(o.MaxActions, DefaultMaxActions)
	e := &Evaluator{o: o, log: o.Log, now: o.Now, state: engine.NewBoundedMemoryState(o.MaxState),
		actions: make(chan job, o.MaxActions)}
	if e.log == nil {
		e.log = slog.Default()
	}
	if e.now == nil {
		e.now = time.Now
	}
	rs, err := compile(o.Rules)
	if err != nil {
		return nil, err
	}
	e.rules.Store(rs)
	e.stop = make(chan struct{})
	if o.Updates != nil {
		e.workers.Go(e.follow)
	}
	for range workers {
		e.workers.Go(e.work)
	}
	return e, nil
}

// Rules returns the rules the sensor evaluates.
func (e *Evaluator) Rules() []*engine.Rule { return e.rules.Load().eng.Rules() }

// CloudOnly returns the names of the rules left to the cloud.
func (e *Evaluator) CloudOnly() []string { return e.rules.Load().cloud }

// SetRules replaces the rule set evaluated from the next event on. The state
// is kept: a with child marker, count or suppression of a rule of the same
// name goes on counting (state is keyed by rule name); that of a rule no
// longer in the set expires with its window. A set that does not compile
// leaves the current one in place.
func (e *Evaluator) SetRules(rules []*engine.Rule) error {
	rs, err := compile(rules)
	if err != nil {
		return err
	}
	e.rules.Store(rs)
	e.log.Info("edge rules updated", "rules", len(rs.eng.Rules()), "cloud_only", len(rs.cloud))
	return nil
}

// follow applies the rule sets of Options.Updates until Close.
func (e *Evaluator) follow() {
	for {
		select {
		case <-e.stop:
			return
		case rules, ok := <-e.o.Updates:
			if !ok {
				return
			}
			if err := e.SetRules(rules); err != nil {
				e.log.Error("edge rules not updated: the current set stays", "error", err)
			}
		}
	}
}

// Observe evaluates ev against the edge rules, at once: each match whose
// actions were not all held back becomes a detection, sent to the sink (at
// once, or within MinGap of the last record), and its edge actions are queued
// for the workers. ev may be reused after Observe returns.
func (e *Evaluator) Observe(ev *event.Event) {
	if e == nil {
		return
	}
	now := e.now()
	// the memory state cannot fail
	e.matches, _ = e.rules.Load().eng.Process(context.Background(), ev, e.state, now, e.matches[:0])
	e.events.Add(1)
	for i := range e.matches {
		m := &e.matches[i]
		if len(m.Actions) == 0 {
			continue // every action held back by suppression or its condition
		}
		d := detect.FromMatch(m)
		d.Edge = true
		var tasks []task.Task
		for _, a := range m.Actions {
			if a.Edge {
				d.EdgeActions = append(d.EdgeActions, a.Action)
				tasks = append(tasks, e.task(&d, &a, now))
			}
		}
		// in the workflow's order: isolate, kill, snapshot
		slices.SortStableFunc(tasks, func(a, b task.Task) int {
			return slices.Index(detect.ResponseSteps, a.Action) - slices.Index(detect.ResponseSteps, b.Action)
		})
		e.log.Info("edge detection", "rule", d.Rule, "detection", d.ID, "severity", d.Severity, "pid", d.Event.PID,
			"path", d.Event.FilePath, "edge_actions", d.EdgeActions)
		e.add(func(r *detect.EdgeRecord) { r.Detections = append(r.Detections, d) }, func(s *Stats) { s.Detections++ })
		if len(tasks) > 0 {
			select {
			case e.actions <- job{d: d, tasks: tasks}:
			default:
				e.refuse(tasks, "the edge action queue is full (the sensor is carrying out others)")
			}
		}
	}
}

// add puts an entry in the pending record and sends it now, or once MinGap has
// passed since the last record; count counts the entry. At the pending bound
// the entry is counted unsent instead.
func (e *Evaluator) add(put func(*detect.EdgeRecord), count func(*Stats)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	count(&e.stats)
	if e.closed || len(e.pending.Detections)+len(e.pending.Tasks) >= e.o.MaxPending {
		e.stats.Unsent++
		return
	}
	put(&e.pending)
	if e.timer != nil {
		return // a send is due
	}
	if wait := MinGap - e.now().Sub(e.lastSent); wait > 0 {
		e.timer = time.AfterFunc(wait, func() {
			e.mu.Lock()
			e.timer = nil
			e.send()
			e.mu.Unlock()
		})
		return
	}
	e.send()
}

// send encodes the pending entries into records of at most
// detect.MaxEdgeRecordBytes and hands them to the sink; e.mu is held.
func (e *Evaluator) send() {
	r := e.pending
	e.pending = detect.EdgeRecord{}
	if len(r.Detections)+len(r.Tasks) == 0 {
		return
	}
	e.lastSent = e.now()
	e.encode(r)
}

// encode hands r to the sink, split in halves until each part fits a record;
// e.mu is held.
func (e *Evaluator) encode(r detect.EdgeRecord) {
	data, err := r.Encode()
	n := len(r.Detections) + len(r.Tasks)
	if err == nil && len(data) <= detect.MaxEdgeRecordBytes {
		e.stats.Records++
		if e.o.Sink != nil {
			e.o.Sink.Send(data)
		}
		return
	}
	if n == 1 {
		e.stats.Unsent++
		e.log.Error("edge record not sent: it cannot be encoded within a stream record", "bytes", len(data), "error", err)
		return
	}
	nd := len(r.Detections) / 2
	nt := len(r.Tasks) / 2
	if nd+nt == 0 { // one detection and one task
		nd = 1
	}
	e.encode(detect.EdgeRecord{Detections: r.Detections[:nd], Tasks: r.Tasks[:nt]})
	e.encode(detect.EdgeRecord{Detections: r.Detections[nd:], Tasks: r.Tasks[nt:]})
}

// Stats returns the counters so far.
func (e *Evaluator) Stats() Stats {
	if e == nil {
		return Stats{}
	}
	e.mu.Lock()
	st := e.stats
	e.mu.Unlock()
	st.Events = e.events.Load()
	st.StateEntries = e.state.Len()
	st.StateEvicted = e.state.Evicted()
	return st
}

// Close waits for the edge actions queued to finish, then sends what is pending
// at once. Observe must not be called after Close.
func (e *Evaluator) Close() {
	if e == nil {
		return
	}
	e.close.Do(func() {
		close(e.stop)
		close(e.actions)
		e.workers.Wait()
		e.mu.Lock()
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		e.send()
		e.closed = true
		e.mu.Unlock()
	})
}
