package sigma

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// mods are the modifiers of a field ("Field|contains|all").
type mods map[string]bool

// mode is how a string value is compared: is, contains, startswith or endswith.
func (m mods) mode() string {
	for _, x := range []string{"contains", "startswith", "endswith"} {
		if m[x] {
			return x
		}
	}
	return "is"
}

// target is what a Sigma field stands for in one context: a rule path, a value
// known in advance (the record type on a context that stands for one), or a
// field Vigil's events do not carry.
type target interface {
	// exists is the node that holds when the field is present: the exists
	// modifier, and negated, a null value.
	exists() (*importer.Node, error)
	// value is the node that holds when the field matches one value.
	value(m mods, v *yaml.Node) (*importer.Node, error)
}

// refusal is an error that names the field it is about; others get the field's
// name put in front of them.
type refusal struct{ msg string }

func (r *refusal) Error() string { return r.msg }

func refuse(format string, args ...any) error {
	return &refusal{msg: fmt.Sprintf(format, args...)}
}

// pathTarget compares a rule path: strings with the Sigma string modifiers,
// numbers with gt, gte, lt and lte.
type pathTarget struct{ path string }

func (t pathTarget) exists() (*importer.Node, error) {
	return importer.Leaf(importer.OpExists, t.path, nil), nil
}

func (t pathTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	f, err := event.Lookup(t.path)
	if err != nil {
		return nil, fmt.Errorf("rule path of the field: %w", err)
	}
	if f.Kind == event.Number {
		n, err := parseNumber(v.Value)
		if err != nil {
			return nil, err
		}
		return numberNode(t.path, m, n)
	}
	if f.Kind == event.StringList && v.Value != "" && strings.Trim(v.Value, "*") == "" && !m["re"] && !m["cidr"] {
		// any value: a list with at least one element (hostPath: '*')
		return importer.Leaf(importer.OpExists, t.path, nil), nil
	}
	if f.Kind == event.StringList && m["cidr"] {
		return nil, fmt.Errorf("modifier cidr does not apply to the list %s (compare its addresses with values)", t.path)
	}
	return stringNode(t.path, m, v.Value)
}

func parseNumber(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", s)
	}
	return n, nil
}

// numberNode compares the number path p with n.
func numberNode(p string, m mods, n int64) (*importer.Node, error) {
	for _, x := range []string{"contains", "startswith", "endswith", "re", "cidr"} {
		if m[x] {
			return nil, fmt.Errorf("modifier %s does not apply to a number", x)
		}
	}
	switch {
	case m["gt"]:
		return importer.Leaf(importer.OpGreater, p, n), nil
	case m["gte"]:
		return importer.Leaf(importer.OpGreater, p, n-1), nil
	case m["lt"]:
		return importer.Leaf(importer.OpLower, p, n), nil
	case m["lte"]:
		return importer.Leaf(importer.OpLower, p, n+1), nil
	}
	return importer.Leaf(importer.OpIs, p, n), nil
}

// stringNode compares the string path p with the Sigma value s.
func stringNode(p string, m mods, s string) (*importer.Node, error) {
	for _, x := range []string{"gt", "gte", "lt", "lte"} {
		if m[x] {
			return nil, fmt.Errorf("modifier %s needs a number field", x)
		}
	}
	switch {
	case m["re"]:
		re, err := sigmaRegexp(m, s)
		if err != nil {
			return nil, err
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: re}, nil
	case m["cidr"]:
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("%q is not a network prefix", s)
		}
		return &importer.Node{Op: importer.OpCIDR, Path: p, CIDR: []string{pfx.Masked().String()}}, nil
	}
	return pattern(p, s, m.mode(), !m["cased"]), nil
}

// sigmaRegexp is the RE2 expression of a value with the re modifier and its
// flags (i, m, s). Sigma's expressions are case-sensitive unless i is given.
func sigmaRegexp(m mods, s string) (string, error) {
	flags := ""
	for _, f := range []string{"i", "m", "s"} {
		if m[f] {
			flags += f
		}
	}
	re := s
	if flags != "" {
		re = "(?" + flags + ")" + re
	}
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("regular expression %q is not RE2: %w", s, err)
	}
	return re, nil
}

