package respond

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/task"
)

// Action carries out one task and returns its result text (JSON evidence).
type Action func(ctx context.Context, t task.Task) (string, error)

// Runner polls a sensor's tasks, runs each at most once and reports the result.
type Runner struct {
	Source TaskSource
	// Bell, when set, is read at every poll interval and Source asked only
	// when it rang (and at least every FullPoll: cadence.TaskFullPoll when 0).
	Bell     Bell
	FullPoll time.Duration
	// SensorID names artifacts (artifacts/<sensor>/<task>/snapshot.tar).
	SensorID string
	// StatePath is the state file: the tasks already run (so none runs twice,
	// across restarts) and whether the host is isolated (re-applied on start,
	// e.g. after a reboot cleared bpffs). Required.
	StatePath string
	// Lake receives snapshot archives; snapshot tasks fail without one.
	Lake Lake
	// Isolation configures isolate and rejoin.
	Isolation Isolation
	// SnapshotMaxBytes bounds a snapshot archive (snapshot.DefaultMaxBytes when 0).
	SnapshotMaxBytes int64
	// Actions overrides or adds actions by name; the built-in ones are used
	// for the others.
	Actions map[string]Action
	Log     *slog.Logger
	Now     func() time.Time

	mu    sync.Mutex
	state *state
}

// taskRecord is what the state file keeps of a task.
type taskRecord struct {
	Action   string      `json:"action"`
	Status   task.Status `json:"status"` // running while it runs, then done or failed; expired if never run
	Result   string      `json:"result,omitempty"`
	Started  time.Time   `json:"started"`
	Ended    time.Time   `json:"ended,omitzero"`
	Reported bool        `json:"reported"`
}

// isolationRecord is the isolation the sensor has applied.
type isolationRecord struct {
	Isolated bool           `json:"isolated"`
	TaskID   string         `json:"task_id,omitempty"`
	Since    time.Time      `json:"since,omitzero"`
	Entries  []string       `json:"entries,omitempty"` // as configured, resolved again on refresh
	Allow    []netip.Prefix `json:"allow,omitempty"`   // as last resolved
}

type state struct {
	Tasks     map[string]*taskRecord `json:"tasks"`
	Isolation isolationRecord        `json:"isolation"`
}

// stateKeep is how long a task's record is kept: beyond the sources' window,
// so a task is never seen as new again.
const stateKeep = 8 * 24 * time.Hour

// maxResult bounds a result's text (the API takes bodies up to 64 KiB).
const maxResult = 32 << 10

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.Log != nil {
		return r.Log
	}
	return slog.Default()
}

func (r *Runner) load() error {
	if r.state != nil {
		return nil
	}
	if r.StatePath == "" {
		return errors.New("respond: no state file configured")
	}
	st := &state{Tasks: map[string]*taskRecord{}}
	raw, err := os.ReadFile(r.StatePath)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("respond: state: %w", err)
	default:
		if err := json.Unmarshal(raw, st); err != nil {
			return fmt.Errorf("respond: state file %s is damaged: %w (move it away to start afresh; tasks already run may then run again)", r.StatePath, err)
		}
		if st.Tasks == nil {
			st.Tasks = map[string]*taskRecord{}
		}
	}
	r.state = st
	return nil
}

// tempFile is the part of *os.File save writes the state through.
type tempFile interface {
	io.Writer
	Sync() error
	Close() error
	Name() string
}

