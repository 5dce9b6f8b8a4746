package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// category is a Sigma log source category Vigil has events for.
type category struct {
	types  []string
	fields map[string]string // Sigma field → rule path
	// base is the part of the detection every event of the category satisfies
	// (file_event: the open created or truncated the file).
	base func(t string) *importer.Node
}

var processFields = map[string]string{
	"Image":             "event/FILE_PATH",
	"CommandLine":       "event/COMMAND_LINE",
	"ParentImage":       "event/PARENT/FILE_PATH",
	"ParentCommandLine": "event/PARENT/COMMAND_LINE",
	"User":              "event/USER",
	"ProcessId":         "event/PROCESS_ID",
	"ParentProcessId":   "event/PARENT_PROCESS_ID",
}

var categories = map[string]category{
	"process_creation": {types: []string{event.NewProcess}, fields: processFields},
	"file_event": {types: []string{event.FileOpen},
		fields: map[string]string{
			"Image":          "event/FILE_PATH",
			"User":           "event/USER",
			"ProcessId":      "event/PROCESS_ID",
			"TargetFilename": "event/TARGET/FILE_PATH",
		},
		base: func(string) *importer.Node {
			return &importer.Node{Op: importer.OpMatches, Path: "event/FILE_FLAGS", Re: `(^|,)(create|truncate)(,|$)`}
		}},
	"network_connection": {types: []string{event.NetworkConnect, event.NetworkAccept},
		fields: map[string]string{
			"Image":           "event/FILE_PATH",
			"User":            "event/USER",
			"ProcessId":       "event/PROCESS_ID",
			"DestinationIp":   "event/DESTINATION/IP_ADDRESS",
			"DestinationPort": "event/DESTINATION/PORT",
			"SourceIp":        "event/SOURCE/IP_ADDRESS",
			"SourcePort":      "event/SOURCE/PORT",
			"Protocol":        "event/PROTOCOL",
		}},
}

// unsupportedFields explain why a known Sigma field has no Vigil equivalent.
var unsupportedFields = map[string]string{
	"DestinationHostname": "Vigil's connection events carry no host name (DNS_REQUEST events have event/DOMAIN_NAME: write a separate rule)",
	"SourceHostname":      "Vigil's connection events carry no host name",
	"CurrentDirectory":    "Vigil's process events carry no working directory",
	"OriginalFileName":    "Linux executables have no original file name",
	"Hashes":              "Vigil's process events carry no hashes",
	"LogonId":             "Vigil's process events carry no logon id",
	"ParentUser":          "Vigil's process events carry no parent user",
}

var levels = map[string]string{
	"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical",
}

var (
	attackTechnique = regexp.MustCompile(`^attack\.(t\d{4}(\.\d{3})?)$`)
	attackTactic    = regexp.MustCompile(`^attack\.([a-z_-]+)$`)
)

// Convert turns a Sigma rule file (one or more YAML documents, one rule each) into
// Vigil D&R rules. Rules that cannot be converted faithfully are returned in skipped
// with the reason; the error is for a file that is not YAML.
func Convert(name string, data []byte) (rules []importer.Rule, skipped []importer.Skipped, err error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	names := importer.Names{}
	docs := 0
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return rules, skipped, fmt.Errorf("%s: invalid YAML: %w", name, err)
		}
		docs++
		if len(doc.Content) == 0 {
			continue
		}
		top := doc.Content[0]
		r, title, err := convertDoc(name, top, names)
		if err != nil {
			if title == "" {
				title = fmt.Sprintf("document %d", docs)
			}
			skipped = append(skipped, importer.Skipped{Name: title, Reason: err.Error(), Ignored: errors.Is(err, errNotImported)})
			continue
		}
		rules = append(rules, r...)
	}
	if docs == 0 {
		return nil, nil, fmt.Errorf("%s: file is empty", name)
	}
	return rules, skipped, nil
}

// errNotImported marks rules left out on purpose (deprecated, unsupported status).
var errNotImported = errors.New("not imported")

type ruleConv struct {
	file, title string
	line        int
	cat         category
	catName     string
}

func (c *ruleConv) errf(line int, format string, args ...any) error {
	return fmt.Errorf("%s:%d: rule %q: %s", c.file, line, c.title, fmt.Sprintf(format, args...))
}