// idTarget is a user, group or session id: numbers compare with the number path,
// and where name is set, anything else (a user name, as audit's interpreted
// records give it) with the name path. unset is audit's word for an id never set
// (4294967295).
type idTarget struct {
	num, name string
	unset     bool
}

// The id is always there: uid 0 is a value, not an absence.
func (t idTarget) exists() (*importer.Node, error) { return importer.True(), nil }

func (t idTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	s := v.Value
	if t.unset && (strings.EqualFold(s, "unset") || s == "-1") {
		s = "4294967295"
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return numberNode(t.num, m, n)
	}
	if t.name == "" {
		return nil, fmt.Errorf("%q is not a number (Vigil has no name for this id)", s)
	}
	return pathTarget{path: t.name}.value(m, v)
}

// baseTarget is the last element of a path: comm, the name the kernel gives a
// process at exec, is the last element of the path it was run as, which argv[0]
// holds.
type baseTarget struct{ path string }

func (t baseTarget) exists() (*importer.Node, error) {
	return importer.Leaf(importer.OpExists, t.path, nil), nil
}

func (t baseTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	for _, x := range []string{"re", "cidr", "gt", "gte", "lt", "lte"} {
		if m[x] {
			return nil, fmt.Errorf("modifier %s does not apply to a program name taken from argv[0]", x)
		}
	}
	segs := splitWildcards(v.Value)
	var body strings.Builder
	for _, sg := range segs {
		switch sg.wild {
		case "*":
			body.WriteString("[^/]*")
		case "?":
			body.WriteString("[^/]")
		default:
			if strings.Contains(sg.text, "/") {
				return importer.False(), nil // a name has no /
			}
			body.WriteString(regexp.QuoteMeta(sg.text))
		}
	}
	re := body.String()
	switch m.mode() {
	case "contains":
		re = "[^/]*" + re + "[^/]*"
	case "startswith":
		re += "[^/]*"
	case "endswith":
		re = "[^/]*" + re
	}
	re = "^(?:.*/)?" + re + "$"
	if !m["cased"] {
		re = "(?i)" + re
	}
	return &importer.Node{Op: importer.OpMatches, Path: t.path, Re: re}, nil
}

// choice is one value a field can take in a context and what holds when it has
// it.
type choice struct {
	value string
	when  *importer.Node
}

// enumTarget is a field whose values are known in the context: the record type,
// the syscall, Initiated. A value matches the choices it matches; exact makes
// wildcards and the string modifiers errors, for fields whose values cannot all
// be listed.
type enumTarget struct {
	choices []choice
	exact   bool
}

func (t enumTarget) exists() (*importer.Node, error) { return importer.True(), nil }

func (t enumTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if t.exact {
		if err := exactValue(m, v.Value); err != nil {
			return nil, err
		}
	}
	var alts []*importer.Node
	for _, c := range t.choices {
		ok, err := matchConst(m, v.Value, c.value)
		if err != nil {
			return nil, err
		}
		if ok {
			alts = append(alts, c.when)
		}
	}
	return importer.Or(alts...), nil
}

// exactValue refuses a value that is not a plain word: a field whose values Vigil
// cannot list is compared with names only.
func exactValue(m mods, s string) error {
	for _, x := range []string{"contains", "startswith", "endswith", "re", "cidr", "gt", "gte", "lt", "lte"} {
		if m[x] {
			return fmt.Errorf("modifier %s is not supported here: give the name itself", x)
		}
	}
	for _, sg := range splitWildcards(s) {
		if sg.wild != "" {
			return fmt.Errorf("wildcards in %q are not supported here: give the name itself", s)
		}
	}
	return nil
}

// absentTarget is a field the record does not have: no value matches it, null
// does.
type absentTarget struct{}

func (absentTarget) exists() (*importer.Node, error) { return importer.False(), nil }
func (absentTarget) value(mods, *yaml.Node) (*importer.Node, error) {
	return importer.False(), nil
}

// refusedTarget is a field Vigil's events do not carry.
type refusedTarget struct{ err error }

func (t refusedTarget) exists() (*importer.Node, error)                { return nil, t.err }
func (t refusedTarget) value(mods, *yaml.Node) (*importer.Node, error) { return nil, t.err }

// unknownTarget stands for any field of a record Vigil has no events for: its
// comparisons are neither true nor false, so that a condition that can hold on
// such a record does not simplify to false.
type unknownTarget struct{}

const unknownPath = "?"