// createTemp creates the file save writes the next state to before renaming it
// into place (os.CreateTemp; tests stand in for a failing disk).
var createTemp = func(dir, pattern string) (tempFile, error) {
	f, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// save writes the state file atomically and durably.
func (r *Runner) save() error {
	cut := r.now().Add(-stateKeep)
	for id, rec := range r.state.Tasks {
		if rec.Reported && rec.Started.Before(cut) {
			delete(r.state.Tasks, id)
		}
	}
	raw, err := json.MarshalIndent(r.state, "", "  ")
	if err != nil {
		return fmt.Errorf("respond: state file %s: encode: %w", r.StatePath, err)
	}
	dir := filepath.Dir(r.StatePath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("respond: state: %w", err)
	}
	tmp, err := createTemp(dir, ".respond-state-*")
	if err != nil {
		return fmt.Errorf("respond: state: %w", err)
	}
	defer os.Remove(tmp.Name())
	// a failed write or sync leaves the previous state file in place: a short
	// file is never renamed over it
	_, err = tmp.Write(raw)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), r.StatePath)
	}
	if err != nil {
		return fmt.Errorf("respond: state file %s: %w", r.StatePath, err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Poll runs one round: it reports results not yet reported, then runs every new
// task once, in order. It returns how many tasks it ran.
func (r *Runner) Poll(ctx context.Context) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(); err != nil {
		return 0, err
	}
	var errs []error
	// a task found running in the state file was cut short by a restart: it is
	// not run again
	for id, rec := range r.state.Tasks {
		if rec.Status == task.Running {
			rec.Status, rec.Result, rec.Ended = task.Failed, resultJSON(map[string]string{"error": "the sensor stopped while the task ran; it is not run again"}), r.now()
			r.log().Warn("task interrupted by a restart", "task", id, "action", rec.Action)
		}
	}
	if err := r.save(); err != nil {
		return 0, err
	}
	errs = append(errs, r.reportAll(ctx))

	list, err := r.Source.Pending(ctx)
	if err != nil {
		return 0, errors.Join(append(errs, fmt.Errorf("respond: poll: %w", err))...)
	}
	ran := 0
	for _, t := range list {
		if ctx.Err() != nil {
			break
		}
		if _, seen := r.state.Tasks[t.ID]; seen {
			continue
		}
		now := r.now()
		if !t.Deadline.IsZero() && now.After(t.Deadline) {
			// the workflow has given up on it: do not act late
			r.state.Tasks[t.ID] = &taskRecord{Action: t.Action, Status: task.Expired, Started: now, Ended: now, Reported: true}
			errs = append(errs, r.save())
			continue
		}
		rec := &taskRecord{Action: t.Action, Status: task.Running, Started: now}
		r.state.Tasks[t.ID] = rec
		// recorded before it runs: at most once, even across a crash
		if err := r.save(); err != nil {
			delete(r.state.Tasks, t.ID)
			return ran, errors.Join(append(errs, err)...)
		}
		if err := r.Source.Report(ctx, t.ID, task.Running, ""); err != nil && !errors.Is(err, ErrEnded) {
			r.log().Warn("report running", "task", t.ID, "err", err)
		}
		r.log().Info("task", "task", t.ID, "action", t.Action, "detection", t.DetectionID)
		result, err := r.run(ctx, t)
		ran++
		r.finish(rec, t, result, err)
		errs = append(errs, r.save(), r.report(ctx, t.ID, rec))
	}
	return ran, errors.Join(errs...)
}

// Execute carries out t at once, not polled from the Source (an edge action:
// package sensor/edge), with the checks of a polled task and at most once by
// its id: a task already in the state file is not run again, and is returned
// as it ended there. It returns t finished (done or failed, with its result);
// the state file records it as reported, since the caller reports it.
func (r *Runner) Execute(ctx context.Context, t task.Task) task.Task {
	r.mu.Lock()
	defer r.mu.Unlock()
	fail := func(err error) task.Task {
		t.Status, t.Result, t.Updated = task.Failed, resultJSON(map[string]string{"error": err.Error()}), r.now().UTC()
		return t
	}
	if err := r.load(); err != nil {
		return fail(err)
	}
	if rec, seen := r.state.Tasks[t.ID]; seen {
		if !rec.Status.Final() {
			return fail(fmt.Errorf("task %s is already running", t.ID))
		}
		t.Status, t.Result, t.Updated = rec.Status, rec.Result, rec.Ended.UTC()
		return t
	}
	rec := &taskRecord{Action: t.Action, Status: task.Running, Started: r.now(), Reported: true}
	r.state.Tasks[t.ID] = rec
	// recorded before it runs: at most once, even across a crash
	if err := r.save(); err != nil {
		delete(r.state.Tasks, t.ID)
		return fail(err)
	}
	r.log().Info("task", "task", t.ID, "action", t.Action, "detection", t.DetectionID, "edge", true)
	result, err := r.run(ctx, t)
	r.finish(rec, t, result, err)
	if err := r.save(); err != nil {
		r.log().Warn("state file not updated after the task", "task", t.ID, "err", err)
	}
	t.Status, t.Result, t.Updated = rec.Status, rec.Result, rec.Ended.UTC()
	return t
}

func orNull(s string) string {
	if s == "" || !json.Valid([]byte(s)) {
		return "null"
	}
	return s
}

// finish records how t ended in rec: its result, or its error with the result
// as evidence, bounded to maxResult.
func (r *Runner) finish(rec *taskRecord, t task.Task, result string, err error) {
	rec.Ended = r.now()
	if err != nil {
		rec.Status = task.Failed
		rec.Result = resultJSON(map[string]any{"error": err.Error(), "evidence": json.RawMessage(orNull(result))})
		r.log().Warn("task failed", "task", t.ID, "action", t.Action, "err", err)
	} else {
		rec.Status, rec.Result = task.Done, result
	}
	if len(rec.Result) > maxResult {
		rec.Result = resultJSON(map[string]any{"truncated": true, "result": rec.Result[:maxResult-256]})
	}
}

func (r *Runner) report(ctx context.Context, id string, rec *taskRecord) error {
	err := r.Source.Report(ctx, id, rec.Status, rec.Result)
	if err != nil && !errors.Is(err, ErrEnded) {
		return err // kept unreported: retried on the next poll
	}
	rec.Reported = true
	return r.save()
}

// waiting says whether the task ended and its result is not reported yet.
func (rec *taskRecord) waiting() bool { return !rec.Reported && rec.Status.Final() }

func (r *Runner) reportAll(ctx context.Context) error {
	var errs []error
	for id, rec := range r.state.Tasks {
		if rec.waiting() {
			errs = append(errs, r.report(ctx, id, rec))
		}
	}
	return errors.Join(errs...)
}

func (r *Runner) run(ctx context.Context, t task.Task) (out string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s: panic: %v", t.Action, p)
		}
	}()
	if a, ok := r.Actions[t.Action]; ok {
		return a(ctx, t)
	}
	switch t.Action {
	case "isolate":
		return r.isolate(ctx, t)
	case "rejoin":
		return r.rejoin(ctx, t)
	case "kill":
		return r.kill(ctx, t)
	case "snapshot":
		return r.snapshot(ctx, t)
	}
	return "", fmt.Errorf("action %q is not one this sensor carries out", t.Action)
}

// Run restores the isolation the state file records, then polls every poll
// interval (cadence.TaskPoll when not positive; with a Bell, only when it rang)
// and re-resolves the isolation's allow list every refresh interval, until ctx
// ends. Without a Source (a runner of edge actions only, see
// Execute) it only refreshes.
func (r *Runner) Run(ctx context.Context, poll, refresh time.Duration) error {
	if poll <= 0 {
		poll = cadence.TaskPoll
	}
	if refresh <= 0 {
		refresh = 5 * time.Minute
	}
	if err := r.Restore(ctx); err != nil {
		r.log().Error("restore isolation", "err", err)
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()
	last := r.now()
	var w bellWatch
	for {
		if r.Source != nil {
			r.round(ctx, &w)
		}
		if r.now().Sub(last) >= refresh {
			last = r.now()
			if err := r.Refresh(ctx); err != nil {
				r.log().Warn("refresh isolation", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func resultJSON(v any) string {
	raw, _ := json.Marshal(v)
	return string(raw)
}
