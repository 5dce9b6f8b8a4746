package tuning

import (
	"fmt"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/event"
)

// suppressFields are the fields an entry from Suppress matches, in order, when
// the event has them: what acted (the process's path), on what (a file, a
// domain, an address), and the host it happened on.
var suppressFields = []string{
	"event/FILE_PATH", "event/TARGET/FILE_PATH", "event/DOMAIN_NAME", "event/DESTINATION/IP_ADDRESS",
}

// hostFields name the host; the first the event has is used.
var hostFields = []string{"routing/hostname", "routing/sensor_id"}

type suggestion struct {
	Tuning []suggestEntry `yaml:"tuning"`
}

type suggestEntry struct {
	Rules      []string           `yaml:"rules,flow"`
	Exceptions []suggestException `yaml:"exceptions"`
}

type suggestException struct {
	Name   string     `yaml:"name"`
	Fields []string   `yaml:"fields,flow"`
	Comps  []string   `yaml:"comps,flow"`
	Values [][]string `yaml:"values"`
}

// Suppress returns a tuning file (see the package doc) with one entry that
// would suppress rule for events like ev: an exception on ev's key fields — the
// process path, the file, domain or address it acted on, and its host — each
// compared with is. It is a suggestion for a person to review (detection names
// the detection it comes from); nothing applies it.
func Suppress(rule, detection string, ev *event.Event) (string, error) {
	if rule == "" {
		return "", fmt.Errorf("suppress: the detection names no rule")
	}
	ex := suggestException{Name: "false_positive_" + shortID(detection)}
	add := func(path string) bool {
		f, err := event.Lookup(path)
		if err != nil || f.Kind != event.String || !f.AppliesTo(ev.Type) {
			return false
		}
		v := f.Str(ev)
		if v == "" {
			return false
		}
		ex.Fields = append(ex.Fields, path)
		ex.Comps = append(ex.Comps, "is")
		if len(ex.Values) == 0 {
			ex.Values = [][]string{nil}
		}
		ex.Values[0] = append(ex.Values[0], v)
		return true
	}
	for _, p := range suppressFields {
		add(p)
	}
	for _, p := range hostFields {
		if add(p) {
			break
		}
	}
	if len(ex.Fields) == 0 {
		return "", fmt.Errorf("suppress: the event of detection %s has none of the fields an exception would match", detection)
	}
	b, err := yaml.Marshal(suggestion{Tuning: []suggestEntry{{Rules: []string{rule}, Exceptions: []suggestException{ex}}}})
	if err != nil {
		return "", fmt.Errorf("suppress: %w", err)
	}
	head := fmt.Sprintf("# For review: suppresses rule %s where detection %s was marked a false positive.\n"+
		"# Not applied: add it to a tuning file of your rule sources once it is right.\n", rule, detection)
	return head + string(b), nil
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	if id == "" {
		return "detection"
	}
	return id
}
