package engine

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"text/template"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// Action verbs.
const (
	ActReport    = "report"
	ActTask      = "task"
	ActIsolate   = "isolate"
	ActRejoin    = "rejoin"
	ActKill      = "kill"
	ActSnapshot  = "snapshot"
	ActNotify    = "notify"
	ActAddTag    = "add tag"
	ActRemoveTag = "remove tag"
)

// Actions lists the action verbs.
var Actions = []string{ActReport, ActTask, ActIsolate, ActRejoin, ActKill, ActSnapshot, ActNotify, ActAddTag, ActRemoveTag}

// actionKeys lists, per verb, the keys it takes besides action, condition and
// suppression.
var actionKeys = map[string][]string{
	ActReport:    {"name", "metadata"},
	ActTask:      {"command", "args", "investigation"},
	ActIsolate:   {"edge"},
	ActRejoin:    nil,
	ActKill:      {"descendants", "edge"},
	ActSnapshot:  {"command", "max_bytes", "edge"},
	ActNotify:    {"webhook", "body"},
	ActAddTag:    {"tag", "ttl"},
	ActRemoveTag: {"tag"},
}

// Severities lists the accepted report severities, lowest first.
var Severities = []string{"info", "low", "medium", "high", "critical"}

// Maturities lists the accepted report maturities.
var Maturities = []string{"stable", "incubating"}

// DefaultSnapshotCommand is what snapshot runs when the rule names no command.
const DefaultSnapshotCommand = "dump_memory"

// Action is one entry of a rule's response: a verb and its parameters. Only the
// fields of its verb are set.
type Action struct {
	// Action is the verb: one of Actions.
	Action string
	// Line is the action's line in its file.
	Line int

	// report: Name (required) and Metadata (severity, category, mitre as a
	// comma-separated list, maturity, description and any other key as text).
	Name     string
	Metadata map[string]string
	// MITRE holds the report's ATT&CK technique ids (T1059, T1059.004).
	MITRE []string

	// task: the sensor command, its arguments, and whether it is an investigation
	// (read-only) task. snapshot: Command is the snapshot kind (dump_memory).
	Command       string
	Args          []string
	Investigation bool

	// kill: also kill the process's descendants.
	Descendants bool

	// snapshot: upper bound of the snapshot's size in bytes, 0 for no bound.
	MaxBytes int64

	// isolate, kill, snapshot: Edge (edge: true) has a sensor that evaluates the
	// rule on its host carry the action out itself, at once (package
	// sensor/edge); the response workflow then leaves it out.
	Edge bool

	// notify: the webhook (a URL, or a "{{ name }}" secret reference: see
	// WebhookSecret) and the body, a text/template over the detection.
	Webhook string
	Body    string

	// add tag / remove tag: the sensor tag and, for add tag, how long it lasts (0:
	// until removed).
	Tag string
	TTL time.Duration

	// Condition, when set, must hold for the action to run.
	Condition *Condition
	// Suppression, when set, limits how often the action runs.
	Suppression *Suppression

	body *template.Template
}

// Severity returns the report's severity, "info" when none is given.
func (a *Action) Severity() string {
	if s := a.Metadata["severity"]; s != "" {
		return s
	}
	return "info"
}

// WebhookSecret returns the secret name of a "{{ name }}" webhook reference.
func (a *Action) WebhookSecret() (string, bool) {
	m := secretRef.FindStringSubmatch(a.Webhook)
	if m == nil {
		return "", false
	}
	return m[1], true
}

