package search

import (
	"errors"
	"fmt"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// Query is what a search asks for.
type Query struct {
	// Where is the condition; nil matches every event.
	Where *engine.Where
	// Since and Until bound the events' time: Since ≤ time < Until. Until
	// zero means no upper bound.
	Since, Until time.Time
	// Sensors, when not empty, are the only sensors searched.
	Sensors []string
	// Limit > 0 stops the search after that many matches.
	Limit int
}

// MaxLimit bounds a query's Limit.
const MaxLimit = 100_000

// NewQuery builds a query from its textual parts: where is a detection node in
// YAML (block or flow form; "" matches every event). Errors name the part
// that is wrong (--where with its line and field, --since, --limit).
func NewQuery(where string, since, until time.Time, sensors []string, limit int) (Query, error) {
	q := Query{Since: since, Until: until, Limit: limit}
	for _, s := range sensors {
		if s != "" {
			q.Sensors = append(q.Sensors, s)
		}
	}
	if where != "" {
		w, err := engine.ParseWhere("where", []byte(where))
		if err != nil {
			return q, err
		}
		q.Where = w
	}
	switch {
	case since.IsZero():
		return q, errors.New("since: a search needs the start of its time range")
	case !until.IsZero() && !until.After(since):
		return q, fmt.Errorf("until %s is not after since %s", until.Format(time.RFC3339), since.Format(time.RFC3339))
	case limit < 0 || limit > MaxLimit:
		return q, fmt.Errorf("limit %d: want 0 (no limit) to %d", limit, MaxLimit)
	}
	return q, nil
}

// inTime reports whether t (Unix nanoseconds) is in the query's time range.
func (q *Query) inTime(t int64) bool {
	return t >= q.Since.UnixNano() && (q.Until.IsZero() || t < q.Until.UnixNano())
}

// Match reports whether e satisfies the query's time range, sensors and
// condition.
func (q *Query) Match(e *event.Event) bool {
	if !q.inTime(e.TimeNanos) {
		return false
	}
	if len(q.Sensors) > 0 && !contains(q.Sensors, e.SensorID) {
		return false
	}
	return q.Where == nil || q.Where.Match(e)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
