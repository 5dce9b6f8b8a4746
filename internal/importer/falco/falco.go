package falco

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

type list struct {
	items []string
	line  int
}

type macro struct {
	name string
	cond string
	line int
	ast  expr
	err  error
}

type rule struct {
	name       string
	desc       string
	cond       string
	output     string
	priority   string
	tags       []string
	enabled    bool
	source     string
	line       int
	exceptions []exception
	problem    string
}

type exception struct {
	name   string
	fields []string
	comps  []string
	values [][]value
	single bool // fields: is a single field, values a plain list
	line   int
}

// file is a loaded Falco rules file.
type file struct {
	name   string
	lists  map[string]*list
	macros map[string]*macro
	rules  []*rule
}

// ruleKeys are the rule keys Vigil reads or may safely ignore.
var ruleKeys = map[string]bool{
	"rule": true, "desc": true, "condition": true, "output": true, "priority": true,
	"tags": true, "enabled": true, "source": true, "exceptions": true, "append": true,
	"warn_evttypes": true, "skip-if-unknown-filter": true,
}

// Convert turns a Falco rules file into Vigil D&R rules, one document per rule (a
// rule whose condition spans event types with different fields becomes one rule per
// event type, named <rule>_<type>). Rules that cannot be converted faithfully are
// returned in skipped with a reason naming the rule, the construct and where it is;
// the error is for a file that is not a Falco rules file at all.
func Convert(name string, data []byte) (rules []importer.Rule, skipped []importer.Skipped, err error) {
	f, err := load(name, data)
	if err != nil {
		return nil, nil, err
	}
	names := importer.Names{}
	for _, r := range f.rules {
		out, err := f.convert(r, names)
		if err != nil {
			skipped = append(skipped, importer.Skipped{Name: r.name, Reason: err.Error(), Ignored: r.problem == "" && !r.enabled})
			continue
		}
		rules = append(rules, out...)
	}
	return rules, skipped, nil
}

func load(name string, data []byte) (*file, error) {
	f := &file{name: name, lists: map[string]*list{}, macros: map[string]*macro{}}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("%s: file is empty", name)
		}
		return nil, fmt.Errorf("%s: invalid YAML: %w", name, err)
	}
	top := doc.Content[0]
	if top.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: a Falco rules file is a list of rule, macro and list items", name, top.Line)
	}
	byName := map[string]*rule{}
	for _, item := range top.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("%s:%d: want a rule, macro or list item (a mapping)", name, item.Line)
		}
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			keys[item.Content[i].Value] = item.Content[i+1]
		}
		appendMode := false
		if a, ok := keys["append"]; ok {
			if err := a.Decode(&appendMode); err != nil {
				return nil, fmt.Errorf("%s:%d: append: want true or false", name, a.Line)
			}
		}
		if _, ok := keys["override"]; ok {
			n := scalarOf(keys["rule"]) + scalarOf(keys["macro"]) + scalarOf(keys["list"])
			if keys["rule"] != nil {
				r := &rule{name: n, line: item.Line, problem: "override: is not supported (rewrite the rule with the change applied)"}
				f.rules = append(f.rules, r)
				continue
			}
			return nil, fmt.Errorf("%s:%d: %s: override: is not supported (rewrite the item with the change applied)", name, item.Line, n)
		}
		switch {
		case keys["list"] != nil:
			ln := scalarOf(keys["list"])
			var items []string
			if it, ok := keys["items"]; ok {
				if err := it.Decode(&items); err != nil {
					return nil, fmt.Errorf("%s:%d: list %s: items: want a list of values: %w", name, it.Line, ln, err)
				}
			}
			var expanded []string
			for _, it := range items {
				if sub, ok := f.lists[it]; ok {
					expanded = append(expanded, sub.items...)
					continue
				}
				expanded = append(expanded, unquote(it))
			}
			if prev, ok := f.lists[ln]; ok && appendMode {
				prev.items = append(prev.items, expanded...)
				continue
			}
			f.lists[ln] = &list{items: expanded, line: item.Line}
		case keys["macro"] != nil:
			mn := scalarOf(keys["macro"])
			cond := scalarOf(keys["condition"])
			if prev, ok := f.macros[mn]; ok && appendMode {
				prev.cond += " " + cond
				continue
			}
			f.macros[mn] = &macro{name: mn, cond: cond, line: item.Line}
		case keys["rule"] != nil:
			rn := scalarOf(keys["rule"])
			if prev, ok := byName[rn]; ok && appendMode {
				if c := scalarOf(keys["condition"]); c != "" {
					prev.cond += " " + c
				}
				if ex, ok := keys["exceptions"]; ok {
					exs, err := f.exceptions(ex)
					if err != nil {
						prev.problem = err.Error()
					}
					prev.exceptions = append(prev.exceptions, exs...)
				}
				continue
			}
			r := &rule{name: rn, line: item.Line, enabled: true}
			if appendMode {
				r.problem = "append: true to a rule that is not defined earlier in the file"
			}
			for k := range keys {
				if !ruleKeys[k] && r.problem == "" {
					r.problem = fmt.Sprintf("rule key %s: is not supported", k)
				}
			}
			r.desc = scalarOf(keys["desc"])
			r.cond = scalarOf(keys["condition"])
			r.output = scalarOf(keys["output"])
			r.priority = scalarOf(keys["priority"])
			r.source = scalarOf(keys["source"])
			if t, ok := keys["tags"]; ok {
				if err := t.Decode(&r.tags); err != nil && r.problem == "" {
					r.problem = "tags: want a list of strings"
				}
			}
			if e, ok := keys["enabled"]; ok {
				if err := e.Decode(&r.enabled); err != nil && r.problem == "" {
					r.problem = "enabled: want true or false"
				}
			}
			if ex, ok := keys["exceptions"]; ok {
				exs, err := f.exceptions(ex)
				if err != nil && r.problem == "" {
					r.problem = err.Error()
				}
				r.exceptions = exs
			}
			byName[rn] = r
			f.rules = append(f.rules, r)
		case keys["required_engine_version"] != nil, keys["required_plugin_versions"] != nil:
		default:
			return nil, fmt.Errorf("%s:%d: unknown item (want rule, macro, list, required_engine_version or required_plugin_versions)", name, item.Line)
		}
	}
	return f, nil
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// unquote strips one level of quotes from a list item written as '"a b"'.
func unquote(s string) string {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1]
	}
	return s
}