func convertDoc(file string, top *yaml.Node, names importer.Names) ([]importer.Rule, string, error) {
	if top.Kind != yaml.MappingNode {
		return nil, "", fmt.Errorf("%s:%d: a Sigma rule is a mapping with title, logsource and detection", file, top.Line)
	}
	keys := map[string]*yaml.Node{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		keys[top.Content[i].Value] = top.Content[i+1]
	}
	c := &ruleConv{file: file, title: scalar(keys["title"]), line: top.Line}
	if c.title == "" {
		return nil, "", c.errf(top.Line, "no title:")
	}
	if a := scalar(keys["action"]); a != "" {
		return nil, c.title, c.errf(top.Line, "rule collections (action: %s) are not supported: write each rule out in full", a)
	}
	status := strings.ToLower(scalar(keys["status"]))
	maturity := "incubating"
	switch status {
	case "stable":
		maturity = "stable"
	case "test", "experimental", "":
	case "deprecated", "unsupported":
		return nil, c.title, fmt.Errorf("%s:%d: rule %q: status %s: %w", c.file, top.Line, c.title, status, errNotImported)
	default:
		return nil, c.title, c.errf(keys["status"].Line, "unknown status %q", status)
	}
	ls := keys["logsource"]
	if ls == nil || ls.Kind != yaml.MappingNode {
		return nil, c.title, c.errf(top.Line, "no logsource:")
	}
	lsKeys := map[string]string{}
	for i := 0; i+1 < len(ls.Content); i += 2 {
		lsKeys[ls.Content[i].Value] = strings.ToLower(scalar(ls.Content[i+1]))
	}
	if p := lsKeys["product"]; p != "linux" {
		return nil, c.title, c.errf(ls.Line, "logsource product %q is not supported (only linux)", p)
	}
	if s := lsKeys["service"]; s != "" {
		return nil, c.title, c.errf(ls.Line, "logsource service %s is not supported (Vigil reads its own sensor's events: use a category)", s)
	}
	cat, ok := categories[lsKeys["category"]]
	if !ok {
		return nil, c.title, c.errf(ls.Line, "logsource category %q is not supported (supported: file_event, network_connection, process_creation)", lsKeys["category"])
	}
	c.cat, c.catName = cat, lsKeys["category"]

	sev := "medium"
	if l := strings.ToLower(scalar(keys["level"])); l != "" {
		if sev, ok = levels[l]; !ok {
			return nil, c.title, c.errf(keys["level"].Line, "unknown level %q", l)
		}
	}
	det := keys["detection"]
	if det == nil || det.Kind != yaml.MappingNode {
		return nil, c.title, c.errf(top.Line, "no detection:")
	}
	searches := map[string]*yaml.Node{}
	var idents []string
	var condNode *yaml.Node
	for i := 0; i+1 < len(det.Content); i += 2 {
		k, v := det.Content[i].Value, det.Content[i+1]
		switch k {
		case "condition":
			condNode = v
		case "timeframe":
			return nil, c.title, c.errf(v.Line, "timeframe: (a correlation) is not supported")
		default:
			searches[k] = v
			idents = append(idents, k)
		}
	}
	if condNode == nil {
		return nil, c.title, c.errf(det.Line, "detection has no condition:")
	}
	var conds []string
	switch condNode.Kind {
	case yaml.ScalarNode:
		conds = []string{condNode.Value}
	case yaml.SequenceNode:
		for _, n := range condNode.Content {
			conds = append(conds, scalar(n))
		}
	default:
		return nil, c.title, c.errf(condNode.Line, "condition: want a string or a list of strings")
	}
	var alts []cexpr
	for _, s := range conds {
		e, err := parseCondition(s, idents)
		if err != nil {
			return nil, c.title, c.errf(condNode.Line, "condition %q: %v", s, err)
		}
		alts = append(alts, e)
	}
	var cond cexpr = cOr(alts)
	if len(alts) == 1 {
		cond = alts[0]
	}

	type group struct {
		events []string
		node   *importer.Node
		key    string
	}
	var groups []*group
	for _, t := range cat.types {
		n, err := c.expr(cond, searches, t)
		if err != nil {
			return nil, c.title, err
		}
		if cat.base != nil {
			n = importer.And(cat.base(t), n)
		}
		n = importer.Simplify(n)
		if n.IsFalse() {
			continue
		}
		if n.Size() > importer.MaxSize {
			return nil, c.title, c.errf(det.Line, "detection expands to more than %d nodes", importer.MaxSize)
		}
		key, err := (&importer.Doc{Events: []string{"X"}, Detection: n}).Marshal()
		if err != nil {
			return nil, c.title, c.errf(det.Line, "%v", err)
		}
		merged := false
		for _, g := range groups {
			if g.key == string(key) {
				g.events, merged = append(g.events, t), true
				break
			}
		}
		if !merged {
			groups = append(groups, &group{events: []string{t}, node: n, key: string(key)})
		}
	}
	if len(groups) == 0 {
		return nil, c.title, c.errf(det.Line, "detection can never match on Vigil events")
	}

	md := c.metadata(keys, sev, maturity)
	base := importer.SnakeName(c.title)
	var out []importer.Rule
	for _, g := range groups {
		name := base
		if len(groups) > 1 {
			name = base + "_" + strings.ToLower(g.events[0])
		}
		name = names.Unique(name)
		doc := &importer.Doc{
			Comment:   fmt.Sprintf("Imported from Sigma rule %q (%s:%d).", c.title, file, top.Line),
			Events:    g.events,
			Detection: g.node,
			Report:    importer.Report{Name: name, Metadata: md},
		}
		y, err := doc.Marshal()
		if err != nil {
			return nil, c.title, c.errf(top.Line, "%v", err)
		}
		out = append(out, importer.Rule{Name: name, YAML: y, Source: fmt.Sprintf("%s:%d: rule %q", file, top.Line, c.title)})
	}
	return out, c.title, nil
}

