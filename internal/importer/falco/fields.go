package falco

import (
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// handler translates a comparison on one Falco field for events of type k.t.
type handler func(k *cmpCtx) (*importer.Node, error)

var (
	// handlers are the fields by name; indexed those written name[arg]; prefixed
	// those written prefix<name> (evt.arg.<name>).
	handlers = map[string]handler{}
	indexed  = map[string]handler{}
	prefixed = map[string]handler{}
	// notCarried are fields Falco has and Vigil events do not carry, with why;
	// notCarriedPrefix the same for families of fields.
	notCarried       = map[string]string{}
	notCarriedPrefix = map[string]string{}
)

// lookupField returns the handler of a field and its argument.
func lookupField(name string) (handler, string, error) {
	if h, ok := handlers[name]; ok {
		return h, "", nil
	}
	if base, rest, ok := strings.Cut(name, "["); ok && strings.HasSuffix(rest, "]") {
		arg := strings.TrimSuffix(rest, "]")
		if h, ok := indexed[base]; ok {
			return h, arg, nil
		}
		if why, ok := notCarried[base]; ok {
			return nil, "", fmt.Errorf("field %s is not supported: %s", name, why)
		}
		if _, ok := handlers[base]; ok {
			return nil, "", fmt.Errorf("field %s takes no argument in brackets", base)
		}
	}
	for _, p := range sortedKeys(prefixed) {
		if rest, ok := strings.CutPrefix(name, p); ok && rest != "" {
			return prefixed[p], rest, nil
		}
	}
	if why, ok := notCarried[name]; ok {
		return nil, "", fmt.Errorf("field %s is not supported: %s", name, why)
	}
	for _, p := range sortedKeys(notCarriedPrefix) {
		if strings.HasPrefix(name, p) {
			return nil, "", fmt.Errorf("field %s is not supported: %s", name, notCarriedPrefix[p])
		}
	}
	return nil, "", fmt.Errorf("field %s %s (supported: %s)", name, unknownField, strings.Join(supportedFields(), ", "))
}

// unknownField says a field is none Vigil knows (a plugin's, or a typo).
const unknownField = "is not a field Vigil knows"

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func supportedFields() []string {
	out := []string{"evt.type"}
	out = append(out, sortedKeys(handlers)...)
	for _, k := range sortedKeys(indexed) {
		out = append(out, k+"[…]")
	}
	for _, k := range sortedKeys(prefixed) {
		out = append(out, k+"<name>")
	}
	sort.Strings(out)
	return out
}

// absent is a comparison on a field that has no value on the event: false, for
// every operator, as in Falco.
func (k *cmpCtx) absent() *importer.Node {
	k.note(falcoNote, "%s is false: %s has no value on %s events", k.s.quote(k.x), k.x.field, k.t)
	return importer.False()
}

// on checks that events of type k.t have path.
func (k *cmpCtx) on(path string) (event.Kind, error) {
	kind, ok := fieldOf(path, k.t)
	if !ok {
		return 0, k.fail("field %s has no Vigil equivalent on %s events (%s is not part of them)", k.x.field, k.t, path)
	}
	return kind, nil
}

// onVals checks that events of type k.t have path and returns the comparison's
// values.
func (k *cmpCtx) onVals(path string) ([]string, error) {
	if _, err := k.on(path); err != nil {
		return nil, err
	}
	return k.vals()
}

// str translates a comparison on a string path (or a list of strings: any element).
func (k *cmpCtx) str(path string) (*importer.Node, error) {
	kind, err := k.on(path)
	if err != nil {
		return nil, err
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	if kind == event.StringList && k.x.op == "!=" {
		return nil, k.fail("%s != compares every element of a list, which Vigil cannot express (write not %s = …)", k.x.field, k.x.field)
	}
	return k.strOp(path, vals)
}

// strOp translates a comparison on a string path with the given values.
func (k *cmpCtx) strOp(p string, vals []string) (*importer.Node, error) {
	op := k.x.op
	if op == "exists" {
		return importer.Leaf(importer.OpExists, p, nil), nil
	}
	if len(vals) == 0 {
		return importer.False(), nil
	}
	switch op {
	case "=", "==":
		return importer.Leaf(importer.OpIs, p, vals[0]), nil
	case "!=":
		return importer.Negate(importer.Leaf(importer.OpIs, p, vals[0])), nil
	case "contains", "icontains", "startswith", "endswith":
		if vals[0] == "" {
			return importer.True(), nil
		}
		ops := map[string]string{"contains": importer.OpContains, "icontains": importer.OpContains,
			"startswith": importer.OpStarts, "endswith": importer.OpEnds}
		n := importer.Leaf(ops[op], p, vals[0])
		n.Fold = op == "icontains"
		return n, nil
	case "in", "intersects":
		return inList(p, anys(vals), false), nil
	case "pmatch":
		return k.pmatch(p, vals, false)
	case "glob", "iglob":
		re, err := globRegexp(vals[0], ".")
		if err != nil {
			return nil, k.fail("%v", err)
		}
		if op == "iglob" {
			re = "(?i)" + re
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)^" + re + "$"}, nil
	case "regex":
		if _, err := regexp.Compile(vals[0]); err != nil {
			return nil, k.fail("regex %q: %v", vals[0], err)
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "^(?:" + vals[0] + ")$"}, nil
	}
	return nil, k.fail("operator %s does not apply to the string %s", op, k.x.field)
}

// globRegexp converts a Falco glob (* and ? covering characters of class) to an
// RE2 body, checked to compile: a class such as [z-a] is an error naming it.
func globRegexp(glob, class string) (string, error) {
	re, err := importer.GlobRegexpClass(glob, false, class)
	if err != nil {
		return "", err
	}
	if _, err := regexp.Compile(re); err != nil {
		return "", fmt.Errorf("glob %q: %w", glob, err)
	}
	return re, nil
}

// pmatch translates a pmatch of the path at p with the prefixes vals: the path is a
// prefix or lies below one, by whole components. With dir, the prefixes are
// matched by the path's directory (fd.directory): the path lies below a prefix.
func (k *cmpCtx) pmatch(p string, vals []string, dir bool) (*importer.Node, error) {
	var alts []*importer.Node
	for _, v := range vals {
		if strings.ContainsAny(v, "*?[") {
			re, err := pmatchRegexp(v)
			if err != nil {
				return nil, k.fail("%v", err)
			}
			if dir {
				re = strings.TrimSuffix(re, "$") + "/[^/]+$"
			}
			alts = append(alts, &importer.Node{Op: importer.OpMatches, Path: p, Re: re})
			continue
		}
		if !dir && !strings.HasSuffix(v, "/") {
			alts = append(alts, importer.Leaf(importer.OpIs, p, v))
		}
		alts = append(alts, importer.Leaf(importer.OpStarts, p, strings.TrimSuffix(v, "/")+"/"))
	}
	return importer.Simplify(importer.Or(alts...)), nil
}

// pmatchRegexp is a pmatch prefix with glob wildcards: the path's first components
// match the prefix's, * and ? within one component.
func pmatchRegexp(prefix string) (string, error) {
	body, err := globRegexp(strings.TrimSuffix(prefix, "/"), "[^/]")
	if err != nil {
		return "", err
	}
	return "^" + body + "(?:/.*)?$", nil
}

// num translates a comparison on a number path.
func (k *cmpCtx) num(path string) (*importer.Node, error) {
	if _, err := k.on(path); err != nil {
		return nil, err
	}
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	return k.numOp(path, nums)
}

func (k *cmpCtx) numOp(p string, nums []int64) (*importer.Node, error) {
	if k.x.op == "exists" {
		return importer.True(), nil
	}
	if len(nums) == 0 {
		return importer.False(), nil
	}
	switch k.x.op {
	case "=", "==":
		return importer.Leaf(importer.OpIs, p, nums[0]), nil
	case "!=":
		return importer.Negate(importer.Leaf(importer.OpIs, p, nums[0])), nil
	case "in", "intersects":
		vs := make([]any, len(nums))
		for i, n := range nums {
			vs[i] = n
		}
		return inList(p, vs, false), nil
	case "<":
		return importer.Leaf(importer.OpLower, p, nums[0]), nil
	case ">":
		return importer.Leaf(importer.OpGreater, p, nums[0]), nil
	case "<=":
		return importer.Leaf(importer.OpLower, p, nums[0]+1), nil
	case ">=":
		return importer.Leaf(importer.OpGreater, p, nums[0]-1), nil
	}
	return nil, k.fail("operator %s does not apply to the number %s", k.x.op, k.x.field)
}

// holds reports whether the number v satisfies the comparison with nums.
func holds(op string, v int64, nums []int64) bool {
	if len(nums) == 0 {
		return false
	}
	switch op {
	case "=", "==":
		return v == nums[0]
	case "!=":
		return v != nums[0]
	case "in", "intersects":
		for _, n := range nums {
			if v == n {
				return true
			}
		}
		return false
	case "<":
		return v < nums[0]
	case ">":
		return v > nums[0]
	case "<=":
		return v <= nums[0]
	case ">=":
		return v >= nums[0]
	}
	return false
}

// ints parses the comparison's values as integers.
func (k *cmpCtx) ints() ([]int64, error) {
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	return k.intsOf(vals)
}

// intsOf parses values as integers.
func (k *cmpCtx) intsOf(vals []string) ([]int64, error) {
	out := make([]int64, len(vals))
	for i, v := range vals {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, k.fail("%s is a number, %q is not", k.x.field, v)
		}
		out[i] = n
	}
	return out, nil
}

func constant(v bool) *importer.Node {
	if v {
		return importer.True()
	}
	return importer.False()
}

// ip translates a comparison on an address path.
func (k *cmpCtx) ip(path string) (*importer.Node, error) {
	vals, err := k.onVals(path)
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		if strings.Contains(v, "/") {
			return nil, k.fail("%s compares addresses, %q is a prefix (use the matching .net field, e.g. fd.snet)", k.x.field, v)
		}
	}
	return k.strOp(path, vals)
}

