package falco

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// Status is what became of one Falco rule.
type Status int

const (
	// Converted: the rule's whole condition is expressed in Vigil rules.
	Converted Status = iota
	// Narrowed: converted with part of the condition dropped, which Notes name
	// (a branch that holds only on syscalls the sensor does not report; metadata
	// Vigil events do not carry, read as Falco reads it when missing).
	Narrowed
	// Skipped: not converted; Reason says why.
	Skipped
)

func (s Status) String() string {
	return [...]string{"converted", "narrowed", "skipped"}[s]
}

// Outcome is what became of one Falco rule of a set.
type Outcome struct {
	// Rule is the Falco rule's name, File and Line where it is defined.
	Rule string
	File string
	Line int
	// Tags are the rule's tags (maturity_stable, …).
	Tags   []string
	Status Status
	// Disabled says the files leave the rule disabled (enabled: false). It is
	// converted all the same, so that the files can be measured and enabled.
	Disabled bool
	// Rules are the Vigil rules (Converted and Narrowed): one, or one per event
	// type when the condition needs different fields on different types.
	Rules []importer.Rule
	// Notes say what was dropped (Narrowed) and what is read through an
	// approximation.
	Notes []string
	// Reason says why the rule was skipped, naming the file, line, rule and the
	// construct.
	Reason string
	// NeverInFalco says a skipped rule can never match in Falco either, as the
	// files ship it (a template that waits for its list to be filled).
	NeverInFalco bool
}

// neverError is the reason of a rule whose condition can never match; falco says
// it cannot in Falco either.
type neverError struct {
	err   error
	falco bool
}

func (e *neverError) Error() string { return e.err.Error() }
func (e *neverError) Unwrap() error { return e.err }

// Result is a converted rule set.
type Result struct {
	Outcomes []Outcome
	// Warnings concern the files rather than one rule (a list item naming a list
	// defined after it).
	Warnings []string
	// Files says what each file requires: its required_engine_version and
	// required_plugin_versions, and the plugins Vigil does not have.
	Files []FileRequirements
}

// FileRequirements is what one file of a set requires.
type FileRequirements struct {
	Name          string
	EngineVersion string
	Plugins       []string
	Missing       []string
}

// ConvertSet converts Falco rules files as Falco loads them: in order, as one rule
// set, later files using and extending the lists, macros and rules of earlier ones
// (falco_rules.yaml, then the incubating and sandbox files, then the user's). The
// error is for a set Falco would refuse to load (a file that is not a rules file,
// an append or override of something never defined); rules that cannot be
// converted are outcomes with their reason.
func ConvertSet(files []File) (*Result, error) {
	st, err := loadSet(files)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	for _, f := range st.files {
		res.Files = append(res.Files, FileRequirements{Name: f.name, EngineVersion: f.engineVersion, Plugins: f.plugins, Missing: f.missing})
	}
	names := importer.Names{}
	for _, r := range st.rules {
		res.Outcomes = append(res.Outcomes, st.convert(r, names))
	}
	res.Warnings = st.warnings
	return res, nil
}

// Convert turns one Falco rules file into Vigil D&R rules, the one-file case of
// ConvertSet. Rules that cannot be converted, and rules the file disables, are
// returned in skipped with the reason (the disabled ones marked Ignored).
func Convert(name string, data []byte) (rules []importer.Rule, skipped []importer.Skipped, err error) {
	res, err := ConvertSet([]File{{Name: name, Data: data}})
	if err != nil {
		return nil, nil, err
	}
	rules, skipped = res.Split()
	return rules, skipped, nil
}

// Split returns the rules to write (converted, narrowed, enabled) and the rules
// that are not: skipped ones with their reason, disabled ones as Ignored.
func (r *Result) Split() (rules []importer.Rule, skipped []importer.Skipped) {
	for _, o := range r.Outcomes {
		switch {
		case o.Status == Skipped:
			skipped = append(skipped, importer.Skipped{Name: o.Rule, Reason: o.Reason})
		case o.Disabled:
			skipped = append(skipped, importer.Skipped{Name: o.Rule, Ignored: true,
				Reason: fmt.Sprintf("%s:%d: rule %q: disabled (enabled: false)", o.File, o.Line, o.Rule)})
		default:
			rules = append(rules, o.Rules...)
		}
	}
	return rules, skipped
}

var severities = map[string]string{
	"emergency": "critical", "alert": "critical", "critical": "critical",
	"error": "high", "warning": "medium", "notice": "low",
	"informational": "info", "info": "info", "debug": "info",
}

var mitreID = regexp.MustCompile(`^T\d{4}(\.\d{3})?$`)

