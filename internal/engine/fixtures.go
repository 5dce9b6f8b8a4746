package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
)

// Fixture files, per rule, under <rules dir>/testdata/<rule>/: each a YAML list of
// events in rule-path shape ({routing: {...}, event: {...}}), evaluated in order
// through Process with a fresh memory state. An event without routing/event_type
// gets the rule's first event type; one without routing/event_time happens 1 ms
// after the previous one.
//
//   - match.yaml passes when the last event produces a detection of the rule (the
//     earlier events set up state: a parent process, the first N-1 of a count).
//     For a stateless rule every event must produce a detection, each on its own.
//   - nomatch.yaml passes when no event produces a detection of the rule.
//
// A detection counts even when suppression holds all its actions back.
const (
	MatchFixture   = "match.yaml"
	NoMatchFixture = "nomatch.yaml"
)

// FixtureResult is the outcome of one fixture file of one rule.
type FixtureResult struct {
	Rule string
	File string
	// Want is true for match.yaml (the rule must fire) and false for nomatch.yaml.
	Want bool
	// Got is whether the rule fired as match.yaml asks (for nomatch.yaml: on any
	// event).
	Got bool
	// Index is the event that decided the outcome: the first one that failed, or the
	// last one.
	Index int
	// Events is how many events the file holds.
	Events int
	// Stateful is whether only the last event of match.yaml had to fire.
	Stateful bool
	// Err is set when the fixture could not be read or evaluated.
	Err error
	// Explanation says why the fixture failed: for match.yaml how the rule's
	// conditions came out on the event that did not fire it (Rule.Explain), for
	// nomatch.yaml why the rule fired on the event that did (Match.Explain). Nil
	// when the fixture passed.
	Explanation *explain.Explanation
}

// Pass reports whether the fixture behaved as expected.
func (r FixtureResult) Pass() bool { return r.Err == nil && r.Got == r.Want }

func (r FixtureResult) String() string {
	base := path.Base(r.File)
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAIL %s %s: %v", r.Rule, base, r.Err)
	case r.Pass():
		return fmt.Sprintf("ok   %s %s (%d events)", r.Rule, base, r.Events)
	case r.Want && r.Stateful:
		return fmt.Sprintf("FAIL %s %s[%d]: the last event should produce a detection and did not", r.Rule, base, r.Index)
	case r.Want:
		return fmt.Sprintf("FAIL %s %s[%d]: event should match and did not", r.Rule, base, r.Index)
	default:
		return fmt.Sprintf("FAIL %s %s[%d]: event should not match and did", r.Rule, base, r.Index)
	}
}

// fixtureEpoch is the time of a fixture's first event when it gives none.
var fixtureEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// RunFixtures evaluates every rule against its fixtures in fsys under
// dir/testdata/<rule>/ and returns one result per rule and file, match.yaml first.
// A rule without both fixture files fails.
func RunFixtures(fsys fs.FS, dir string, rules []*Rule) []FixtureResult {
	var out []FixtureResult
	for _, r := range rules {
		eng, err := New([]*Rule{r})
		for _, fx := range []struct {
			name string
			want bool
		}{{MatchFixture, true}, {NoMatchFixture, false}} {
			file := path.Join(dir, "testdata", r.Name, fx.name)
			res := FixtureResult{Rule: r.Name, File: file, Want: fx.want, Stateful: r.Stateful(), Err: err}
			if err == nil {
				res = runFixture(eng, fsys, res)
			}
			out = append(out, res)
		}
	}
	return out
}

func runFixture(eng *Engine, fsys fs.FS, res FixtureResult) FixtureResult {
	r := eng.rules[0]
	events, err := ReadFixture(fsys, res.File, r.Events[0])
	if err != nil {
		res.Err = err
		return res
	}
	res.Events = len(events)
	fired := make([]bool, len(events))
	err = replay(eng, events, func(i int, ms []Match) {
		fired[i] = len(ms) > 0
		if fired[i] && !res.Want && res.Explanation == nil {
			res.Explanation = ms[0].Explain()
		}
	})
	if err != nil {
		res.Err = err
		return res
	}
	last := len(events) - 1
	res.Index = last
	switch {
	case !res.Want:
		for i, f := range fired {
			if f {
				res.Got, res.Index = true, i
				break
			}
		}
	case res.Stateful:
		res.Got = fired[last]
	default:
		res.Got = true
		for i, f := range fired {
			if !f {
				res.Got, res.Index = false, i
				break
			}
		}
	}
	if res.Want && !res.Got {
		res.Explanation = r.Explain(&events[res.Index])
	}
	return res
}

// replay evaluates events in order through Process with a fresh memory state, as
// fixture files are: an event without a time happens 1 ms after the previous one
// (the first at fixtureEpoch). fn sees each event's matches, valid until it
// returns. Errors name the event.
func replay(eng *Engine, events []event.Event, fn func(i int, ms []Match)) error {
	st := NewMemoryState()
	now := fixtureEpoch
	var ms []Match
	var err error
	for i := range events {
		if t := events[i].TimeNanos; t != 0 {
			now = time.Unix(0, t).UTC()
		} else if i > 0 {
			now = now.Add(time.Millisecond)
		}
		events[i].TimeNanos = now.UnixNano()
		ms, err = eng.Process(context.Background(), &events[i], st, now, ms[:0])
		if err != nil {
			return fmt.Errorf("event %d: %w", i, err)
		}
		fn(i, ms)
	}
	return nil
}

// ExplainEvents evaluates events in order against r alone, as a fixture file is
// evaluated (a fresh memory state; earlier events set up a parent process or the
// first matches of a count), and explains the last event: why r fired on it
// (Match.Explain), or how its conditions came out when it did not (Rule.Explain).
func ExplainEvents(r *Rule, events []event.Event) (*explain.Explanation, error) {
	if len(events) == 0 {
		return nil, errors.New("no events to explain")
	}
	eng, err := New([]*Rule{r})
	if err != nil {
		return nil, err
	}
	var x *explain.Explanation
	last := len(events) - 1
	err = replay(eng, events, func(i int, ms []Match) {
		if i == last && len(ms) > 0 {
			x = ms[0].Explain()
		}
	})
	if err != nil {
		return nil, err
	}
	if x == nil {
		x = r.Explain(&events[last])
	}
	return x, nil
}

// ReadFixture reads a YAML list of events in rule-path shape (see ParseEvents).
// Events without an event type get defaultType.
func ReadFixture(fsys fs.FS, file string, defaultType event.Type) ([]event.Event, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("missing fixture %s: every rule needs %s and %s: %w", file, MatchFixture, NoMatchFixture, err)
		}
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	return ParseEvents(file, data, defaultType)
}
