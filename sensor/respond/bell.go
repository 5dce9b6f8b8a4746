package respond

import (
	"context"
	"time"

	"github.com/vigil-sec/vigil/internal/cadence"
)

// Bell is a sensor's task bell: a number the backend raises whenever it
// creates a task for the sensor (internal/aws.TaskBells). Reading it costs a
// fraction of asking the API for the tasks.
type Bell interface {
	Seq(ctx context.Context, sensorID string) (int64, error)
}

// bellWatch decides, at each poll interval, whether the Source is asked: with
// no Bell always; with one when the bell changed since the last poll that
// succeeded, when the bell cannot be read, when results wait to be reported,
// when the last poll failed, and at least every full interval.
type bellWatch struct {
	polled   bool // a poll succeeded
	seq      int64
	lastPoll time.Time
	bellDown bool // the last read of the bell failed
}

// due reads the bell and says whether to poll, and the bell's value to keep
// once the poll succeeds.
func (r *Runner) due(ctx context.Context, w *bellWatch, now time.Time) (bool, int64) {
	if r.Bell == nil {
		return true, 0
	}
	seq, err := r.Bell.Seq(ctx, r.SensorID)
	if err != nil {
		if !w.bellDown && ctx.Err() == nil {
			r.log().Warn("task bell unreadable: asking the API for tasks at every interval until it is read again", "err", err)
		}
		w.bellDown = true
		return true, w.seq
	}
	if w.bellDown {
		r.log().Info("task bell read again")
		w.bellDown = false
	}
	full := r.FullPoll
	if full <= 0 {
		full = cadence.TaskFullPoll
	}
	return !w.polled || seq != w.seq || now.Sub(w.lastPoll) >= full || r.unreported(), seq
}

// unreported says whether an ended task's result waits to be reported.
func (r *Runner) unreported() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state == nil {
		return false
	}
	for _, rec := range r.state.Tasks {
		if rec.waiting() {
			return true
		}
	}
	return false
}

// round polls the Source when due, and records a poll that succeeded.
func (r *Runner) round(ctx context.Context, w *bellWatch) {
	now := r.now()
	poll, seq := r.due(ctx, w, now)
	if !poll {
		return
	}
	if _, err := r.Poll(ctx); err != nil {
		if ctx.Err() == nil {
			r.log().Warn("tasks", "err", err)
		}
		w.polled = false
		return
	}
	w.polled, w.seq, w.lastPoll = true, seq, now
}
