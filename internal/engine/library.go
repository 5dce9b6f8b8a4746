package engine

import (
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Library holds the shared lists and macros of a rules directory: every YAML file
// whose top-level keys are lists: and/or macros:. Rules refer to them with
// `op: in list` + `list: <name>` and with `macro: <name>` nodes.
type Library struct {
	lists  map[string]*List
	macros map[string]*Macro
}

// List is a named list of values.
type List struct {
	Name  string
	File  string
	Line  int
	Items []string
	lines []int
}

// Macro is a named detection node (without event:), compiled where it is used.
type Macro struct {
	Name string
	File string
	Line int
	node *yaml.Node
}

// NewLibrary returns an empty library.
func NewLibrary() *Library {
	return &Library{lists: map[string]*List{}, macros: map[string]*Macro{}}
}

// IsLibrary reports whether data is a lists/macros file (a mapping with a top-level
// lists: or macros: key). Invalid YAML is not.
func IsLibrary(data []byte) bool {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return false
	}
	return isLibrary(doc.Content[0])
}

// Add parses a lists/macros file into the library. Names must be unique across all
// the files added. Macros are checked by Validate once every file is in.
func (l *Library) Add(file string, data []byte) error {
	p := newParser(file, "", l)
	top, err := p.document(data)
	if err != nil {
		return err
	}
	keys, err := p.mapping(top, "lists", "macros")
	if err != nil {
		return err
	}
	var errs []error // every list and macro is checked, so that all their errors are reported
	if n, ok := keys["lists"]; ok {
		if n.Kind != yaml.MappingNode {
			errs = append(errs, p.errf(n.Line, "lists: want a mapping of list names to lists of values, got %s", kindName(n)))
		} else {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := l.addList(p, file, n.Content[i], n.Content[i+1]); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if n, ok := keys["macros"]; ok {
		if n.Kind != yaml.MappingNode {
			errs = append(errs, p.errf(n.Line, "macros: want a mapping of macro names to detection nodes, got %s", kindName(n)))
		} else {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if err := l.addMacro(p, file, n.Content[i], n.Content[i+1]); err != nil {
					errs = append(errs, err)
				}
			}
		}
	}
	if len(errs) > 0 {
		return joinErrors(errs)
	}
	return nil
}

func (l *Library) addList(p *parser, file string, k, v *yaml.Node) error {
	if err := p.name(k, "list"); err != nil {
		return err
	}
	if prev := l.lists[k.Value]; prev != nil {
		return p.errf(k.Line, "list %s is already defined at %s:%d", k.Value, prev.File, prev.Line)
	}
	if v.Kind != yaml.SequenceNode {
		return p.errf(v.Line, "list %s: want a list of values, got %s", k.Value, kindName(v))
	}
	if len(v.Content) == 0 {
		return p.errf(v.Line, "list %s is empty", k.Value)
	}
	list := &List{Name: k.Value, File: file, Line: k.Line}
	for _, it := range v.Content {
		s, err := p.scalar(it, "list "+k.Value+" item")
		if err != nil {
			return err
		}
		list.Items = append(list.Items, s)
		list.lines = append(list.lines, it.Line)
	}
	l.lists[k.Value] = list
	return nil
}

func (l *Library) addMacro(p *parser, file string, k, v *yaml.Node) error {
	if err := p.name(k, "macro"); err != nil {
		return err
	}
	if prev := l.macros[k.Value]; prev != nil {
		return p.errf(k.Line, "macro %s is already defined at %s:%d", k.Value, prev.File, prev.Line)
	}
	if v.Kind != yaml.MappingNode {
		return p.errf(v.Line, "macro %s: want a detection node (a mapping with op:), got %s", k.Value, kindName(v))
	}
	for j := 0; j+1 < len(v.Content); j += 2 {
		if kk := v.Content[j].Value; kk == "event" || kk == "events" || kk == "target" {
			return p.errf(v.Content[j].Line, "macro %s: a macro has no %s: (it takes the event types of the rule using it)", k.Value, kk)
		}
	}
	l.macros[k.Value] = &Macro{Name: k.Value, File: file, Line: k.Line, node: v}
	return nil
}

func (p *parser) name(k *yaml.Node, what string) error {
	if k.Kind != yaml.ScalarNode || k.Value == "" || strings.ContainsAny(k.Value, " \t\n") {
		return p.errf(k.Line, "%s name: want a single word, got %s", what, kindName(k))
	}
	return nil
}

// Validate compiles every macro on its own (paths, ops, list and macro references,
// cycles) and returns all errors, one per line.
func (l *Library) Validate() error {
	var errs []string
	for _, m := range l.Macros() {
		p := newParser(m.File, "", l)
		p.prefix = "macro " + m.Name + ": "
		keys, err := p.mapping(m.node, nodeKeys...)
		if err == nil {
			_, err = p.node(m.node, keys, scope{macros: []string{m.Name}})
		}
		if err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// Lists returns the library's lists sorted by name.
func (l *Library) Lists() []*List {
	if l == nil {
		return nil
	}
	out := make([]*List, 0, len(l.lists))
	for _, x := range l.lists {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Macros returns the library's macros sorted by name.
func (l *Library) Macros() []*Macro {
	if l == nil {
		return nil
	}
	out := make([]*Macro, 0, len(l.macros))
	for _, x := range l.macros {
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (l *Library) list(name string) *List {
	if l == nil {
		return nil
	}
	return l.lists[name]
}

func (l *Library) macro(name string) *Macro {
	if l == nil {
		return nil
	}
	return l.macros[name]
}

func (l *Library) knownLists() string {
	if l == nil || len(l.lists) == 0 {
		return " (no shared lists are defined: add one to a lists file such as lists.yaml)"
	}
	return " (known: " + strings.Join(sortedKeys(l.lists), ", ") + ")"
}

func (l *Library) knownMacros() string {
	if l == nil || len(l.macros) == 0 {
		return " (no macros are defined: add one to a lists file such as lists.yaml)"
	}
	return " (known: " + strings.Join(sortedKeys(l.macros), ", ") + ")"
}
