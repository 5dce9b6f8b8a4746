package falco

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// File is one Falco rules file of a set: a name for messages and its content.
type File struct {
	Name string
	Data []byte
}

type list struct {
	name  string
	items []listItem
	file  string
	line  int
	order int // position of the first definition in the set
	// resolved holds the items with earlier lists expanded (resolve).
	resolved []string
}

type listItem struct {
	s      string
	quoted bool // written in quotes inside the YAML value ('"a b"'): always text
}

type macro struct {
	name string
	cond string
	file string
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
	file       string
	line       int
	exceptions []exception
	// problem is set when the rule's items cannot be read; it is skipped with it.
	problem string
	// plugins are the plugins its file requires that Vigil does not have.
	plugins []string
}

type exception struct {
	name   string
	fields []string
	comps  []string
	values [][]value
	single bool // fields: is a single field, values a plain list
	line   int
}

// set is a loaded rule set: the items of its files in order, appends and overrides
// applied.
type set struct {
	lists    map[string]*list
	macros   map[string]*macro
	rules    []*rule
	byName   map[string]*rule
	warnings []string
	files    []fileInfo
}

// fileInfo is what a file requires.
type fileInfo struct {
	name          string
	engineVersion string
	plugins       []string // "name version" of each plugin required
	missing       []string // those Vigil does not have
}

// vigilPlugins are the Falco plugins whose fields Vigil's own events carry: the
// container plugin's container.* fields come from the sensor's container ids, the
// k8saudit plugins' ka.* fields from the K8S_AUDIT events of the audit log.
var vigilPlugins = map[string]bool{"container": true, "k8saudit": true, "k8saudit-eks": true,
	"k8saudit-gke": true, "k8saudit-aks": true, "k8saudit-ovh": true}

// ruleKeys are the keys of a rule item.
var ruleKeys = map[string]bool{
	"rule": true, "desc": true, "condition": true, "output": true, "priority": true,
	"tags": true, "enabled": true, "source": true, "exceptions": true, "append": true,
	"override": true, "warn_evttypes": true, "skip-if-unknown-filter": true,
}

// overridable are the keys override: may name, and how.
var overridable = map[string]map[string]bool{
	"rule": {"condition": true, "output": true, "desc": true, "tags": true, "exceptions": true,
		"priority": false, "enabled": false, "warn_evttypes": false, "skip-if-unknown-filter": false},
	"macro": {"condition": true},
	"list":  {"items": true},
}

// loadSet reads the files in order into one set. An error is a set Falco would not
// load: a file that is not a rules file, an item it cannot read, an append or
// override of something never defined before it.
func loadSet(files []File) (*set, error) {
	st := &set{lists: map[string]*list{}, macros: map[string]*macro{}, byName: map[string]*rule{}}
	for _, f := range files {
		if err := st.loadFile(f); err != nil {
			return nil, err
		}
	}
	st.resolveLists()
	return st, nil
}

func (st *set) loadFile(f File) error {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(f.Data)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("%s: file is empty", f.Name)
		}
		return fmt.Errorf("%s: invalid YAML: %w", f.Name, err)
	}
	top := doc.Content[0]
	if top.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s:%d: a Falco rules file is a list of rule, macro and list items", f.Name, top.Line)
	}
	info := fileInfo{name: f.Name}
	for _, item := range top.Content {
		if item.Kind != yaml.MappingNode {
			return fmt.Errorf("%s:%d: want a rule, macro or list item (a mapping)", f.Name, item.Line)
		}
		l := &loader{set: st, file: f.Name, info: &info, item: item, keys: map[string]*yaml.Node{}}
		for i := 0; i+1 < len(item.Content); i += 2 {
			l.keys[item.Content[i].Value] = item.Content[i+1]
		}
		if err := l.load(); err != nil {
			return err
		}
	}
	st.files = append(st.files, info)
	return nil
}

// loader reads one item of a file.
type loader struct {
	set  *set
	file string
	info *fileInfo
	item *yaml.Node
	keys map[string]*yaml.Node
}

func (l *loader) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", l.file, line, fmt.Sprintf(format, args...))
}

