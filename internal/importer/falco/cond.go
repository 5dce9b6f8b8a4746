package falco

import (
	"fmt"
	"strings"
)

// The condition language, as far as Vigil reads it:
//
//	expr    = and { "or" and }
//	and     = unary { "and" unary }
//	unary   = "not" unary | primary
//	primary = "(" expr ")" | MACRO | FIELD OP VALUE | FIELD "in"|"pmatch"|"intersects" "(" VALUE { "," VALUE } ")" | FIELD "exists"
//
// VALUE is a bare word (up to white space, parenthesis or comma) or a quoted string
// ("..." or '...'). In a quoted string a backslash escapes the quote, a backslash
// and b, f, n, r, t (as in Falco); before any other character it stays as written,
// so "\ " is a backslash and a space.

// expr is a parsed condition. at is where it starts in the condition's text and
// span where it starts and ends (pos -1: built from a rule's exceptions).
type expr interface {
	at() int
	span() (int, int)
}

type andExpr struct {
	xs       []expr
	pos, end int
}

type orExpr struct {
	xs       []expr
	pos, end int
}

type notExpr struct {
	x        expr
	pos, end int
}

// macroRef is a bare name: a macro of the set or a standard Falco macro.
type macroRef struct {
	name     string
	pos, end int
}

// cmpExpr compares a field with one value or a list of values.
type cmpExpr struct {
	field    string
	op       string
	values   []value
	list     bool
	pos, end int
}

type value struct {
	s      string
	quoted bool
	pos    int
	// inline holds an exception's list of values, joined by NUL bytes.
	inline bool
}

func (e *andExpr) at() int  { return e.pos }
func (e *orExpr) at() int   { return e.pos }
func (e *notExpr) at() int  { return e.pos }
func (e *macroRef) at() int { return e.pos }
func (e *cmpExpr) at() int  { return e.pos }

func (e *andExpr) span() (int, int)  { return e.pos, e.end }
func (e *orExpr) span() (int, int)   { return e.pos, e.end }
func (e *notExpr) span() (int, int)  { return e.pos, e.end }
func (e *macroRef) span() (int, int) { return e.pos, e.end }
func (e *cmpExpr) span() (int, int)  { return e.pos, e.end }

// condError is a syntax error at a byte offset of the condition.
type condError struct {
	pos int
	msg string
}

func (e *condError) Error() string { return e.msg }

const maxDepth = 200

type condParser struct {
	s     string
	i     int
	depth int
}

// parseCond parses a condition.
func parseCond(s string) (expr, error) {
	p := &condParser{s: s}
	p.space()
	if p.i >= len(p.s) {
		return nil, &condError{0, "empty condition"}
	}
	e, err := p.or()
	if err != nil {
		return nil, err
	}
	p.space()
	if p.i < len(p.s) {
		return nil, p.errf(p.i, "unexpected %q", p.snippet())
	}
	return e, nil
}

func (p *condParser) errf(pos int, format string, args ...any) error {
	return &condError{pos, fmt.Sprintf(format, args...)}
}

func (p *condParser) snippet() string {
	rest := p.s[p.i:]
	if len(rest) > 30 {
		rest = rest[:30] + "…"
	}
	return rest
}