// RenderBody executes a notify body over data (the detection), "" when the action
// has no body.
func (a *Action) RenderBody(data any) (string, error) {
	if a.body == nil {
		return "", nil
	}
	var b bytes.Buffer
	if err := a.body.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Condition is `severity <op> <level>` over the rule's report severity.
type Condition struct {
	Text  string // as written
	Op    string // >=, >, <=, <, ==, !=
	Level string // a severity
	rank  int
}

// Holds evaluates the condition for a report of the given severity.
func (c *Condition) Holds(severity string) bool { return c.holds(severityRank(severity)) }

func (c *Condition) holds(rank int) bool {
	switch c.Op {
	case ">=":
		return rank >= c.rank
	case ">":
		return rank > c.rank
	case "<=":
		return rank <= c.rank
	case "<":
		return rank < c.rank
	case "==":
		return rank == c.rank
	default:
		return rank != c.rank
	}
}

// Suppression runs an action at most MaxCount times per Period for each value of
// its Keys (Go text/templates over the event in rule-path shape, event.Tree()).
type Suppression struct {
	MaxCount int64
	Period   time.Duration
	Keys     []string
	keys     []*template.Template
}

// Key renders the suppression key of an action for an event tree.
func (s *Suppression) Key(tree map[string]any) (string, error) {
	var b strings.Builder
	for i, t := range s.keys {
		if i > 0 {
			b.WriteByte(0)
		}
		if err := t.Execute(&b, tree); err != nil {
			return "", err
		}
	}
	return b.String(), nil
}

var (
	mitreID    = regexp.MustCompile(`^T[0-9]{4}(\.[0-9]{3})?$`)
	secretRef  = regexp.MustCompile(`^\{\{\s*([A-Za-z_][A-Za-z0-9_./-]*)\s*\}\}$`)
	conditionR = regexp.MustCompile(`^\s*severity\s*(>=|<=|==|!=|>|<)\s*([a-z]+)\s*$`)
)

func severityRank(s string) int {
	for i, x := range Severities {
		if x == s {
			return i
		}
	}
	return 0
}

func (p *parser) response(n *yaml.Node, r *Rule) ([]Action, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, p.errf(n.Line, "response: want a list of actions, got %s", kindName(n))
	}
	var out []Action
	var errs []error // every action is parsed, so that all their errors are reported
	reports := 0
	for _, item := range n.Content {
		a, err := p.action(item, r)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if a.Action == ActReport {
			if reports++; reports > 1 {
				errs = append(errs, p.errf(item.Line, "a rule has at most one report"))
				continue
			}
		}
		out = append(out, a)
	}
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return out, nil
}