func (l *loader) load() error {
	switch {
	case l.keys["rule"] != nil:
		return l.rule()
	case l.keys["macro"] != nil:
		return l.macro()
	case l.keys["list"] != nil:
		return l.list()
	case l.keys["required_engine_version"] != nil:
		v := l.keys["required_engine_version"]
		if v.Kind != yaml.ScalarNode || v.Value == "" {
			return l.errf(v.Line, "required_engine_version: want a version (0.57.0, or a number)")
		}
		l.info.engineVersion = v.Value
		return nil
	case l.keys["required_plugin_versions"] != nil:
		return l.plugins(l.keys["required_plugin_versions"])
	}
	return l.errf(l.item.Line, "unknown item (want rule, macro, list, required_engine_version or required_plugin_versions)")
}

// plugins reads required_plugin_versions: a list of {name, version, alternatives}.
// The container plugin is Vigil's own container fields; any other plugin is noted
// for the rules of the file, which are skipped if they depend on it.
func (l *loader) plugins(n *yaml.Node) error {
	type alt struct {
		Name    string `yaml:"name"`
		Version string `yaml:"version"`
	}
	var ps []struct {
		Name         string `yaml:"name"`
		Version      string `yaml:"version"`
		Alternatives []alt  `yaml:"alternatives"`
	}
	if err := n.Decode(&ps); err != nil {
		return l.errf(n.Line, "required_plugin_versions: want a list of {name, version}: %v", err)
	}
	for i, p := range ps {
		if p.Name == "" || p.Version == "" {
			return l.errf(n.Content[i].Line, "required_plugin_versions: every plugin needs a name and a version")
		}
		l.info.plugins = append(l.info.plugins, p.Name+" "+p.Version)
		ok := vigilPlugins[p.Name]
		for _, a := range p.Alternatives {
			ok = ok || vigilPlugins[a.Name]
		}
		if !ok {
			l.info.missing = append(l.info.missing, p.Name+" "+p.Version)
		}
	}
	return nil
}

// mode is how an item changes an earlier one: define (or redefine), append, or
// override some keys.
type mode struct {
	append   bool
	override map[string]string // key → append or replace
}

func (l *loader) mode(kind, name string) (mode, error) {
	var m mode
	if a, ok := l.keys["append"]; ok {
		if err := a.Decode(&m.append); err != nil {
			return m, l.errf(a.Line, "%s %s: append: want true or false", kind, name)
		}
	}
	o, ok := l.keys["override"]
	if !ok {
		return m, nil
	}
	if m.append {
		return m, l.errf(o.Line, "%s %s: append: and override: cannot be combined (override: says how each key changes)", kind, name)
	}
	if err := o.Decode(&m.override); err != nil || len(m.override) == 0 {
		return m, l.errf(o.Line, "%s %s: override: want a mapping of keys to append or replace", kind, name)
	}
	keys := make([]string, 0, len(m.override))
	for k := range m.override {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		how := m.override[k]
		canAppend, known := overridable[kind][k]
		switch {
		case !known:
			return m, l.errf(o.Line, "%s %s: override: %s cannot be overridden (%s: %s)", kind, name, k, kind, overridableKeys(kind))
		case how != "append" && how != "replace":
			return m, l.errf(o.Line, "%s %s: override: %s: want append or replace, got %q", kind, name, k, how)
		case how == "append" && !canAppend:
			return m, l.errf(o.Line, "%s %s: override: %s can only be replaced", kind, name, k)
		case l.keys[k] == nil:
			return m, l.errf(o.Line, "%s %s: override: %s: %s, but the item has no %s:", kind, name, k, how, k)
		}
	}
	for k := range l.keys {
		if k != kind && k != "override" && m.override[k] == "" {
			return m, l.errf(l.keys[k].Line, "%s %s: %s: is not listed under override: (an override item changes only the keys it lists)", kind, name, k)
		}
	}
	return m, nil
}

