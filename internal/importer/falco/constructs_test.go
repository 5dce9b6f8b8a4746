package falco

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// constructCase is one case of testdata/constructs/*.yaml: a condition, converted
// as the rule "Test Rule" after testdata/prelude.yaml, and what must come of it.
type constructCase struct {
	Name      string `yaml:"name"`
	Condition string `yaml:"condition"`
	// Rule holds more keys of the rule item (exceptions, output, …).
	Rule map[string]any `yaml:"rule"`
	// Status is converted (the default), narrowed or skipped.
	Status string `yaml:"status"`
	// Reason is a fragment of a skipped rule's reason; Notes fragments of the notes.
	Reason string   `yaml:"reason"`
	Notes  []string `yaml:"notes"`
	// NotNotes are fragments no note may hold.
	NotNotes []string `yaml:"not_notes"`
	// Events are the event types of the converted rules, in order; YAML fragments
	// the converted rules must hold, NotYAML fragments they must not.
	Events  []string `yaml:"events"`
	YAML    []string `yaml:"yaml"`
	NotYAML []string `yaml:"not_yaml"`
	// Match and NoMatch are events in rule-path shape (the first event type of the
	// converted rules when they give none): one of the rules must fire on each
	// event of Match, none on any of NoMatch.
	Match   []map[string]any `yaml:"match"`
	NoMatch []map[string]any `yaml:"nomatch"`
}

func TestConstructs(t *testing.T) {
	prelude, err := os.ReadFile("testdata/prelude.yaml")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob("testdata/constructs/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no cases: %v", err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var cases []constructCase
		dec := yaml.NewDecoder(bytes.NewReader(data))
		dec.KnownFields(true)
		if err := dec.Decode(&cases); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for _, tc := range cases {
			t.Run(strings.TrimSuffix(filepath.Base(file), ".yaml")+"/"+tc.Name, func(t *testing.T) {
				runConstruct(t, prelude, tc)
			})
		}
	}
}

func runConstruct(t *testing.T, prelude []byte, tc constructCase) {
	item := map[string]any{"rule": "Test Rule", "desc": "a test", "condition": tc.Condition,
		"output": "proc=%proc.name file=%fd.name", "priority": "WARNING", "tags": []string{"host", "mitre_execution", "T1059"}}
	for k, v := range tc.Rule {
		item[k] = v
	}
	ruleYAML, err := yaml.Marshal([]any{item})
	if err != nil {
		t.Fatal(err)
	}
	res, err := ConvertSet([]File{{Name: "prelude.yaml", Data: prelude}, {Name: "case.yaml", Data: ruleYAML}})
	if err != nil {
		t.Fatalf("ConvertSet: %v", err)
	}
	o := res.Outcomes[len(res.Outcomes)-1]
	want := tc.Status
	if want == "" {
		want = "converted"
	}
	if o.Status.String() != want {
		t.Fatalf("status %s, want %s (reason: %s; notes: %v)", o.Status, want, o.Reason, o.Notes)
	}
	if !strings.Contains(o.Reason, tc.Reason) {
		t.Errorf("reason\n %s\nwant it to contain\n %s", o.Reason, tc.Reason)
	}
	if o.Status == Skipped && !strings.HasPrefix(o.Reason, `case.yaml:1: rule "Test Rule": `) {
		t.Errorf("reason does not name the file, line and rule: %s", o.Reason)
	}
	notes := strings.Join(o.Notes, "\n")
	for _, n := range tc.Notes {
		if !strings.Contains(notes+"\n"+o.Reason, n) {
			t.Errorf("notes\n %s\nlack %q", notes, n)
		}
	}
	for _, n := range tc.NotNotes {
		if strings.Contains(notes, n) {
			t.Errorf("notes\n %s\nhold %q", notes, n)
		}
	}
	if o.Status == Skipped {
		return
	}
	var all strings.Builder
	for _, r := range o.Rules {
		all.Write(r.YAML)
	}
	for _, frag := range tc.YAML {
		if !strings.Contains(all.String(), frag) {
			t.Errorf("converted YAML lacks %q:\n%s", frag, all.String())
		}
	}
	for _, frag := range tc.NotYAML {
		if strings.Contains(all.String(), frag) {
			t.Errorf("converted YAML holds %q:\n%s", frag, all.String())
		}
	}
	compiled := compile(t, o.Rules)
	var events []string
	for _, r := range compiled {
		events = append(events, r.Events...)
	}
	if tc.Events != nil && strings.Join(events, ",") != strings.Join(tc.Events, ",") {
		t.Errorf("event types %v, want %v", events, tc.Events)
	}
	for i, tree := range tc.Match {
		e := fixtureEvent(t, tree, events[0])
		if !matches(compiled, &e) {
			t.Errorf("match[%d] does not match %v\n%s", i, tree, all.String())
		}
	}
	for i, tree := range tc.NoMatch {
		e := fixtureEvent(t, tree, events[0])
		if matches(compiled, &e) {
			t.Errorf("nomatch[%d] matches %v\n%s", i, tree, all.String())
		}
	}
}

// fixtureEvent builds an event from its rule-path shape; one without an event type
// gets def.
func fixtureEvent(t *testing.T, tree map[string]any, def event.Type) event.Event {
	t.Helper()
	e, err := event.FromTree(tree)
	if err != nil {
		t.Fatalf("event %v: %v", tree, err)
	}
	if e.Type == "" {
		e.Type = def
	}
	return e
}

func compile(t *testing.T, rs []importer.Rule) []*engine.Rule {
	t.Helper()
	var out []*engine.Rule
	for _, r := range rs {
		er, err := engine.Parse(r.FileName(), r.YAML)
		if err != nil {
			t.Fatalf("engine.Parse refused the converted rule: %v\n%s", err, r.YAML)
		}
		out = append(out, er)
	}
	return out
}

func matches(rs []*engine.Rule, e *event.Event) bool {
	for _, r := range rs {
		if r.Matches(e) {
			return true
		}
	}
	return false
}
