package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

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
	c.catName = lsKeys["category"]
	if c.catName == "" {
		c.catName = lsKeys["service"]
	}

	sev := "medium"
	if l := strings.ToLower(scalar(keys["level"])); l != "" {
		var ok bool
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

	ctxs, err := c.contexts(ls, lsKeys, searches)
	if err != nil {
		return nil, c.title, err
	}
	perType, err := c.translate(cond, searches, ctxs, det.Line)
	if err != nil {
		return nil, c.title, err
	}
	type group struct {
		events []string
		node   *importer.Node
		key    string
	}
	var groups []*group
	for _, tn := range perType {
		n := tn.n
		if n.Size() > importer.MaxSize {
			return nil, c.title, c.errf(det.Line, "detection expands to more than %d nodes", importer.MaxSize)
		}
		key, err := nodeKey(n)
		if err != nil {
			return nil, c.title, c.errf(det.Line, "%v", err)
		}
		merged := false
		for _, g := range groups {
			if g.key == key {
				g.events, merged = append(g.events, tn.t), true
				break
			}
		}
		if !merged {
			groups = append(groups, &group{events: []string{tn.t}, node: n, key: key})
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