// convert converts one rule of the set.
func (st *set) convert(r *rule, names importer.Names) Outcome {
	o := Outcome{Rule: r.name, File: r.file, Line: r.line, Tags: r.tags, Disabled: !r.enabled}
	rules, notes, err := st.translate(r, names)
	if err != nil {
		o.Status, o.Reason = Skipped, err.Error()
		var never *neverError
		o.NeverInFalco = errors.As(err, &never) && never.falco
		return o
	}
	o.Rules = rules
	o.Status = Converted
	for _, n := range notes {
		if n.kind == narrowNote {
			o.Status = Narrowed
		}
		if !n.informs() {
			o.Notes = append(o.Notes, n.text)
		}
	}
	return o
}

// translate translates one rule into its Vigil rules, with the notes on the
// translation.
func (st *set) translate(r *rule, names importer.Names) ([]importer.Rule, []note, error) {
	where := fmt.Sprintf("%s:%d: rule %q", r.file, r.line, r.name)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s: %s", where, fmt.Sprintf(format, args...))
	}
	switch {
	case r.problem != "":
		return nil, nil, fail("%s", r.problem)
	case r.source != "syscall" && r.source != "k8s_audit":
		msg := fmt.Sprintf("source %s is not supported yet (Vigil's events are the sensor's syscalls and the Kubernetes audit log)", r.source)
		if len(r.plugins) > 0 {
			msg += fmt.Sprintf("; its file requires the Falco plugin %s, which Vigil does not have", strings.Join(r.plugins, ", "))
		}
		return nil, nil, fail("%s", msg)
	case strings.TrimSpace(r.cond) == "":
		return nil, nil, fail("no condition:")
	}
	sev, ok := severities[strings.ToLower(strings.TrimSpace(r.priority))]
	if !ok {
		if r.priority == "" {
			return nil, nil, fail("no priority:")
		}
		return nil, nil, fail("priority %q is not a Falco priority", r.priority)
	}
	c := &conv{set: st, rule: r}
	top := &src{what: "condition", text: r.cond}
	root, err := parseCond(r.cond)
	if err != nil {
		return nil, nil, c.wrap(err, top)
	}
	if ex := r.exceptionExpr(); ex != nil {
		root = &andExpr{xs: []expr{root, ex}, pos: -1, end: -1}
	}
	types, err := c.types(root, top)
	if err != nil {
		return nil, nil, c.withPlugins(err)
	}
	if r.source == "k8s_audit" {
		// the audit log's events are of one type; evt.type is the syscall's
		types = typeSet{event.K8sAudit: true}
	}
	if types == nil {
		return nil, nil, fail("cannot determine the event type: the condition does not restrict evt.type (use evt.type = …, evt.type in (…) or a macro such as spawned_process, open_read or outbound)")
	}
	if calls := types.unreported(); len(calls) == len(types) {
		if len(calls) > 0 {
			return nil, nil, fail("the condition holds only on %s, which the sensor does not report", strings.Join(calls, ", "))
		}
		return nil, nil, fail("condition can never match: it requires event types that exclude each other")
	}
	typeNotes := c.notes

	// One detection per event type, then types with identical detections merged.
	type group struct {
		events []string
		node   *importer.Node
		key    string
	}
	var groups []*group
	var kept, dropped []note
	for _, t := range allTypes() {
		if !types[t] {
			continue
		}
		c.notes = nil
		n, err := c.tr(root, t, false, top)
		if err != nil {
			return nil, nil, c.withPlugins(err)
		}
		n = importer.Simplify(n)
		if n.IsFalse() {
			dropped = append(dropped, c.notes...)
			continue
		}
		kept = append(kept, c.notes...)
		if n.Size() > importer.MaxSize {
			return nil, nil, fail("condition expands to more than %d nodes", importer.MaxSize)
		}
		key, err := (&importer.Doc{Events: []string{"X"}, Detection: n}).Marshal()
		if err != nil {
			return nil, nil, fail("%v", err)
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
		msg := "condition can never match on Vigil events"
		inert := len(dropped) > 0
		for _, n := range dropped {
			inert = inert && n.kind == falcoNote
		}
		if inert {
			msg = "condition can never match, in Falco either"
		}
		if why := noteTexts(dropped, true); why != "" {
			msg += ": " + why
		}
		return nil, nil, &neverError{fail("%s", msg), inert}
	}
	notes := append(typeNotes, kept...)
	notes = uniqueNotes(notes)

	md := st.metadata(r, sev)
	base := importer.SnakeName(r.name)
	var out []importer.Rule
	for _, g := range groups {
		name := base
		if len(groups) > 1 {
			name = base + "_" + strings.ToLower(g.events[0])
		}
		name = names.Unique(name)
		rmd := append([]importer.KV(nil), md...)
		if output := strings.Join(strings.Fields(r.output), " "); output != "" {
			rmd = append(rmd, importer.KV{Key: "output", Value: output},
				importer.KV{Key: "output_template", Value: OutputTemplate(output, g.events)})
		}
		doc := &importer.Doc{
			Comment: fmt.Sprintf("Imported from Falco rule %q (%s:%d).\nCondition: %s",
				r.name, r.file, r.line, strings.Join(strings.Fields(r.cond), " ")),
			Events:    g.events,
			Detection: g.node,
			Report:    importer.Report{Name: name, Metadata: rmd},
		}
		y, err := doc.Marshal()
		if err != nil {
			return nil, nil, fail("%v", err)
		}
		out = append(out, importer.Rule{Name: name, YAML: y, Source: where, Notes: noteList(notes)})
	}
	return out, notes, nil
}