func (p *condParser) space() {
	for p.i < len(p.s) && isSpace(p.s[p.i]) {
		p.i++
	}
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isWordChar(c byte) bool {
	return c == '_' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// keyword consumes kw when it is the next whole word.
func (p *condParser) keyword(kw string) bool {
	p.space()
	if !strings.HasPrefix(p.s[p.i:], kw) {
		return false
	}
	end := p.i + len(kw)
	if end < len(p.s) && isWordChar(p.s[end]) {
		return false
	}
	p.i = end
	return true
}

func (p *condParser) or() (expr, error) {
	pos := p.i
	xs, err := p.chain("or", p.and)
	if err != nil || len(xs) == 1 {
		return xs[0], err
	}
	return &orExpr{xs, pos, p.i}, nil
}

func (p *condParser) and() (expr, error) {
	pos := p.i
	xs, err := p.chain("and", p.unary)
	if err != nil || len(xs) == 1 {
		return xs[0], err
	}
	return &andExpr{xs, pos, p.i}, nil
}

// chain parses operand (keyword operand)* and returns the operands (at least one
// unless the error is set, when it is a single nil).
func (p *condParser) chain(keyword string, operand func() (expr, error)) ([]expr, error) {
	x, err := operand()
	if err != nil {
		return []expr{nil}, err
	}
	xs := []expr{x}
	for p.keyword(keyword) {
		y, err := operand()
		if err != nil {
			return []expr{nil}, err
		}
		xs = append(xs, y)
	}
	return xs, nil
}

func (p *condParser) unary() (expr, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, p.errf(p.i, "condition nests deeper than %d levels", maxDepth)
	}
	p.space()
	pos := p.i
	if p.keyword("not") {
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		return &notExpr{x, pos, p.i}, nil
	}
	return p.primary()
}

func (p *condParser) primary() (expr, error) {
	p.space()
	pos := p.i
	if p.i >= len(p.s) {
		return nil, p.errf(p.i, "condition ends where an operand is expected")
	}
	if p.s[p.i] == '(' {
		p.i++
		e, err := p.or()
		if err != nil {
			return nil, err
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return nil, p.errf(pos, "unbalanced parenthesis: ( without )")
		}
		p.i++
		return parenthesised(e, pos, p.i), nil
	}
	name := p.ident()
	if name == "" {
		return nil, p.errf(p.i, "expected a field, a macro or ( at %q", p.snippet())
	}
	switch name {
	case "and", "or":
		return nil, p.errf(pos, "%q where an operand is expected", name)
	}
	p.space()
	if p.i < len(p.s) && p.s[p.i] == '(' {
		return nil, p.errf(pos, "field transformer %s(...) is not supported", name)
	}
	op := p.operator()
	if op == "" {
		if strings.ContainsAny(name, ".[") {
			return nil, p.errf(pos, "field %s without a comparison operator", name)
		}
		return &macroRef{name, pos, p.i}, nil
	}
	c := &cmpExpr{field: name, op: op, pos: pos}
	defer func() { c.end = p.i }()
	switch op {
	case "exists":
		return c, nil
	case "in", "pmatch", "intersects":
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '(' {
			return nil, p.errf(p.i, "%s %s needs a parenthesised list of values", name, op)
		}
		p.i++
		c.list = true
		for {
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ')' && len(c.values) == 0 {
				p.i++
				return c, nil
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			c.values = append(c.values, v)
			p.space()
			if p.i < len(p.s) && p.s[p.i] == ',' {
				p.i++
				continue
			}
			if p.i < len(p.s) && p.s[p.i] == ')' {
				p.i++
				return c, nil
			}
			return nil, p.errf(p.i, "list of %s %s: expected , or ) at %q", name, op, p.snippet())
		}
	}
	v, err := p.value()
	if err != nil {
		return nil, err
	}
	c.values = []value{v}
	return c, nil
}

// ident reads a field or macro name: word characters and dots, optionally followed
// by an argument in brackets (proc.aname[2]).
func (p *condParser) ident() string {
	start := p.i
	for p.i < len(p.s) && isWordChar(p.s[p.i]) {
		p.i++
	}
	if p.i > start && p.i < len(p.s) && p.s[p.i] == '[' {
		if end := strings.IndexByte(p.s[p.i:], ']'); end >= 0 {
			p.i += end + 1
		}
	}
	return p.s[start:p.i]
}

var symbolOps = []string{"==", "!=", "<=", ">=", "=", "<", ">"}

var wordOps = []string{"contains", "icontains", "bcontains", "startswith", "bstartswith", "endswith",
	"in", "intersects", "pmatch", "exists", "glob", "iglob", "regex"}

func (p *condParser) operator() string {
	for _, op := range symbolOps {
		if strings.HasPrefix(p.s[p.i:], op) {
			p.i += len(op)
			return op
		}
	}
	save := p.i
	for _, op := range wordOps {
		if p.keyword(op) {
			return op
		}
	}
	p.i = save
	return ""
}

func (p *condParser) value() (value, error) {
	p.space()
	pos := p.i
	if p.i >= len(p.s) {
		return value{}, p.errf(p.i, "condition ends where a value is expected")
	}
	if q := p.s[p.i]; q == '"' || q == '\'' {
		p.i++
		var b strings.Builder
		for p.i < len(p.s) {
			c := p.s[p.i]
			switch {
			case c == '\\' && p.i+1 < len(p.s):
				b.WriteString(unescape(p.s[p.i+1], q))
				p.i += 2
			case c == q:
				p.i++
				return value{s: b.String(), quoted: true, pos: pos}, nil
			default:
				b.WriteByte(c)
				p.i++
			}
		}
		return value{}, p.errf(pos, "unterminated quoted string")
	}
	for p.i < len(p.s) && !isSpace(p.s[p.i]) && p.s[p.i] != ')' && p.s[p.i] != '(' && p.s[p.i] != ',' {
		p.i++
	}
	if p.i == pos {
		return value{}, p.errf(pos, "expected a value at %q", p.snippet())
	}
	if p.i < len(p.s) && p.s[p.i] == '(' {
		return value{}, p.errf(pos, "%s(...) as a value (a comparison between two fields) is not supported", p.s[pos:p.i])
	}
	return value{s: p.s[pos:p.i], pos: pos}, nil
}

// unescape is what a backslash and c stand for in a string quoted with q.
func unescape(c, q byte) string {
	switch c {
	case q, '\\':
		return string(c)
	case 'b':
		return "\b"
	case 'f':
		return "\f"
	case 'n':
		return "\n"
	case 'r':
		return "\r"
	case 't':
		return "\t"
	}
	return "\\" + string(c)
}

// parenthesised widens the span of e to its parentheses, so that a note quoting
// it shows them.
func parenthesised(e expr, pos, end int) expr {
	switch x := e.(type) {
	case *andExpr:
		c := *x
		c.pos, c.end = pos, end
		return &c
	case *orExpr:
		c := *x
		c.pos, c.end = pos, end
		return &c
	case *notExpr:
		c := *x
		c.pos, c.end = pos, end
		return &c
	case *macroRef:
		c := *x
		c.pos, c.end = pos, end
		return &c
	case *cmpExpr:
		c := *x
		c.pos, c.end = pos, end
		return &c
	}
	return e
}