func (p *parser) action(item *yaml.Node, r *Rule) (Action, error) {
	a := Action{Line: item.Line}
	if item.Kind != yaml.MappingNode {
		return a, p.errf(item.Line, "response item: want a mapping with action:, got %s", kindName(item))
	}
	for i := 0; i+1 < len(item.Content); i += 2 {
		if item.Content[i].Value == "action" {
			s, err := p.scalar(item.Content[i+1], "action")
			if err != nil {
				return a, err
			}
			a.Action = s
		}
	}
	if a.Action == "" {
		return a, p.errf(item.Line, "response item without action:")
	}
	allowed, ok := actionKeys[a.Action]
	if !ok {
		return a, p.errf(item.Line, "unknown action %q (known: %s)", a.Action, strings.Join(Actions, ", "))
	}
	all := append([]string{"action"}, allowed...)
	all = append(all, "condition", "suppression")
	keys, err := p.mapping(item, all...)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Msg = "action " + a.Action + ": " + strings.TrimPrefix(e.Msg, p.prefix)
		}
		return a, err
	}
	sc := func(k string) (string, bool, error) {
		v, ok := keys[k]
		if !ok {
			return "", false, nil
		}
		s, err := p.scalar(v, k)
		return s, true, err
	}
	switch a.Action {
	case ActReport:
		name, ok, err := sc("name")
		if err != nil {
			return a, err
		}
		if !ok || name == "" {
			return a, p.errf(item.Line, "report needs a name:")
		}
		a.Name = name
		if md, ok := keys["metadata"]; ok {
			if err := p.metadata(md, &a); err != nil {
				return a, err
			}
		}
	case ActTask:
		cmd, ok, err := sc("command")
		if err != nil {
			return a, err
		}
		if !ok || strings.TrimSpace(cmd) == "" {
			return a, p.errf(item.Line, "task needs a command:")
		}
		a.Command = cmd
		if an, ok := keys["args"]; ok {
			if an.Kind != yaml.SequenceNode {
				return a, p.errf(an.Line, "args: want a list of strings, got %s", kindName(an))
			}
			if a.Args, err = p.strings(an, "args"); err != nil {
				return a, err
			}
		}
		if in, ok := keys["investigation"]; ok {
			if a.Investigation, err = p.boolean(in, "investigation"); err != nil {
				return a, err
			}
		}
	case ActKill:
		if dn, ok := keys["descendants"]; ok {
			if a.Descendants, err = p.boolean(dn, "descendants"); err != nil {
				return a, err
			}
		}
	case ActSnapshot:
		a.Command = DefaultSnapshotCommand
		if cmd, ok, err := sc("command"); err != nil {
			return a, err
		} else if ok && cmd != DefaultSnapshotCommand {
			return a, p.errf(keys["command"].Line, "snapshot command %q is not supported (want %s)", cmd, DefaultSnapshotCommand)
		}
		if mb, ok := keys["max_bytes"]; ok {
			if a.MaxBytes, err = p.integer(mb, "max_bytes"); err != nil {
				return a, err
			}
			if a.MaxBytes <= 0 {
				return a, p.errf(mb.Line, "max_bytes: want a positive number of bytes")
			}
		}
	case ActNotify:
		wn, ok := keys["webhook"]
		if !ok {
			return a, p.errf(item.Line, "notify needs a webhook: (a URL or a quoted \"{{ secret_name }}\")")
		}
		if wn.Kind != yaml.ScalarNode {
			return a, p.errf(wn.Line, "webhook: want a URL or a quoted \"{{ secret_name }}\" (quote it: YAML reads {{ }} as a mapping)")
		}
		a.Webhook = wn.Value
		if _, isSecret := a.WebhookSecret(); !isSecret {
			u, err := url.Parse(a.Webhook)
			if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				return a, p.errf(wn.Line, "webhook %q: want an http(s) URL or a \"{{ secret_name }}\" reference", a.Webhook)
			}
		}
		if body, ok, err := sc("body"); err != nil {
			return a, err
		} else if ok {
			t, err := template.New("body").Parse(body)
			if err != nil {
				return a, p.errf(keys["body"].Line, "body: %v", err)
			}
			a.Body, a.body = body, t
		}
	case ActAddTag, ActRemoveTag:
		tag, ok, err := sc("tag")
		if err != nil {
			return a, err
		}
		if !ok || tag == "" {
			return a, p.errf(item.Line, "%s needs a tag:", a.Action)
		}
		a.Tag = tag
		if tn, ok := keys["ttl"]; ok {
			if a.TTL, err = p.duration(tn, "ttl"); err != nil {
				return a, err
			}
		}
	}
	if en, ok := keys["edge"]; ok {
		if a.Edge, err = p.boolean(en, "edge"); err != nil {
			return a, err
		}
	}
	if cn, ok := keys["condition"]; ok {
		text, err := p.scalar(cn, "condition")
		if err != nil {
			return a, err
		}
		m := conditionR.FindStringSubmatch(text)
		if m == nil || !contains(Severities, m[2]) {
			return a, p.errf(cn.Line, "condition %q: want severity >= <level> (operators >=, >, <=, <, ==, !=; levels %s)", text, strings.Join(Severities, ", "))
		}
		a.Condition = &Condition{Text: text, Op: m[1], Level: m[2], rank: severityRank(m[2])}
	}
	if sn, ok := keys["suppression"]; ok {
		s, err := p.suppression(sn, r)
		if err != nil {
			return a, err
		}
		a.Suppression = s
	}
	return a, nil
}