func (c *ruleConv) metadata(keys map[string]*yaml.Node, sev, maturity string) []importer.KV {
	var tags, mitre []string
	cat := ""
	if t := keys["tags"]; t != nil {
		_ = t.Decode(&tags)
	}
	for _, t := range tags {
		lt := strings.ToLower(t)
		if m := attackTechnique.FindStringSubmatch(lt); m != nil {
			mitre = append(mitre, strings.ToUpper(m[1]))
		} else if m := attackTactic.FindStringSubmatch(lt); m != nil && cat == "" {
			cat = importer.SnakeName(m[1])
		}
	}
	if cat == "" {
		cat = c.catName
	}
	md := []importer.KV{{Key: "severity", Value: sev}, {Key: "category", Value: cat}}
	if d := strings.Join(strings.Fields(scalar(keys["description"])), " "); d != "" {
		md = append(md, importer.KV{Key: "description", Value: d})
	}
	if len(mitre) > 0 {
		md = append(md, importer.KV{Key: "mitre", Value: mitre})
	}
	md = append(md, importer.KV{Key: "maturity", Value: maturity})
	if len(tags) > 0 {
		md = append(md, importer.KV{Key: "tags", Value: tags})
	}
	for _, k := range []string{"references", "falsepositives"} {
		var list []string
		if n := keys[k]; n != nil && n.Decode(&list) == nil && len(list) > 0 {
			md = append(md, importer.KV{Key: k, Value: list})
		}
	}
	if a := scalar(keys["author"]); a != "" {
		md = append(md, importer.KV{Key: "author", Value: a})
	}
	if id := scalar(keys["id"]); id != "" {
		md = append(md, importer.KV{Key: "sigma_id", Value: id})
	}
	md = append(md, importer.KV{Key: "source", Value: "sigma"}, importer.KV{Key: "source_rule", Value: c.title})
	return md
}

func scalar(n *yaml.Node) string {
	if n == nil || n.Kind != yaml.ScalarNode {
		return ""
	}
	return n.Value
}

// expr translates a condition for events of type t.
func (c *ruleConv) expr(e cexpr, searches map[string]*yaml.Node, t string) (*importer.Node, error) {
	switch x := e.(type) {
	case cAnd, cOr:
		var xs []cexpr
		mk := importer.And
		if a, ok := x.(cAnd); ok {
			xs = a
		} else {
			xs, mk = x.(cOr), importer.Or
		}
		kids := make([]*importer.Node, 0, len(xs))
		for _, sub := range xs {
			n, err := c.expr(sub, searches, t)
			if err != nil {
				return nil, err
			}
			kids = append(kids, n)
		}
		return importer.Simplify(mk(kids...)), nil
	case cNot:
		n, err := c.expr(x.x, searches, t)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.Negate(n)), nil
	case cIdent:
		n, err := c.search(string(x), searches[string(x)], t)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(n), nil
	}
	return nil, fmt.Errorf("unknown condition %T", e)
}

