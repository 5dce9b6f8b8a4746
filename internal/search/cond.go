package search

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/engine"
	"go.yaml.in/yaml/v3"
)

// cond is a detection node as its YAML spells it, read from a node the engine
// compiled (so its shape is known valid): what the pruning and the SQL
// compiler walk.
type cond struct {
	op, path, value, re, compare, tag string
	values                            []string // in list values:, cidr: prefixes
	not, fold                         bool
	rules                             []*cond
	line                              int
}

// condOf reads the top node of a compiled condition.
func condOf(w *engine.Where) (*cond, error) {
	return readCond(w.Node, false)
}

func readCond(n *yaml.Node, fold bool) (*cond, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("line %d: want a mapping", n.Line)
	}
	c := &cond{fold: fold, line: n.Line}
	var rules *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i].Value, n.Content[i+1]
		switch k {
		case "op":
			c.op = v.Value
		case "path":
			c.path = v.Value
		case "value":
			c.value = v.Value
		case "re":
			c.re = v.Value
		case "compare":
			c.compare = v.Value
		case "tag":
			c.tag = v.Value
		case "not":
			c.not, _ = engine.Boolean(v)
		case "case sensitive":
			sensitive, _ := engine.Boolean(v)
			c.fold = !sensitive
		case "values", "cidr":
			if v.Kind == yaml.ScalarNode {
				c.values = append(c.values, v.Value)
			}
			for _, it := range v.Content {
				c.values = append(c.values, it.Value)
			}
		case "rules":
			rules = v
		case "event", "events":
		default:
			return nil, fmt.Errorf("line %d: %s: has no search form", v.Line, k)
		}
	}
	if rules != nil {
		for _, r := range rules.Content {
			sub, err := readCond(r, c.fold)
			if err != nil {
				return nil, err
			}
			c.rules = append(c.rules, sub)
		}
	}
	return c, nil
}