func (f *file) exceptions(n *yaml.Node) ([]exception, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("exceptions: want a list")
	}
	var out []exception
	for _, item := range n.Content {
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			keys[item.Content[i].Value] = item.Content[i+1]
		}
		ex := exception{name: scalarOf(keys["name"]), line: item.Line}
		fields := keys["fields"]
		switch {
		case fields == nil:
			return nil, fmt.Errorf("exception %s (line %d): no fields:", ex.name, item.Line)
		case fields.Kind == yaml.ScalarNode:
			ex.single = true
			ex.fields = []string{fields.Value}
		default:
			if err := fields.Decode(&ex.fields); err != nil {
				return nil, fmt.Errorf("exception %s (line %d): fields: want a field or a list of fields", ex.name, item.Line)
			}
		}
		if c, ok := keys["comps"]; ok {
			if c.Kind == yaml.ScalarNode {
				ex.comps = []string{c.Value}
			} else if err := c.Decode(&ex.comps); err != nil {
				return nil, fmt.Errorf("exception %s (line %d): comps: want a list of operators", ex.name, item.Line)
			}
		}
		for len(ex.comps) < len(ex.fields) {
			if ex.single {
				ex.comps = append(ex.comps, "in")
			} else {
				ex.comps = append(ex.comps, "=")
			}
		}
		if len(ex.comps) != len(ex.fields) {
			return nil, fmt.Errorf("exception %s (line %d): %d comps for %d fields", ex.name, item.Line, len(ex.comps), len(ex.fields))
		}
		if v, ok := keys["values"]; ok {
			if v.Kind != yaml.SequenceNode {
				return nil, fmt.Errorf("exception %s (line %d): values: want a list", ex.name, item.Line)
			}
			if ex.single {
				var tuple []value
				for _, it := range v.Content {
					if it.Kind != yaml.ScalarNode {
						return nil, fmt.Errorf("exception %s (line %d): values: want a list of values for the single field %s", ex.name, it.Line, ex.fields[0])
					}
					tuple = append(tuple, value{s: it.Value})
				}
				ex.values = [][]value{tuple}
			} else {
				for _, t := range v.Content {
					if t.Kind != yaml.SequenceNode || len(t.Content) != len(ex.fields) {
						return nil, fmt.Errorf("exception %s (line %d): each value must be a list of %d items, one per field", ex.name, t.Line, len(ex.fields))
					}
					var tuple []value
					for _, it := range t.Content {
						switch it.Kind {
						case yaml.ScalarNode:
							tuple = append(tuple, value{s: it.Value})
						case yaml.SequenceNode:
							// a list for an in/pmatch comp: keep items joined for later
							var items []string
							if err := it.Decode(&items); err != nil {
								return nil, fmt.Errorf("exception %s (line %d): value: want values", ex.name, it.Line)
							}
							tuple = append(tuple, value{s: strings.Join(items, "\x00"), quoted: true})
						default:
							return nil, fmt.Errorf("exception %s (line %d): value: want a value or a list", ex.name, it.Line)
						}
					}
					ex.values = append(ex.values, tuple)
				}
			}
		}
		out = append(out, ex)
	}
	return out, nil
}