// search translates one search identifier: a mapping is the and of its fields, a
// list of mappings the or of them.
func (c *ruleConv) search(name string, n *yaml.Node, t string) (*importer.Node, error) {
	switch n.Kind {
	case yaml.MappingNode:
		var kids []*importer.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			node, err := c.field(name, k, v, t)
			if err != nil {
				return nil, err
			}
			kids = append(kids, node)
		}
		if len(kids) == 0 {
			return nil, c.errf(n.Line, "search %s is empty", name)
		}
		return importer.And(kids...), nil
	case yaml.SequenceNode:
		var kids []*importer.Node
		for _, item := range n.Content {
			if item.Kind != yaml.MappingNode {
				return nil, c.errf(item.Line, "search %s: keyword (full-text) searches are not supported: name the field", name)
			}
			node, err := c.search(name, item, t)
			if err != nil {
				return nil, err
			}
			kids = append(kids, node)
		}
		if len(kids) == 0 {
			return nil, c.errf(n.Line, "search %s is empty", name)
		}
		return importer.Or(kids...), nil
	}
	return nil, c.errf(n.Line, "search %s: keyword (full-text) searches are not supported: name the field", name)
}

// modifiers Vigil reads; the others are refused by name.
var knownModifiers = map[string]bool{
	"contains": true, "startswith": true, "endswith": true, "all": true, "re": true,
	"cidr": true, "cased": true, "exists": true, "i": true, "m": true, "s": true,
	"gt": true, "gte": true, "lt": true, "lte": true,
}

// field translates "Field|mod|mod: value(s)".
func (c *ruleConv) field(search string, k, v *yaml.Node, t string) (*importer.Node, error) {
	parts := strings.Split(k.Value, "|")
	fname, mods := parts[0], parts[1:]
	has := map[string]bool{}
	for _, m := range mods {
		if !knownModifiers[m] {
			return nil, c.errf(k.Line, "search %s: modifier %s of %s is not supported", search, m, fname)
		}
		has[m] = true
	}
	var values []*yaml.Node
	switch v.Kind {
	case yaml.ScalarNode:
		values = []*yaml.Node{v}
	case yaml.SequenceNode:
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return nil, c.errf(it.Line, "search %s: %s: want values", search, fname)
			}
			values = append(values, it)
		}
	default:
		return nil, c.errf(v.Line, "search %s: %s: want a value or a list of values", search, fname)
	}

	if fname == "Initiated" && c.catName == "network_connection" {
		// Sysmon's direction flag: true for connections the process opened.
		var alts []*importer.Node
		for _, val := range values {
			switch strings.ToLower(val.Value) {
			case "true":
				alts = append(alts, constant(t == event.NetworkConnect))
			case "false":
				alts = append(alts, constant(t == event.NetworkAccept))
			default:
				return nil, c.errf(val.Line, "search %s: Initiated: want true or false, got %q", search, val.Value)
			}
		}
		return importer.Or(alts...), nil
	}
	p, ok := c.cat.fields[fname]
	if !ok {
		if why, known := unsupportedFields[fname]; known {
			return nil, c.errf(k.Line, "search %s: field %s is not supported: %s", search, fname, why)
		}
		return nil, c.errf(k.Line, "search %s: field %s is not supported in %s rules (supported: %s)", search, fname, c.catName, strings.Join(sortedKeys(c.cat.fields), ", "))
	}
	f, err := event.Lookup(p)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", fname, err)
	}
	if has["exists"] {
		if len(values) != 1 {
			return nil, c.errf(k.Line, "search %s: %s|exists takes true or false", search, fname)
		}
		n := importer.Leaf(importer.OpExists, p, nil)
		switch strings.ToLower(values[0].Value) {
		case "true":
			return n, nil
		case "false":
			return importer.Negate(n), nil
		}
		return nil, c.errf(k.Line, "search %s: %s|exists takes true or false", search, fname)
	}
	var kids []*importer.Node
	for _, val := range values {
		n, err := c.value(search, fname, p, f.Kind, has, val)
		if err != nil {
			return nil, err
		}
		kids = append(kids, n)
	}
	if len(kids) == 0 {
		return importer.False(), nil
	}
	if has["all"] {
		return importer.And(kids...), nil
	}
	// A list of prefixes is one cidr node.
	if len(kids) > 1 && has["cidr"] {
		var prefixes []string
		for _, kd := range kids {
			prefixes = append(prefixes, kd.CIDR...)
		}
		return &importer.Node{Op: importer.OpCIDR, Path: p, CIDR: prefixes}, nil
	}
	// A plain list of exact values is an in list.
	if len(kids) > 1 {
		var vals []any
		fold := kids[0].Fold
		for _, kd := range kids {
			if kd.Op != importer.OpIs || kd.Not || kd.Fold != fold {
				return importer.Or(kids...), nil
			}
			vals = append(vals, kd.Value)
		}
		return &importer.Node{Op: importer.OpInList, Path: p, Values: vals, Fold: fold}, nil
	}
	return kids[0], nil
}

