package sigma

import (
	"strings"

	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// contexts are the contexts a rule's log source stands for, or why Vigil has no
// events for it.
func (c *ruleConv) contexts(ls *yaml.Node, keys map[string]string, searches map[string]*yaml.Node) ([]*context, error) {
	product, service, cat := keys["product"], keys["service"], keys["category"]
	switch {
	case product == "kubernetes" && service == "audit":
		return categoryContexts("kubernetes audit", k8sAudit), nil
	case product != "linux":
		return nil, c.errf(ls.Line, "logsource product %q is not supported (only linux, and kubernetes with service audit)", product)
	case service == "auditd":
		var def string
		for i := 0; i+1 < len(ls.Content); i += 2 {
			if ls.Content[i].Value == "definition" {
				def = scalar(ls.Content[i+1])
			}
		}
		return auditdContexts(searches, def), nil
	case service != "":
		return nil, c.errf(ls.Line, "logsource service %s: %s", service, logText(searches,
			"the rule reads "+service+"'s log messages, and Vigil's events carry no log messages"))
	case cat == "":
		return nil, c.errf(ls.Line, "logsource names product linux only: %s", logText(searches,
			"the rule reads the system's log lines, and Vigil's events carry no log messages"))
	}
	def, ok := categories[cat]
	if !ok {
		return nil, c.errf(ls.Line, "logsource category %q is not supported (supported: file_event, network_connection, process_creation; service auditd)", cat)
	}
	return categoryContexts(cat, def), nil
}

// logText is the reason a rule over log text is refused: why, said of keyword
// searches when the rule has any.
func logText(searches map[string]*yaml.Node, why string) string {
	for _, s := range searches {
		if hasKeywords(s) {
			return "keyword search over log text: Vigil's events carry no log messages"
		}
	}
	return why
}

// hasKeywords reports whether a search holds keywords: plain values, or a
// mapping key without a field name ('|all').
func hasKeywords(n *yaml.Node) bool {
	switch n.Kind {
	case yaml.ScalarNode:
		return n.Tag != "!!null"
	case yaml.SequenceNode:
		for _, it := range n.Content {
			if it.Kind == yaml.ScalarNode || hasKeywords(it) {
				return true
			}
		}
	case yaml.MappingNode:
		for i := 0; i < len(n.Content); i += 2 {
			if strings.HasPrefix(n.Content[i].Value, "|") {
				return true
			}
		}
	}
	return false
}

// part is a rule translated in one context.
type part struct {
	ctx *context
	n   *importer.Node
}

// typeNode is the detection of a rule on one event type.
type typeNode struct {
	t string
	n *importer.Node
}

// translate translates the condition in every context and joins the results by
// event type, in the order of the contexts. A condition that can hold in a
// context Vigil has no events for refuses the rule.
func (c *ruleConv) translate(cond cexpr, searches map[string]*yaml.Node, ctxs []*context, line int) ([]typeNode, error) {
	var order []string
	byType := map[string][]*importer.Node{}
	bySyscall := map[string][]part{}
	for _, ctx := range ctxs {
		n, err := c.expr(cond, searches, ctx)
		if err != nil {
			return nil, err
		}
		if ctx.base != nil {
			n = importer.And(ctx.base, n)
		}
		n = importer.Simplify(n)
		if n.IsFalse() {
			continue
		}
		if ctx.refusal != "" {
			return nil, c.errf(line, "%s", ctx.refusal)
		}
		if _, seen := byType[ctx.event]; !seen {
			order = append(order, ctx.event)
			byType[ctx.event] = nil
		}
		if ctx.syscall != "" && ctx.syscall != "*" {
			bySyscall[ctx.event] = append(bySyscall[ctx.event], part{ctx, n})
			continue
		}
		byType[ctx.event] = append(byType[ctx.event], n)
	}
	var out []typeNode
	for _, t := range order {
		alts := byType[t]
		if ps := bySyscall[t]; len(ps) > 0 {
			n, err := joinSyscalls(t, ps)
			if err != nil {
				return nil, c.errf(line, "%v", err)
			}
			alts = append(alts, n)
		}
		out = append(out, typeNode{t, importer.Simplify(importer.Or(alts...))})
	}
	return out, nil
}