// net translates a comparison of an address path with prefixes.
func (k *cmpCtx) net(path string) (*importer.Node, error) {
	vals, err := k.onVals(path)
	if err != nil {
		return nil, err
	}
	var prefixes []string
	for _, v := range vals {
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			a, aerr := netip.ParseAddr(v)
			if aerr != nil {
				return nil, k.fail("%s takes network prefixes (10.0.0.0/8), %q is not one", k.x.field, v)
			}
			pfx = netip.PrefixFrom(a, a.BitLen())
		}
		prefixes = append(prefixes, pfx.Masked().String())
	}
	n := &importer.Node{Op: importer.OpCIDR, Path: path, CIDR: prefixes}
	switch k.x.op {
	case "=", "==", "in", "intersects":
		if len(prefixes) == 0 {
			return importer.False(), nil
		}
		return n, nil
	case "!=":
		return importer.Negate(n), nil
	}
	return nil, k.fail("operator %s does not apply to %s (use =, != or in)", k.x.op, k.x.field)
}

// either translates a comparison with a field that matches either end of a
// connection (fd.ip, fd.net, fd.port): true when one end matches; != is true when
// neither does.
func (k *cmpCtx) either(one func(k *cmpCtx) (*importer.Node, error)) (*importer.Node, error) {
	if k.x.op == "!=" {
		eq := *k
		x := *k.x
		x.op = "="
		eq.x = &x
		n, err := one(&eq)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.Negate(n)), nil
	}
	return one(k)
}