func constant(b bool) *importer.Node {
	if b {
		return importer.True()
	}
	return importer.False()
}

// value translates one value of a field.
func (c *ruleConv) value(search, fname, p string, kind event.Kind, has map[string]bool, v *yaml.Node) (*importer.Node, error) {
	fail := func(format string, args ...any) error {
		return c.errf(v.Line, "search %s: %s: %s", search, fname, fmt.Sprintf(format, args...))
	}
	if v.Tag == "!!null" {
		return importer.Negate(importer.Leaf(importer.OpExists, p, nil)), nil
	}
	s := v.Value
	if kind == event.Number {
		for _, m := range []string{"contains", "startswith", "endswith", "re", "cidr"} {
			if has[m] {
				return nil, fail("modifier %s does not apply to a number", m)
			}
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, fail("%q is not a number", s)
		}
		switch {
		case has["gt"]:
			return importer.Leaf(importer.OpGreater, p, n), nil
		case has["gte"]:
			return importer.Leaf(importer.OpGreater, p, n-1), nil
		case has["lt"]:
			return importer.Leaf(importer.OpLower, p, n), nil
		case has["lte"]:
			return importer.Leaf(importer.OpLower, p, n+1), nil
		}
		return importer.Leaf(importer.OpIs, p, n), nil
	}
	for _, m := range []string{"gt", "gte", "lt", "lte"} {
		if has[m] {
			return nil, fail("modifier %s needs a number field", m)
		}
	}
	switch {
	case has["re"]:
		flags := ""
		for _, f := range []string{"i", "m", "s"} {
			if has[f] {
				flags += f
			}
		}
		re := s
		if flags != "" {
			re = "(?" + flags + ")" + re
		}
		if _, err := regexp.Compile(re); err != nil {
			return nil, fail("regular expression %q is not RE2: %v", s, err)
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: re}, nil
	case has["cidr"]:
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fail("%q is not a network prefix", s)
		}
		return &importer.Node{Op: importer.OpCIDR, Path: p, CIDR: []string{pfx.Masked().String()}}, nil
	}
	mode := "is"
	switch {
	case has["contains"]:
		mode = "contains"
	case has["startswith"]:
		mode = "startswith"
	case has["endswith"]:
		mode = "endswith"
	}
	return pattern(p, s, mode, !has["cased"])
}

// pattern translates a Sigma string value (with * and ? wildcards, \ escaping them)
// compared as mode: "is", "contains", "startswith" or "endswith".
func pattern(p, s, mode string, fold bool) (*importer.Node, error) {
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
			return importer.True(), nil
		}
		if literal == "" {
			return importer.Negate(importer.Leaf(importer.OpExists, p, nil)), nil
		}
		n := importer.Leaf(op, p, literal)
		n.Fold = fold
		return n, nil
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
			b.WriteString(".*")
		case "?":
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(sg.text))
		}
	}
	if mode == "is" || mode == "endswith" {
		b.WriteString("$")
	}
	return &importer.Node{Op: importer.OpMatches, Path: p, Re: b.String()}, nil
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

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
