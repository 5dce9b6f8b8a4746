package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// Fixture files, per rule, under <rules dir>/testdata/<rule>/: events that must match
// and events that must not, each a YAML list of events in rule-path shape
// ({routing: {...}, event: {...}}). An event without routing/event_type gets the rule's
// first event type.
const (
	MatchFixture   = "match.yaml"
	NoMatchFixture = "nomatch.yaml"
)

// FixtureResult is the outcome of one fixture event.
type FixtureResult struct {
	Rule  string
	File  string
	Index int  // position of the event in its file
	Want  bool // the event must match
	Got   bool
	Err   error // fixture could not be read or decoded
}

// Pass reports whether the fixture behaved as expected.
func (r FixtureResult) Pass() bool { return r.Err == nil && r.Got == r.Want }

func (r FixtureResult) String() string {
	switch {
	case r.Err != nil:
		return fmt.Sprintf("FAIL %s %s: %v", r.Rule, r.File, r.Err)
	case r.Pass():
		return fmt.Sprintf("ok   %s %s[%d]", r.Rule, r.File, r.Index)
	case r.Want:
		return fmt.Sprintf("FAIL %s %s[%d]: event should match and did not", r.Rule, r.File, r.Index)
	default:
		return fmt.Sprintf("FAIL %s %s[%d]: event should not match and did", r.Rule, r.File, r.Index)
	}
}

// RunFixtures evaluates every rule against its fixtures in fsys under
// dir/testdata/<rule>/. A rule without both fixture files fails.
func RunFixtures(fsys fs.FS, dir string, rules []*Rule) []FixtureResult {
	var out []FixtureResult
	for _, r := range rules {
		for _, fx := range []struct {
			name string
			want bool
		}{{MatchFixture, true}, {NoMatchFixture, false}} {
			file := path.Join(dir, "testdata", r.Name, fx.name)
			events, err := ReadFixture(fsys, file, r.Events[0])
			if err != nil {
				out = append(out, FixtureResult{Rule: r.Name, File: file, Want: fx.want, Err: err})
				continue
			}
			for i := range events {
				out = append(out, FixtureResult{Rule: r.Name, File: file, Index: i, Want: fx.want, Got: r.Matches(&events[i])})
			}
		}
	}
	return out
}

// ReadFixture reads a YAML list of events in rule-path shape. Events without an
// event type get defaultType.
func ReadFixture(fsys fs.FS, file string, defaultType event.Type) ([]event.Event, error) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("missing fixture %s: every rule needs %s and %s", file, MatchFixture, NoMatchFixture)
		}
		return nil, fmt.Errorf("read fixture: %w", err)
	}
	var raw []map[string]any
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&raw); err != nil {
		return nil, fmt.Errorf("%s: want a YAML list of events: %w", file, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no events", file)
	}
	events := make([]event.Event, 0, len(raw))
	for i, tree := range raw {
		ev, err := event.FromTree(tree)
		if err != nil {
			return nil, fmt.Errorf("%s: event %d: %w", file, i, err)
		}
		if ev.Type == "" {
			ev.Type = defaultType
		}
		events = append(events, ev)
	}
	return events, nil
}