// withPlugins adds to the reason of a field Vigil does not know the plugins the
// rule's file requires that Vigil does not have: the field may be theirs.
func (c *conv) withPlugins(err error) error {
	if len(c.rule.plugins) == 0 || !strings.Contains(err.Error(), unknownField) {
		return err
	}
	return fmt.Errorf("%w (the file requires the Falco plugin %s, which Vigil does not have)", err, strings.Join(c.rule.plugins, ", "))
}

// uniqueNotes drops repeated notes and tells the notes of a group as one: the
// group, then each note's text.
func uniqueNotes(ns []note) []note {
	seen := map[string]bool{}
	groups := map[string]int{}
	var out []note
	for _, n := range ns {
		if seen[n.group+"\x00"+n.text] {
			continue
		}
		seen[n.group+"\x00"+n.text] = true
		if n.group == "" {
			out = append(out, n)
			continue
		}
		i, ok := groups[n.group]
		if !ok {
			groups[n.group] = len(out)
			out = append(out, note{kind: n.kind, text: n.group + ": " + n.text})
			continue
		}
		out[i].text += ", " + n.text
		if n.kind < out[i].kind {
			out[i].kind = n.kind
		}
	}
	return out
}

// noteTexts joins the texts of the notes (all kinds when all, else narrowing and
// approximation notes).
func noteTexts(ns []note, all bool) string {
	var texts []string
	for _, n := range uniqueNotes(ns) {
		if all || !n.informs() {
			texts = append(texts, n.text)
		}
	}
	return strings.Join(texts, "; ")
}

func noteList(ns []note) []string {
	var out []string
	for _, n := range ns {
		if !n.informs() {
			out = append(out, n.text)
		}
	}
	return out
}

// metadata is the report's metadata, output aside.
func (st *set) metadata(r *rule, sev string) []importer.KV {
	md := []importer.KV{{Key: "severity", Value: sev}, {Key: "category", Value: category(r.tags)}}
	desc := strings.Join(strings.Fields(r.desc), " ")
	if desc == "" {
		desc = strings.Join(strings.Fields(r.output), " ")
	}
	if desc != "" {
		md = append(md, importer.KV{Key: "description", Value: desc})
	}
	var mitre []string
	for _, t := range r.tags {
		if mitreID.MatchString(strings.ToUpper(t)) {
			mitre = append(mitre, strings.ToUpper(t))
		}
	}
	if len(mitre) > 0 {
		md = append(md, importer.KV{Key: "mitre", Value: mitre})
	}
	if len(r.tags) > 0 {
		md = append(md, importer.KV{Key: "tags", Value: r.tags})
	}
	for _, t := range r.tags {
		switch t {
		case "maturity_stable":
			md = append(md, importer.KV{Key: "maturity", Value: "stable"})
		case "maturity_incubating":
			md = append(md, importer.KV{Key: "maturity", Value: "incubating"})
		}
	}
	md = append(md, importer.KV{Key: "source", Value: "falco"}, importer.KV{Key: "source_rule", Value: r.name})
	return md
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

// exceptionExpr builds "not (tuple or tuple ...)" for the rule's exceptions as
// condition trees, or nil when no exception has values. Values are text, or the
// name of a list of the set for the in, pmatch and intersects comparisons.
func (r *rule) exceptionExpr() expr {
	var alts []expr
	for _, ex := range r.exceptions {
		for _, tuple := range ex.values {
			var conj []expr
			for i, fld := range ex.fields {
				c := &cmpExpr{field: fld, op: ex.comps[i], pos: -1, end: -1}
				switch c.op {
				case "in", "pmatch", "intersects":
					c.list = true
					if ex.single {
						c.values = tuple
					} else {
						c.values = []value{tuple[i]}
					}
				default:
					if ex.single {
						c.values = tuple[:1]
					} else {
						c.values = []value{tuple[i]}
					}
				}
				conj = append(conj, c)
			}
			alts = append(alts, &andExpr{xs: conj, pos: -1, end: -1})
		}
	}
	if len(alts) == 0 {
		return nil
	}
	return &notExpr{x: &orExpr{xs: alts, pos: -1, end: -1}, pos: -1, end: -1}
}

// Stable reports whether a rule's tags mark it as one of Falco's stable rules.
func (o Outcome) Stable() bool {
	for _, t := range o.Tags {
		if t == "maturity_stable" {
			return true
		}
	}
	return false
}
