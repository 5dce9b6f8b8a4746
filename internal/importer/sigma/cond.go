package sigma

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// The condition language:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | ("1" | "any" | "all") "of" (PATTERN | "them") | IDENT
//
// PATTERN is an identifier with * wildcards (selection*). Aggregations ("| count()
// by …"), "near" and "N of" with N > 1 are not supported.

type cexpr interface{}

type cAnd []cexpr
type cOr []cexpr
type cNot struct{ x cexpr }
type cIdent string

type tokenizer struct {
	toks []string
	i    int
}

func tokenize(s string) ([]string, error) {
	var out []string
	i := 0
	for i < len(s) {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '(' || c == ')':
			out = append(out, string(c))
			i++
		case c == '|':
			return nil, fmt.Errorf("aggregation %q is not supported", strings.TrimSpace(s[i:]))
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\n\r()|", rune(s[j])) {
				j++
			}
			out = append(out, s[i:j])
			i = j
		}
	}
	return out, nil
}

// parseCondition parses a condition against the detection's identifiers.
func parseCondition(s string, idents []string) (cexpr, error) {
	toks, err := tokenize(s)
	if err != nil {
		return nil, err
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty condition")
	}
	p := &condParser{tokenizer{toks: toks}, idents, 0}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	if p.i < len(p.toks) {
		return nil, fmt.Errorf("unexpected %q", strings.Join(p.toks[p.i:], " "))
	}
	return e, nil
}

type condParser struct {
	tokenizer
	idents []string
	depth  int
}

func (p *condParser) peek() string {
	if p.i < len(p.toks) {
		return p.toks[p.i]
	}
	return ""
}

func (p *condParser) next() string {
	t := p.peek()
	p.i++
	return t
}

func (p *condParser) or() (cexpr, error) {
	xs, err := p.chain("or", p.and)
	if err != nil || len(xs) == 1 {
		return xs[0], err
	}
	return cOr(xs), nil
}

func (p *condParser) and() (cexpr, error) {
	xs, err := p.chain("and", p.unary)
	if err != nil || len(xs) == 1 {
		return xs[0], err
	}
	return cAnd(xs), nil
}

// chain parses operand (word operand)*, word in any case, and returns the operands
// (at least one unless the error is set, when it is a single nil).
func (p *condParser) chain(word string, operand func() (cexpr, error)) ([]cexpr, error) {
	x, err := operand()
	if err != nil {
		return []cexpr{nil}, err
	}
	xs := []cexpr{x}
	for strings.EqualFold(p.peek(), word) {
		p.i++
		y, err := operand()
		if err != nil {
			return []cexpr{nil}, err
		}
		xs = append(xs, y)
	}
	return xs, nil
}

func (p *condParser) unary() (cexpr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > 200 {
		return nil, fmt.Errorf("condition nests too deep")
	}
	if strings.EqualFold(p.peek(), "not") {
		p.i++
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return cNot{x}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (cexpr, error) {
	t := p.next()
	switch lt := strings.ToLower(t); {
	case t == "":
		return nil, fmt.Errorf("condition ends where an operand is expected")
	case t == "(":
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next() != ")" {
			return nil, fmt.Errorf("unbalanced parenthesis: ( without )")
		}
		return x, nil
	case t == ")", lt == "and", lt == "or", lt == "of":
		return nil, fmt.Errorf("%q where an operand is expected", t)
	case strings.EqualFold(p.peek(), "of"):
		p.i++
		target := p.next()
		if target == "" || target == "(" || target == ")" {
			return nil, fmt.Errorf("%s of needs an identifier pattern or them", t)
		}
		var all bool
		switch lt {
		case "1", "any":
		case "all":
			all = true
		default:
			return nil, fmt.Errorf("%q of is not supported (only 1 of, any of and all of)", t)
		}
		var names []string
		for _, id := range p.idents {
			if target == "them" {
				if !strings.HasPrefix(id, "_") {
					names = append(names, id)
				}
				continue
			}
			if ok, _ := path.Match(target, id); ok {
				names = append(names, id)
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("%s of %s matches no search identifier", t, target)
		}
		sort.Strings(names)
		xs := make([]cexpr, len(names))
		for i, n := range names {
			xs[i] = cIdent(n)
		}
		if all {
			return cAnd(xs), nil
		}
		return cOr(xs), nil
	}
	for _, id := range p.idents {
		if id == t {
			return cIdent(t), nil
		}
	}
	return nil, fmt.Errorf("unknown search identifier %q", t)
}