func (unknownTarget) exists() (*importer.Node, error) {
	return importer.Leaf(importer.OpExists, unknownPath, nil), nil
}
func (unknownTarget) value(mods, *yaml.Node) (*importer.Node, error) {
	return importer.Leaf(importer.OpExists, unknownPath, nil), nil
}

// matchConst reports whether the Sigma value s (with its modifiers) matches the
// known string c.
func matchConst(m mods, s, c string) (bool, error) {
	if m["re"] {
		expr, err := sigmaRegexp(m, s)
		if err != nil {
			return false, err
		}
		return regexp.MustCompile(expr).MatchString(c), nil
	}
	return evalString(pattern("", s, m.mode(), !m["cased"]), c)
}

// evalString evaluates a node made by pattern on the string c.
func evalString(n *importer.Node, c string) (bool, error) {
	lower := func(s string) string { return s }
	if n.Fold {
		lower = strings.ToLower
	}
	var ok bool
	switch n.Op {
	case importer.OpAnd, importer.OpOr:
		return false, errors.New("internal: pattern made an and/or node")
	case importer.OpExists:
		ok = c != ""
	case importer.OpIs:
		ok = lower(c) == lower(n.Value.(string))
	case importer.OpContains:
		ok = strings.Contains(lower(c), lower(n.Value.(string)))
	case importer.OpStarts:
		ok = strings.HasPrefix(lower(c), lower(n.Value.(string)))
	case importer.OpEnds:
		ok = strings.HasSuffix(lower(c), lower(n.Value.(string)))
	case importer.OpMatches:
		ok = regexp.MustCompile(n.Re).MatchString(c)
	default:
		switch {
		case n.IsTrue():
			return true, nil
		case n.IsFalse():
			return false, nil
		}
		return false, fmt.Errorf("internal: pattern made a %s node", n.Op)
	}
	return ok != n.Not, nil
}

// pattern translates a Sigma string value (with * and ? wildcards, \ escaping them)
// compared as mode: "is", "contains", "startswith" or "endswith".
func pattern(p, s, mode string, fold bool) *importer.Node {
	segs := splitWildcards(s)
	// Leading and trailing * turn into the mode; wildcards elsewhere need a regexp.
	if len(segs) > 0 && segs[0].wild == "*" {
		segs = segs[1:]
		switch mode {
		case "is":
			mode = "endswith"
		case "startswith":
			mode = "contains"
		}
	}
	if n := len(segs); n > 0 && segs[n-1].wild == "*" {
		segs = segs[:n-1]
		switch mode {
		case "is":
			mode = "startswith"
		case "endswith":
			mode = "contains"
		}
	}
	literal, plain := "", true
	for _, sg := range segs {
		if sg.wild != "" {
			plain = false
			break
		}
		literal += sg.text
	}
	if plain {
		op := map[string]string{"is": importer.OpIs, "contains": importer.OpContains,
			"startswith": importer.OpStarts, "endswith": importer.OpEnds}[mode]
		if literal == "" && op != importer.OpIs {
			// "*" alone, or contains "": anything, including empty.
			return importer.True()
		}
		if literal == "" {
			return importer.Negate(importer.Leaf(importer.OpExists, p, nil))
		}
		n := importer.Leaf(op, p, literal)
		n.Fold = fold
		return n
	}
	var b strings.Builder
	if fold {
		b.WriteString("(?i)")
	}
	if mode == "is" || mode == "startswith" {
		b.WriteString("^")
	}
	for _, sg := range segs {
		switch sg.wild {
		case "*":
			b.WriteString("(?s:.*)")
		case "?":
			b.WriteString("(?s:.)")
		default:
			b.WriteString(regexp.QuoteMeta(sg.text))
		}
	}
	if mode == "is" || mode == "endswith" {
		b.WriteString("$")
	}
	return &importer.Node{Op: importer.OpMatches, Path: p, Re: b.String()}
}

type segment struct {
	text string
	wild string // "*" or "?" for a wildcard segment
}

// splitWildcards splits a Sigma value into literal text and wildcards. \* \? and \\
// are escapes; any other backslash is literal.
func splitWildcards(s string) []segment {
	var out []segment
	var cur strings.Builder
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, segment{text: cur.String()})
			cur.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			cur.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			out = append(out, segment{wild: string(c)})
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out
}