// truth reads a comparison with a boolean field as the value it asks for: true for
// proc.is_exe_upper_layer = true and != false.
func (k *cmpCtx) truth() (bool, error) {
	vals, err := k.vals()
	if err != nil {
		return false, err
	}
	if len(vals) != 1 {
		return false, k.fail("%s is true or false", k.x.field)
	}
	var v bool
	switch strings.ToLower(vals[0]) {
	case "true":
		v = true
	case "false":
	default:
		return false, k.fail("%s is true or false, %q is neither", k.x.field, vals[0])
	}
	switch k.x.op {
	case "=", "==":
		return v, nil
	case "!=":
		return !v, nil
	}
	return false, k.fail("operator %s does not apply to the boolean %s (use = or !=)", k.x.op, k.x.field)
}

// boolOn translates a boolean field that is true when node holds.
func (k *cmpCtx) boolOn(node *importer.Node) (*importer.Node, error) {
	v, err := k.truth()
	if err != nil {
		return nil, err
	}
	if v {
		return node, nil
	}
	return importer.Simplify(importer.Negate(node)), nil
}

// strRegexp is the regular expression a whole string matches when the comparison
// holds (=, in, startswith, endswith, contains, icontains, glob, iglob): class is
// what a wildcard may cover (`.` or a narrower class such as `[^/]` or `\S`), and
// comm makes a value of exactly 15 characters match any longer name it begins
// (Linux keeps 15 characters of a process's name).
func (k *cmpCtx) strRegexp(vals []string, class string, comm bool) (string, error) {
	var alts []string
	for _, v := range vals {
		q := regexp.QuoteMeta(v)
		switch k.x.op {
		case "=", "==", "in", "intersects":
			if comm && len(v) == commLen {
				q += class + "*"
			}
			alts = append(alts, q)
		case "startswith":
			alts = append(alts, q+class+"*")
		case "endswith":
			alts = append(alts, class+"*"+q)
		case "contains", "icontains":
			alts = append(alts, class+"*"+q+class+"*")
		case "glob", "iglob":
			g, err := globRegexp(v, class)
			if err != nil {
				return "", k.fail("%v", err)
			}
			alts = append(alts, g)
		default:
			return "", k.fail("operator %s on %s is not supported", k.x.op, k.x.field)
		}
	}
	if len(alts) == 0 {
		return "", nil
	}
	re := "(?:" + strings.Join(alts, "|") + ")"
	if k.x.op == "icontains" || k.x.op == "iglob" {
		re = "(?i:" + re + ")"
	}
	return re, nil
}

// commLen is how much of a process's name Linux keeps (TASK_COMM_LEN - 1).
const commLen = 15

// commField reports whether a field holds process names as Falco reads them (the
// kernel's comm, cut to 15 characters).
func commField(f string) bool {
	return f == "proc.name" || f == "proc.pname" || strings.HasPrefix(f, "proc.aname")
}