// exceptionExpr builds "not (tuple or tuple ...)" for the rule's exceptions as
// condition trees, or nil when no exception has values.
func (r *rule) exceptionExpr() expr {
	var alts []expr
	for _, ex := range r.exceptions {
		for _, tuple := range ex.values {
			var conj []expr
			for i, fld := range ex.fields {
				c := &cmpExpr{field: fld, op: ex.comps[i], pos: -1}
				switch c.op {
				case "in", "pmatch", "intersects":
					c.list = true
					if ex.single {
						c.values = tuple
					} else if tuple[i].quoted {
						for _, s := range strings.Split(tuple[i].s, "\x00") {
							c.values = append(c.values, value{s: s, quoted: true})
						}
					} else {
						c.values = []value{tuple[i]} // a list name
					}
				default:
					c.values = []value{tuple[i]}
				}
				conj = append(conj, c)
			}
			alts = append(alts, &andExpr{xs: conj, pos: -1})
		}
	}
	if len(alts) == 0 {
		return nil
	}
	return &notExpr{x: &orExpr{xs: alts, pos: -1}, pos: -1}
}

var severities = map[string]string{
	"emergency": "critical", "alert": "critical", "critical": "critical",
	"error": "high", "warning": "medium", "notice": "low",
	"informational": "info", "info": "info", "debug": "info",
}

