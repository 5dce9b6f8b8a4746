package detect

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"text/template"

	"github.com/vigil-sec/vigil/internal/event"
)

// OutputKey is the report metadata key of a detection's output: a Go template over
// the event in rule-path shape ({{ .event.USER }}), with the function path reading
// any rule path, derived and positional ones included
// ({{ path "event/ANCESTORS/1/FILE_NAME" }}). The Falco importer writes a rule's
// Falco output there.
const OutputKey = "output_template"

// outputs caches the parsed output templates by their text.
var outputs sync.Map // string → *template.Template, or error

// Output renders a report's output template for the event. A template that does
// not parse or run is an error; a path the event type lacks renders as <NA>.
func Output(text string, ev *event.Event) (string, error) {
	var base *template.Template
	if v, ok := outputs.Load(text); ok {
		if err, bad := v.(error); bad {
			return "", err
		}
		base = v.(*template.Template)
	} else {
		t, err := template.New("output").Option("missingkey=zero").
			Funcs(template.FuncMap{"path": func(string) (string, error) { return "", nil }}).Parse(text)
		if err != nil {
			err = fmt.Errorf("output template: %w", err)
			outputs.Store(text, err)
			return "", err
		}
		outputs.Store(text, t)
		base = t
	}
	t, err := base.Clone()
	if err != nil {
		return "", fmt.Errorf("output template: %w", err)
	}
	t.Funcs(template.FuncMap{"path": func(p string) (string, error) { return pathText(ev, p) }})
	var b strings.Builder
	if err := t.Execute(&b, ev.Tree()); err != nil {
		return "", fmt.Errorf("output template: %w", err)
	}
	return b.String(), nil
}

// pathText is the value of a rule path on the event, as text.
func pathText(ev *event.Event, p string) (string, error) {
	f, err := event.Lookup(p)
	if err != nil {
		return "", err
	}
	if !f.AppliesTo(ev.Type) {
		return "<NA>", nil
	}
	switch f.Kind {
	case event.Number:
		return strconv.FormatInt(f.Num(ev), 10), nil
	case event.StringList:
		return strings.Join(f.List(ev), " "), nil
	}
	return f.Str(ev), nil
}