func overridableKeys(kind string) string {
	var out []string
	for k := range overridable[kind] {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

func (l *loader) name(kind string) (string, error) {
	n := l.keys[kind]
	if n.Kind != yaml.ScalarNode || strings.TrimSpace(n.Value) == "" {
		return "", l.errf(n.Line, "%s: want a name", kind)
	}
	return n.Value, nil
}

func (l *loader) list() error {
	name, err := l.name("list")
	if err != nil {
		return err
	}
	m, err := l.mode("list", name)
	if err != nil {
		return err
	}
	var items []listItem
	if it, ok := l.keys["items"]; ok {
		if it.Kind != yaml.SequenceNode {
			return l.errf(it.Line, "list %s: items: want a list of values", name)
		}
		for _, v := range it.Content {
			if v.Kind != yaml.ScalarNode {
				return l.errf(v.Line, "list %s: items: want a list of values, not a nested list or mapping", name)
			}
			s, quoted := unquote(v.Value)
			items = append(items, listItem{s: s, quoted: quoted})
		}
	} else if !m.append && m.override == nil {
		return l.errf(l.item.Line, "list %s: no items:", name)
	}
	prev := l.set.lists[name]
	switch {
	case m.append || m.override["items"] == "append":
		if prev == nil {
			return l.errf(l.item.Line, "list %s: append to a list that is not defined earlier in the set", name)
		}
		prev.items = append(prev.items, items...)
	case m.override["items"] == "replace":
		if prev == nil {
			return l.errf(l.item.Line, "list %s: override of a list that is not defined earlier in the set", name)
		}
		prev.items = items
	case prev != nil:
		prev.items, prev.file, prev.line = items, l.file, l.item.Line
	default:
		l.set.lists[name] = &list{name: name, items: items, file: l.file, line: l.item.Line, order: len(l.set.lists)}
	}
	return nil
}

func (l *loader) macro() error {
	name, err := l.name("macro")
	if err != nil {
		return err
	}
	m, err := l.mode("macro", name)
	if err != nil {
		return err
	}
	cn, ok := l.keys["condition"]
	if !ok || cn.Kind != yaml.ScalarNode {
		return l.errf(l.item.Line, "macro %s: want a condition:", name)
	}
	prev := l.set.macros[name]
	switch {
	case m.append || m.override["condition"] == "append":
		if prev == nil {
			return l.errf(l.item.Line, "macro %s: append to a macro that is not defined earlier in the set", name)
		}
		prev.cond += " " + cn.Value
	case m.override["condition"] == "replace":
		if prev == nil {
			return l.errf(l.item.Line, "macro %s: override of a macro that is not defined earlier in the set", name)
		}
		prev.cond = cn.Value
	default:
		l.set.macros[name] = &macro{name: name, cond: cn.Value, file: l.file, line: l.item.Line}
	}
	return nil
}

func (l *loader) rule() error {
	name, err := l.name("rule")
	if err != nil {
		return err
	}
	m, err := l.mode("rule", name)
	if err != nil {
		return err
	}
	prev := l.set.byName[name]
	switch {
	case m.append:
		return l.appendRule(prev, name)
	case m.override != nil:
		return l.overrideRule(prev, name, m.override)
	case prev != nil && len(l.keys) == 2 && l.keys["enabled"] != nil:
		// A rule name and enabled: alone switch an earlier rule on or off.
		return l.decode(l.keys["enabled"], &prev.enabled, "enabled", "true or false", prev)
	case len(l.keys) == 2 && l.keys["enabled"] != nil:
		return l.errf(l.item.Line, "rule %s: enabled: for a rule that is not defined earlier in the set", name)
	}
	r := &rule{name: name, enabled: true, file: l.file, line: l.item.Line, source: "syscall", plugins: l.info.missing}
	var keys []string
	for k := range l.keys {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !ruleKeys[k] {
			r.problem = fmt.Sprintf("rule key %s: is not supported", k)
		}
	}
	r.desc = scalarOf(l.keys["desc"])
	r.cond = scalarOf(l.keys["condition"])
	r.output = scalarOf(l.keys["output"])
	r.priority = scalarOf(l.keys["priority"])
	if s := scalarOf(l.keys["source"]); s != "" {
		r.source = s
	}
	if t, ok := l.keys["tags"]; ok {
		_ = l.decode(t, &r.tags, "tags", "a list of strings", r)
	}
	if e, ok := l.keys["enabled"]; ok {
		_ = l.decode(e, &r.enabled, "enabled", "true or false", r)
	}
	if ex, ok := l.keys["exceptions"]; ok {
		exs, err := readExceptions(ex, nil)
		if err != nil && r.problem == "" {
			r.problem = err.Error()
		}
		r.exceptions = exs
	}
	if prev != nil {
		// A rule defined again replaces the earlier one, in its place.
		*prev = *r
		return nil
	}
	l.set.byName[name] = r
	l.set.rules = append(l.set.rules, r)
	return nil
}

// decode reads n into v; a value of the wrong type is the rule's problem.
func (l *loader) decode(n *yaml.Node, v any, key, want string, r *rule) error {
	if err := n.Decode(v); err != nil {
		if r.problem == "" {
			r.problem = fmt.Sprintf("%s:%d: %s: want %s", l.file, n.Line, key, want)
		}
		return err
	}
	return nil
}

// appendRule applies append: true, which appends to the condition and to the
// exceptions (values of an exception of the same name, or a new exception).
func (l *loader) appendRule(prev *rule, name string) error {
	if prev == nil {
		return l.errf(l.item.Line, "rule %s: append to a rule that is not defined earlier in the set", name)
	}
	for k, n := range l.keys {
		switch k {
		case "rule", "append", "condition", "exceptions", "source":
		default:
			return l.errf(n.Line, "rule %s: append: true appends condition: and exceptions: only (use override: for %s)", name, k)
		}
	}
	if c := scalarOf(l.keys["condition"]); c != "" {
		prev.cond += " " + c
	}
	if ex, ok := l.keys["exceptions"]; ok {
		exs, err := readExceptions(ex, prev.exceptions)
		if err != nil {
			return l.errf(ex.Line, "rule %s: %v", name, err)
		}
		prev.exceptions = mergeExceptions(prev.exceptions, exs)
	}
	return nil
}

// overrideRule applies override:, key by key.
func (l *loader) overrideRule(prev *rule, name string, o map[string]string) error {
	if prev == nil {
		return l.errf(l.item.Line, "rule %s: override of a rule that is not defined earlier in the set", name)
	}
	for k, how := range o {
		n := l.keys[k]
		switch k {
		case "condition", "output", "desc":
			if n.Kind != yaml.ScalarNode {
				return l.errf(n.Line, "rule %s: %s: want text", name, k)
			}
			field := map[string]*string{"condition": &prev.cond, "output": &prev.output, "desc": &prev.desc}[k]
			if how == "append" {
				*field += " " + n.Value
			} else {
				*field = n.Value
			}
		case "priority":
			prev.priority = n.Value
		case "tags":
			var tags []string
			if err := n.Decode(&tags); err != nil {
				return l.errf(n.Line, "rule %s: tags: want a list of strings", name)
			}
			if how == "append" {
				prev.tags = append(prev.tags, tags...)
			} else {
				prev.tags = tags
			}
		case "enabled":
			if err := n.Decode(&prev.enabled); err != nil {
				return l.errf(n.Line, "rule %s: enabled: want true or false", name)
			}
		case "exceptions":
			base := prev.exceptions
			if how == "replace" {
				base = nil
			}
			exs, err := readExceptions(n, base)
			if err != nil {
				return l.errf(n.Line, "rule %s: %v", name, err)
			}
			prev.exceptions = mergeExceptions(base, exs)
		}
	}
	return nil
}

func scalarOf(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// unquote strips one level of quotes from a list item written as '"a b"'.
func unquote(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '"' && s[len(s)-1] == '"' || s[0] == '\'' && s[len(s)-1] == '\'') {
		return s[1 : len(s)-1], true
	}
	return s, false
}

// snakeCase is a name of lower-case words joined by underscores.
var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)+$`)

// looksLikeList reports whether an undefined word in a condition's (…) is the name
// of a list rather than text: lower-case words joined by underscores whose last
// word is a plural or "list" (shell_binaries, allowed_image_list), or whose first
// says what lists of exceptions say (user_, known_, allowed_, trusted_). Process
// names with underscores (unix_chkpwd, c_rehash) are text, as Falco takes them.
func looksLikeList(v string) bool {
	if !snakeCase.MatchString(v) {
		return false
	}
	words := strings.Split(v, "_")
	last := words[len(words)-1]
	if last == "list" || strings.HasSuffix(last, "s") && !strings.HasSuffix(last, "ss") {
		return true
	}
	switch words[0] {
	case "user", "known", "allowed", "trusted":
		return true
	}
	return false
}

// warn adds a warning once.
func (st *set) warn(w string) {
	for _, x := range st.warnings {
		if x == w {
			return
		}
	}
	st.warnings = append(st.warnings, w)
}

// resolveLists expands, in each list, the items that name a list defined before
// it, as Falco does; an item naming a list defined after it stays text, with a
// warning.
func (st *set) resolveLists() {
	ordered := make([]*list, 0, len(st.lists))
	for _, l := range st.lists {
		ordered = append(ordered, l)
	}
	sort.Slice(ordered, func(i, j int) bool { return ordered[i].order < ordered[j].order })
	for _, l := range ordered {
		l.resolved = l.resolved[:0]
		for _, it := range l.items {
			if ref, ok := st.lists[it.s]; ok && !it.quoted {
				if ref.order < l.order {
					l.resolved = append(l.resolved, ref.resolved...)
					continue
				}
				st.warnings = append(st.warnings, fmt.Sprintf("%s:%d: list %s: item %s names a list defined after it (%s:%d), so it is the text %q, as in Falco",
					l.file, l.line, l.name, it.s, ref.file, ref.line, it.s))
			}
			l.resolved = append(l.resolved, it.s)
		}
	}
}

// readExceptions reads a rule's exceptions:. Exceptions already defined (for an
// append or override) may be given by name and values only.
func readExceptions(n *yaml.Node, defined []exception) ([]exception, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("exceptions: want a list")
	}
	var out []exception
	for _, item := range n.Content {
		if item.Kind != yaml.MappingNode {
			return nil, fmt.Errorf("exceptions (line %d): want a mapping with name, fields, comps and values", item.Line)
		}
		keys := map[string]*yaml.Node{}
		for i := 0; i+1 < len(item.Content); i += 2 {
			keys[item.Content[i].Value] = item.Content[i+1]
		}
		ex := exception{name: scalarOf(keys["name"]), line: item.Line}
		if ex.name == "" {
			return nil, fmt.Errorf("exception (line %d): no name:", item.Line)
		}
		fields := keys["fields"]
		if fields == nil {
			for _, d := range defined {
				if d.name == ex.name {
					ex.fields, ex.comps, ex.single = d.fields, d.comps, d.single
				}
			}
			if ex.fields == nil {
				return nil, fmt.Errorf("exception %s (line %d): no fields:", ex.name, item.Line)
			}
		} else if fields.Kind == yaml.ScalarNode {
			ex.single = true
			ex.fields = []string{fields.Value}
		} else if err := fields.Decode(&ex.fields); err != nil || len(ex.fields) == 0 {
			return nil, fmt.Errorf("exception %s (line %d): fields: want a field or a list of fields", ex.name, item.Line)
		}
		if c, ok := keys["comps"]; ok {
			ex.comps = nil
			if c.Kind == yaml.ScalarNode {
				ex.comps = []string{c.Value}
			} else if err := c.Decode(&ex.comps); err != nil {
				return nil, fmt.Errorf("exception %s (line %d): comps: want a list of operators", ex.name, item.Line)
			}
		}
		for len(ex.comps) < len(ex.fields) && keys["comps"] == nil {
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
			vals, err := exceptionValues(ex, v)
			if err != nil {
				return nil, err
			}
			ex.values = vals
		}
		out = append(out, ex)
	}
	return out, nil
}

func exceptionValues(ex exception, v *yaml.Node) ([][]value, error) {
	if v.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("exception %s (line %d): values: want a list", ex.name, v.Line)
	}
	if ex.single {
		var tuple []value
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("exception %s (line %d): values: want a list of values for the single field %s", ex.name, it.Line, ex.fields[0])
			}
			s, quoted := unquote(it.Value)
			tuple = append(tuple, value{s: s, quoted: quoted, pos: -1})
		}
		return [][]value{tuple}, nil
	}
	var out [][]value
	for _, t := range v.Content {
		if t.Kind != yaml.SequenceNode || len(t.Content) != len(ex.fields) {
			return nil, fmt.Errorf("exception %s (line %d): each value must be a list of %d items, one per field", ex.name, t.Line, len(ex.fields))
		}
		var tuple []value
		for _, it := range t.Content {
			switch it.Kind {
			case yaml.ScalarNode:
				s, quoted := unquote(it.Value)
				tuple = append(tuple, value{s: s, quoted: quoted, pos: -1})
			case yaml.SequenceNode:
				// a list of values for an in/pmatch comp, kept joined until used
				var items []string
				if err := it.Decode(&items); err != nil {
					return nil, fmt.Errorf("exception %s (line %d): value: want values", ex.name, it.Line)
				}
				tuple = append(tuple, value{s: strings.Join(items, "\x00"), quoted: true, pos: -1, inline: true})
			default:
				return nil, fmt.Errorf("exception %s (line %d): value: want a value or a list", ex.name, it.Line)
			}
		}
		out = append(out, tuple)
	}
	return out, nil
}

// mergeExceptions adds exs to base: values of an exception of a name base has are
// appended to it, others are added.
func mergeExceptions(base, exs []exception) []exception {
	out := append([]exception(nil), base...)
	for _, ex := range exs {
		merged := false
		for i := range out {
			if out[i].name == ex.name {
				out[i].values = append(append([][]value(nil), out[i].values...), ex.values...)
				merged = true
			}
		}
		if !merged {
			out = append(out, ex)
		}
	}
	return out
}