var mitreID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// convert converts one rule.
func (f *file) convert(r *rule, names importer.Names) ([]importer.Rule, error) {
	where := fmt.Sprintf("%s:%d: rule %q", f.name, r.line, r.name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	switch {
	case r.problem != "":
		return nil, fail("%s", r.problem)
	case !r.enabled:
		return nil, fail("disabled (enabled: false)")
	case r.source != "" && r.source != "syscall":
		return nil, fail("source %s is not supported (only syscall rules)", r.source)
	case strings.TrimSpace(r.cond) == "":
		return nil, fail("no condition:")
	}
	sev, ok := severities[strings.ToLower(strings.TrimSpace(r.priority))]
	if !ok {
		if r.priority == "" {
			return nil, fail("no priority:")
		}
		return nil, fail("priority %q is not a Falco priority", r.priority)
	}
	c := &conv{file: f, rule: r}
	root, err := parseCond(r.cond)
	if err != nil {
		return nil, c.wrap(err, &src{what: "condition", text: r.cond})
	}
	top := &src{what: "condition", text: r.cond}
	if ex := r.exceptionExpr(); ex != nil {
		root = &andExpr{xs: []expr{root, ex}, pos: -1}
	}
	types, err := c.types(root, top)
	if err != nil {
		return nil, err
	}
	if types == nil {
		return nil, fail("cannot determine the event type: the condition does not restrict evt.type (use evt.type = …, evt.type in (…) or a macro such as spawned_process, open_read or outbound)")
	}
	if len(types) == 0 {
		return nil, fail("condition can never match: it requires event types that exclude each other")
	}

	// One detection per event type, then types with identical detections merged.
	type group struct {
		events []string
		node   *importer.Node
		key    string
	}
	var groups []*group
	for _, t := range event.Types {
		if !types[t] {
			continue
		}
		n, err := c.tr(root, t, false, top)
		if err != nil {
			return nil, err
		}
		n = importer.Simplify(n)
		if n.IsFalse() {
			continue
		}
		if n.Size() > importer.MaxSize {
			return nil, fail("condition expands to more than %d nodes", importer.MaxSize)
		}
		key, err := (&importer.Doc{Events: []string{"X"}, Detection: n}).Marshal()
		if err != nil {
			return nil, fail("%v", err)
		}
		merged := false
		for _, g := range groups {
			if g.key == string(key) {
				g.events = append(g.events, t)
				merged = true
				break
			}
		}
		if !merged {
			groups = append(groups, &group{events: []string{t}, node: n, key: string(key)})
		}
	}
	if len(groups) == 0 {
		return nil, fail("condition can never match on Vigil events")
	}

	output := strings.Join(strings.Fields(r.output), " ")
	md := []importer.KV{{Key: "severity", Value: sev}}
	md = append(md, importer.KV{Key: "category", Value: category(r.tags)})
	desc := strings.Join(strings.Fields(r.desc), " ")
	if desc == "" {
		desc = output
	}
	if desc != "" {
		md = append(md, importer.KV{Key: "description", Value: desc})
	}
	if output != "" {
		md = append(md, importer.KV{Key: "output", Value: output})
		md = append(md, importer.KV{Key: "output_template", Value: OutputTemplate(output)})
	}
	var mitre, other []string
	for _, t := range r.tags {
		if mitreID.MatchString(strings.ToUpper(t)) {
			mitre = append(mitre, strings.ToUpper(t))
		}
		other = append(other, t)
	}
	if len(mitre) > 0 {
		md = append(md, importer.KV{Key: "mitre", Value: mitre})
	}
	if len(other) > 0 {
		md = append(md, importer.KV{Key: "tags", Value: other})
	}
	md = append(md, importer.KV{Key: "source", Value: "falco"})
	md = append(md, importer.KV{Key: "source_rule", Value: r.name})

	base := importer.SnakeName(r.name)
	var out []importer.Rule
	for _, g := range groups {
		name := base
		if len(groups) > 1 {
			name = base + "_" + strings.ToLower(g.events[0])
		}
		name = names.Unique(name)
		doc := &importer.Doc{
			Comment: fmt.Sprintf("Imported from Falco rule %q (%s:%d).\nCondition: %s",
				r.name, f.name, r.line, strings.Join(strings.Fields(r.cond), " ")),
			Events:    g.events,
			Detection: g.node,
			Report:    importer.Report{Name: name, Metadata: md},
		}
		y, err := doc.Marshal()
		if err != nil {
			return nil, fail("%v", err)
		}
		out = append(out, importer.Rule{Name: name, YAML: y, Source: where})
	}
	return out, nil
}

// category is the report category: the first mitre_<tactic> tag's tactic, else
// the first tag, else "falco".
func category(tags []string) string {
	for _, t := range tags {
		if s, ok := strings.CutPrefix(t, "mitre_"); ok && s != "" {
			return importer.SnakeName(s)
		}
	}
	for _, t := range tags {
		if !mitreID.MatchString(strings.ToUpper(t)) {
			return importer.SnakeName(t)
		}
	}
	return "falco"
}

var outputField = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_.]*(\[[^\]]*\])?)`)

// OutputTemplate rewrites a Falco output template's %field references into Go
// template references over the event in rule-path shape ({{ .event.FILE_PATH }}),
// the form Vigil's notify bodies and suppression keys use. Fields Vigil has no
// equivalent for stay as written. proc.name and proc.pname are shown as the full
// executable path (the file name is derived from it and not part of the event tree).
func OutputTemplate(output string) string {
	return outputField.ReplaceAllStringFunc(output, func(m string) string {
		p, ok := outputPaths[m[1:]]
		if !ok {
			return m
		}
		return "{{ ." + strings.ReplaceAll(p, "/", ".") + " }}"
	})
}

var outputPaths = map[string]string{
	"proc.name":     "event/FILE_PATH",
	"proc.exepath":  "event/FILE_PATH",
	"proc.cmdline":  "event/COMMAND_LINE",
	"proc.pname":    "event/PARENT/FILE_PATH",
	"proc.pexepath": "event/PARENT/FILE_PATH",
	"proc.pcmdline": "event/PARENT/COMMAND_LINE",
	"proc.pid":      "event/PROCESS_ID",
	"proc.ppid":     "event/PARENT_PROCESS_ID",
	"user.name":     "event/USER",
	"user.uid":      "event/USER_ID",
	"fd.name":       "event/TARGET/FILE_PATH",
	"fd.sip":        "event/DESTINATION/IP_ADDRESS",
	"fd.sport":      "event/DESTINATION/PORT",
	"fd.cip":        "event/SOURCE/IP_ADDRESS",
	"fd.cport":      "event/SOURCE/PORT",
	"container.id":  "event/CONTAINER_ID",
	"evt.type":      "routing/event_type",
	"evt.time":      "routing/event_time",
}