func (p *parser) metadata(n *yaml.Node, a *Action) error {
	if n.Kind != yaml.MappingNode {
		return p.errf(n.Line, "metadata: want a mapping, got %s", kindName(n))
	}
	md := make(map[string]string, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if _, dup := md[k.Value]; dup {
			return p.errf(k.Line, "metadata %s given twice", k.Value)
		}
		switch v.Kind {
		case yaml.ScalarNode:
			md[k.Value] = v.Value
		case yaml.SequenceNode:
			items, err := p.strings(v, "metadata "+k.Value)
			if err != nil {
				return err
			}
			md[k.Value] = strings.Join(items, ",")
		default:
			return p.errf(v.Line, "metadata %s: want a value or a list, got %s", k.Value, kindName(v))
		}
		switch k.Value {
		case "severity":
			if !contains(Severities, v.Value) {
				return p.errf(v.Line, "severity %q is not one of %s", v.Value, strings.Join(Severities, ", "))
			}
		case "maturity":
			if !contains(Maturities, v.Value) {
				return p.errf(v.Line, "maturity %q is not one of %s", v.Value, strings.Join(Maturities, ", "))
			}
		case "mitre":
			ids, _ := p.strings(v, "mitre")
			for _, id := range ids {
				if !mitreID.MatchString(id) {
					return p.errf(v.Line, "mitre: %q is not an ATT&CK technique id like T1059 or T1059.004", id)
				}
			}
			a.MITRE = ids
		}
	}
	a.Metadata = md
	return nil
}

func (p *parser) suppression(n *yaml.Node, r *Rule) (*Suppression, error) {
	keys, err := p.mapping(n, "max_count", "period", "keys")
	if err != nil {
		return nil, err
	}
	s := &Suppression{MaxCount: 1}
	mc, ok := keys["max_count"]
	if !ok {
		return nil, p.errf(n.Line, "suppression needs max_count:")
	}
	if s.MaxCount, err = p.integer(mc, "max_count"); err != nil {
		return nil, err
	}
	if s.MaxCount < 1 {
		return nil, p.errf(mc.Line, "max_count: want at least 1")
	}
	pn, ok := keys["period"]
	if !ok {
		return nil, p.errf(n.Line, "suppression needs period: (e.g. 1h)")
	}
	if s.Period, err = p.duration(pn, "period"); err != nil {
		return nil, err
	}
	kn, ok := keys["keys"]
	if !ok {
		s.Keys = []string{"{{ .routing.sensor_id }}"}
	} else {
		if kn.Kind != yaml.SequenceNode || len(kn.Content) == 0 {
			return nil, p.errf(kn.Line, "keys: want a list of quoted templates such as \"{{ .routing.sensor_id }}\", got %s", kindName(kn))
		}
		for _, it := range kn.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, p.errf(it.Line, "keys item: want a quoted template such as \"{{ .event.FILE_PATH }}\", got %s (quote it: YAML reads {{ }} as a mapping)", kindName(it))
			}
			s.Keys = append(s.Keys, it.Value)
		}
	}
	// check the templates against events of every type the rule fires on
	types := r.Events
	if r.With != "" {
		types = r.ChildEvents
	}
	for i, k := range s.Keys {
		line := n.Line
		if kn != nil && i < len(kn.Content) {
			line = kn.Content[i].Line
		}
		t, err := template.New("key").Option("missingkey=error").Parse(k)
		if err != nil {
			return nil, p.errf(line, "suppression key %q: %v", k, err)
		}
		for _, typ := range types {
			ev := event.Event{Type: typ}
			if err := t.Execute(new(strings.Builder), ev.Tree()); err != nil {
				return nil, p.errf(line, "suppression key %q on %s events: %v", k, typ, trimTemplateErr(err))
			}
		}
		s.keys = append(s.keys, t)
	}
	return s, nil
}

func trimTemplateErr(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s, "template:") {
		return strings.TrimSpace(s[i+2:])
	}
	return s
}
