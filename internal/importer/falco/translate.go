package falco

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// src is the text a position refers to: the rule's condition or a macro's.
type src struct {
	what string // "condition" or "macro <name> (line N)"
	text string
}

// conv converts one rule's condition.
type conv struct {
	file  *file
	rule  *rule
	stack []string // macros being expanded, innermost last
	steps int      // translation steps taken, bounded by maxSteps
}

// maxSteps bounds the work of one rule's translation (macros used many times over
// at many levels expand exponentially).
const maxSteps = 1 << 18

const maxMacroDepth = 50

// errf is an error naming the rule, the construct and where it is.
func (c *conv) errf(s *src, pos int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	return fmt.Errorf("%s:%d: rule %q: %s%s", c.file.name, c.rule.line, c.rule.name, msg, s.at(pos))
}

func (s *src) at(pos int) string {
	if pos < 0 {
		return " (in the rule's exceptions)"
	}
	if pos > len(s.text) {
		pos = len(s.text)
	}
	snip := strings.Join(strings.Fields(s.text[pos:]), " ")
	if r := []rune(snip); len(r) > 40 {
		snip = string(r[:40]) + "…"
	}
	return fmt.Sprintf(" (in the %s at %q)", s.what, snip)
}

func (c *conv) wrap(err error, s *src) error {
	var ce *condError
	if errors.As(err, &ce) {
		return c.errf(s, ce.pos, "syntax error: %s", ce.msg)
	}
	return err
}

// macro returns the parsed macro of the file, or nil for a standard macro (known
// to Vigil), or an error for an unknown name or a recursive macro.
func (c *conv) macro(ref *macroRef, s *src) (*macro, error) {
	m, ok := c.file.macros[ref.name]
	if !ok {
		if _, std := standardMacros[ref.name]; std {
			return nil, nil
		}
		return nil, c.errf(s, ref.pos, "unknown macro %s (not defined in the file, and not one of the standard Falco macros Vigil knows: %s)", ref.name, strings.Join(standardMacroNames(), ", "))
	}
	for _, n := range c.stack {
		if n == ref.name {
			return nil, c.errf(s, ref.pos, "macro %s refers to itself (%s → %s)", ref.name, strings.Join(c.stack, " → "), ref.name)
		}
	}
	if len(c.stack) >= maxMacroDepth {
		return nil, c.errf(s, ref.pos, "macros nest deeper than %d levels", maxMacroDepth)
	}
	if m.ast == nil && m.err == nil {
		m.ast, m.err = parseCond(m.cond)
	}
	if m.err != nil {
		return nil, c.wrap(m.err, m.src())
	}
	return m, nil
}

func (m *macro) src() *src {
	return &src{what: fmt.Sprintf("macro %s (line %d)", m.name, m.line), text: m.cond}
}

// typeSet is a set of event types; nil means unrestricted (any type).
type typeSet map[string]bool

func intersect(a, b typeSet) typeSet {
	if a == nil {
		return b
	}
	if b == nil {
		return a
	}
	out := typeSet{}
	for t := range a {
		if b[t] {
			out[t] = true
		}
	}
	return out
}

// types infers the event types a condition can match: evt.type comparisons and
// the standard macros restrict them; and intersects, or unites (when every branch
// is restricted), not leaves them unrestricted.
func (c *conv) types(e expr, s *src) (typeSet, error) {
	c.steps++
	if c.steps > maxSteps {
		return nil, c.errf(s, e.at(), "condition expands to more than %d terms", maxSteps)
	}
	switch x := e.(type) {
	case *andExpr:
		var out typeSet
		for _, sub := range x.xs {
			ts, err := c.types(sub, s)
			if err != nil {
				return nil, err
			}
			out = intersect(out, ts)
		}
		return out, nil
	case *orExpr:
		out := typeSet{}
		restricted := true
		for _, sub := range x.xs {
			ts, err := c.types(sub, s)
			if err != nil {
				return nil, err
			}
			if ts == nil {
				restricted = false
			}
			for t := range ts {
				out[t] = true
			}
		}
		if !restricted {
			return nil, nil
		}
		return out, nil
	case *notExpr:
		// still check what is inside, for errors
		if _, err := c.types(x.x, s); err != nil {
			return nil, err
		}
		return nil, nil
	case *macroRef:
		m, err := c.macro(x, s)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return standardMacros[x.name].types, nil
		}
		c.stack = append(c.stack, x.name)
		defer func() { c.stack = c.stack[:len(c.stack)-1] }()
		return c.types(m.ast, m.src())
	case *cmpExpr:
		if x.field != "evt.type" {
			return nil, nil
		}
		switch x.op {
		case "=", "==", "in":
		case "!=":
			return nil, nil
		default:
			return nil, c.errf(s, x.pos, "evt.type %s is not supported (use =, != or in)", x.op)
		}
		out := typeSet{}
		var unknown []string
		for _, v := range c.expand(x.values) {
			t, ok := syscallTypes[v.s]
			if !ok {
				unknown = append(unknown, v.s)
				continue
			}
			out[t] = true
		}
		if len(unknown) > 0 {
			return nil, c.errf(s, x.pos, "evt.type %s has no Vigil event type (known: %s)", strings.Join(unknown, ", "), strings.Join(knownSyscalls(), ", "))
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

// expand replaces list names (unquoted values naming a list of the file) by the
// list's items.
func (c *conv) expand(vs []value) []value {
	var out []value
	for _, v := range vs {
		if l, ok := c.file.lists[v.s]; ok && !v.quoted {
			for _, it := range l.items {
				out = append(out, value{s: it, quoted: true, pos: v.pos})
			}
			continue
		}
		out = append(out, v)
	}
	return out
}

// tr translates the condition for events of type t. neg says whether the node sits
// under an odd number of negations: a comparison Vigil can only approximate by
// matching more (evt.type = execve also matches execveat: both are NEW_PROCESS) is
// accepted where it is not negated and refused where it is.
func (c *conv) tr(e expr, t string, neg bool, s *src) (*importer.Node, error) {
	c.steps++
	if c.steps > maxSteps {
		return nil, c.errf(s, e.at(), "condition expands to more than %d terms", maxSteps)
	}
	switch x := e.(type) {
	case *andExpr, *orExpr:
		var xs []expr
		mk := importer.And
		if a, ok := x.(*andExpr); ok {
			xs = a.xs
		} else {
			xs, mk = x.(*orExpr).xs, importer.Or
		}
		// An operand that decides the whole (false in an and, true in an or)
		// makes the others irrelevant for this type, including their errors: a
		// branch about files is dead on NEW_PROCESS events.
		kids := make([]*importer.Node, 0, len(xs))
		var firstErr error
		for _, sub := range xs {
			n, err := c.tr(sub, t, neg, s)
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			if _, isAnd := x.(*andExpr); isAnd && n.IsFalse() || !isAnd && n.IsTrue() {
				return n, nil
			}
			kids = append(kids, n)
		}
		if firstErr != nil {
			return nil, firstErr
		}
		return importer.Simplify(mk(kids...)), nil
	case *notExpr:
		n, err := c.tr(x.x, t, !neg, s)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.Negate(n)), nil
	case *macroRef:
		m, err := c.macro(x, s)
		if err != nil {
			return nil, err
		}
		if m == nil {
			return standardMacros[x.name].node(t), nil
		}
		c.stack = append(c.stack, x.name)
		defer func() { c.stack = c.stack[:len(c.stack)-1] }()
		return c.tr(m.ast, t, neg, m.src())
	case *cmpExpr:
		return c.cmp(x, t, neg, s)
	}
	return nil, fmt.Errorf("unknown expression %T", e)
}

// Field kinds.
const (
	kString = iota
	kNumber
	kIP      // an address: string ops, and a prefix is refused (use fd.snet)
	kNet     // fd.snet / fd.cnet: = and in take prefixes
	kCmdline // Falco's "name args" against Vigil's argv
	kContainer
)

type fieldInfo struct {
	path string
	kind int
}

// fieldMap is how Falco fields read Vigil rule paths.
var fieldMap = map[string]fieldInfo{
	"proc.name":     {"event/FILE_NAME", kString},
	"proc.exepath":  {"event/FILE_PATH", kString},
	"proc.cmdline":  {"event/COMMAND_LINE", kCmdline},
	"proc.pname":    {"event/PARENT/FILE_NAME", kString},
	"proc.pexepath": {"event/PARENT/FILE_PATH", kString},
	"proc.pcmdline": {"event/PARENT/COMMAND_LINE", kCmdline},
	"proc.pid":      {"event/PROCESS_ID", kNumber},
	"proc.ppid":     {"event/PARENT_PROCESS_ID", kNumber},
	"user.name":     {"event/USER", kString},
	"user.uid":      {"event/USER_ID", kNumber},
	"container.id":  {"event/CONTAINER_ID", kContainer},
	"fd.name":       {"event/TARGET/FILE_PATH", kString},
	"fd.filename":   {"event/TARGET/FILE_NAME", kString},
	"fd.sip":        {"event/DESTINATION/IP_ADDRESS", kIP},
	"fd.sport":      {"event/DESTINATION/PORT", kNumber},
	"fd.cip":        {"event/SOURCE/IP_ADDRESS", kIP},
	"fd.cport":      {"event/SOURCE/PORT", kNumber},
	"fd.snet":       {"event/DESTINATION/IP_ADDRESS", kNet},
	"fd.cnet":       {"event/SOURCE/IP_ADDRESS", kNet},
}

// argv0 matches the first word of a Vigil command line when it is written with a
// directory (argv[0] as invoked: /usr/bin/curl), so that a Falco command line
// ("curl args") compares from the program's name on.
const argv0 = `^(?:\S*/)?`

func (c *conv) cmp(x *cmpExpr, t string, neg bool, s *src) (*importer.Node, error) {
	switch x.field {
	case "evt.type":
		return c.evtType(x, t, neg, s)
	case "evt.dir":
		if len(x.values) == 1 && (x.op == "=" || x.op == "==" || x.op == "!=") && (x.values[0].s == "<" || x.values[0].s == ">") {
			// Vigil events describe completed calls: the exit direction.
			exit := x.values[0].s == "<"
			if x.op == "!=" {
				exit = !exit
			}
			if exit {
				return importer.True(), nil
			}
			return importer.False(), nil
		}
		return nil, c.errf(s, x.pos, "evt.dir %s is not supported (only evt.dir = < or >)", x.op)
	}
	fi, ok := fieldMap[x.field]
	if !ok {
		fi, ok = ancestorField(x.field)
	}
	if !ok {
		return nil, c.errf(s, x.pos, "field %s is not supported (supported: %s)", x.field, strings.Join(supportedFields(), ", "))
	}
	f, err := event.Lookup(fi.path)
	if err != nil {
		return nil, fmt.Errorf("field %s: %w", x.field, err)
	}
	if !f.AppliesTo(t) {
		return nil, c.errf(s, x.pos, "field %s has no Vigil equivalent on %s events (%s is not part of them)", x.field, t, fi.path)
	}
	vals := x.values
	if x.list {
		vals = c.expand(vals)
	}
	strs := make([]string, len(vals))
	for i, v := range vals {
		strs[i] = v.s
	}
	p := fi.path
	switch x.op {
	case "intersects", "bcontains", "bstartswith", "regex":
		return nil, c.errf(s, x.pos, "operator %s is not supported", x.op)
	case "exists":
		if fi.kind == kContainer {
			return nil, c.errf(s, x.pos, "container.id exists is always true in Falco (host processes have container.id = host): use the container macro or container.id != host")
		}
		return importer.Leaf(importer.OpExists, p, nil), nil
	}

	switch fi.kind {
	case kNumber:
		nums := make([]any, len(strs))
		for i, v := range strs {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return nil, c.errf(s, x.pos, "%s is a number, %q is not", x.field, v)
			}
			nums[i] = n
		}
		switch x.op {
		case "=", "==":
			return importer.Leaf(importer.OpIs, p, nums[0]), nil
		case "!=":
			return importer.Negate(importer.Leaf(importer.OpIs, p, nums[0])), nil
		case "in":
			return inList(p, nums, false), nil
		case "<":
			return importer.Leaf(importer.OpLower, p, nums[0]), nil
		case ">":
			return importer.Leaf(importer.OpGreater, p, nums[0]), nil
		case "<=":
			return importer.Leaf(importer.OpLower, p, nums[0].(int64)+1), nil
		case ">=":
			return importer.Leaf(importer.OpGreater, p, nums[0].(int64)-1), nil
		}
		return nil, c.errf(s, x.pos, "operator %s does not apply to the number %s", x.op, x.field)
	case kNet:
		var prefixes []string
		for _, v := range strs {
			pfx, err := netip.ParsePrefix(v)
			if err != nil {
				a, aerr := netip.ParseAddr(v)
				if aerr != nil {
					return nil, c.errf(s, x.pos, "%s takes network prefixes (10.0.0.0/8), %q is not one", x.field, v)
				}
				pfx = netip.PrefixFrom(a, a.BitLen())
			}
			prefixes = append(prefixes, pfx.Masked().String())
		}
		n := &importer.Node{Op: importer.OpCIDR, Path: p, CIDR: prefixes}
		switch x.op {
		case "=", "==", "in":
			if len(prefixes) == 0 {
				return importer.False(), nil
			}
			return n, nil
		case "!=":
			return importer.Negate(n), nil
		}
		return nil, c.errf(s, x.pos, "operator %s does not apply to %s (use =, != or in)", x.op, x.field)
	case kIP:
		for _, v := range strs {
			if strings.Contains(v, "/") {
				return nil, c.errf(s, x.pos, "%s compares addresses, %q is a prefix (use %s)", x.field, v, strings.Replace(x.field, "ip", "net", 1))
			}
		}
	case kContainer:
		return c.container(x, strs, s)
	case kCmdline:
		return c.cmdline(x, p, strs, s)
	}
	return c.strOp(x, p, strs, s)
}

func inList(p string, vals []any, fold bool) *importer.Node {
	if len(vals) == 0 {
		return importer.False()
	}
	return &importer.Node{Op: importer.OpInList, Path: p, Values: vals, Fold: fold}
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// strOp translates a comparison on a plain string path.
func (c *conv) strOp(x *cmpExpr, p string, vals []string, s *src) (*importer.Node, error) {
	switch x.op {
	case "=", "==":
		return importer.Leaf(importer.OpIs, p, vals[0]), nil
	case "!=":
		return importer.Negate(importer.Leaf(importer.OpIs, p, vals[0])), nil
	case "contains", "icontains":
		n := importer.Leaf(importer.OpContains, p, vals[0])
		n.Fold = x.op == "icontains"
		return n, nil
	case "startswith":
		return importer.Leaf(importer.OpStarts, p, vals[0]), nil
	case "endswith":
		return importer.Leaf(importer.OpEnds, p, vals[0]), nil
	case "in":
		return inList(p, anys(vals), false), nil
	case "pmatch":
		var alts []*importer.Node
		for _, v := range vals {
			if strings.ContainsAny(v, "*?[") {
				return nil, c.errf(s, x.pos, "pmatch with a wildcard (%q) is not supported", v)
			}
			if strings.HasSuffix(v, "/") {
				alts = append(alts, importer.Leaf(importer.OpStarts, p, v))
				continue
			}
			alts = append(alts, importer.Leaf(importer.OpIs, p, v), importer.Leaf(importer.OpStarts, p, v+"/"))
		}
		return importer.Simplify(importer.Or(alts...)), nil
	case "glob", "iglob":
		re, err := importer.GlobRegexp(vals[0], false)
		if err != nil {
			return nil, c.errf(s, x.pos, "%v", err)
		}
		if x.op == "iglob" {
			re = "(?i)" + re
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "^" + re + "$"}, nil
	}
	return nil, c.errf(s, x.pos, "operator %s does not apply to the string %s", x.op, x.field)
}

// cmdline translates a comparison with proc.cmdline / proc.pcmdline. Falco's
// command line is the process name, a space and the arguments; Vigil's is argv
// joined by spaces with argv[0] as invoked (often a path). contains, endswith and
// exists compare directly; comparisons anchored at the start (=, !=, startswith, in,
// glob) become an RE2 match that lets argv[0] carry a directory.
func (c *conv) cmdline(x *cmpExpr, p string, vals []string, s *src) (*importer.Node, error) {
	switch x.op {
	case "contains", "icontains", "endswith":
		return c.strOp(x, p, vals, s)
	case "=", "==", "!=":
		n := &importer.Node{Op: importer.OpMatches, Path: p, Re: argv0 + regexp.QuoteMeta(vals[0]) + "$"}
		if x.op == "!=" {
			n = importer.Negate(n)
		}
		return n, nil
	case "startswith":
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: argv0 + regexp.QuoteMeta(vals[0])}, nil
	case "in":
		if len(vals) == 0 {
			return importer.False(), nil
		}
		qs := make([]string, len(vals))
		for i, v := range vals {
			qs[i] = regexp.QuoteMeta(v)
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: argv0 + "(?:" + strings.Join(qs, "|") + ")$"}, nil
	case "glob", "iglob":
		re, err := importer.GlobRegexp(vals[0], false)
		if err != nil {
			return nil, c.errf(s, x.pos, "%v", err)
		}
		if x.op == "iglob" {
			re = "(?i)" + re
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: argv0 + re + "$"}, nil
	}
	return nil, c.errf(s, x.pos, "operator %s on %s is not supported", x.op, x.field)
}

// container translates container.id comparisons: Falco's "host" is Vigil's empty
// CONTAINER_ID.
func (c *conv) container(x *cmpExpr, vals []string, s *src) (*importer.Node, error) {
	p := fieldMap["container.id"].path
	onHost := importer.Negate(importer.Leaf(importer.OpExists, p, nil))
	switch x.op {
	case "=", "==", "!=":
		n := importer.Leaf(importer.OpIs, p, vals[0])
		if vals[0] == "host" {
			n = onHost
		}
		if x.op == "!=" {
			n = importer.Negate(n)
		}
		return n, nil
	case "in":
		var others []any
		var alts []*importer.Node
		for _, v := range vals {
			if v == "host" {
				alts = append(alts, onHost)
				continue
			}
			others = append(others, v)
		}
		alts = append(alts, inList(p, others, false))
		return importer.Simplify(importer.Or(alts...)), nil
	}
	// Other operators compare the id's text; refuse those that Falco would also
	// satisfy with "host", which Vigil cannot see.
	n, err := c.strOp(x, p, vals, s)
	if err != nil {
		return nil, err
	}
	if hostMatches(x.op, vals) {
		return nil, c.errf(s, x.pos, "container.id %s %q also matches host processes in Falco (container.id = host), which Vigil records with no container id", x.op, strings.Join(vals, ", "))
	}
	return n, nil
}

func hostMatches(op string, vals []string) bool {
	const h = "host"
	for _, v := range vals {
		switch op {
		case "contains":
			if strings.Contains(h, v) {
				return true
			}
		case "icontains":
			if strings.Contains(h, strings.ToLower(v)) {
				return true
			}
		case "startswith":
			if strings.HasPrefix(h, v) {
				return true
			}
		case "endswith":
			if strings.HasSuffix(h, v) {
				return true
			}
		case "pmatch":
			if v == h {
				return true
			}
		case "glob", "iglob":
			re, err := importer.GlobRegexp(v, false)
			if err != nil {
				return true
			}
			if op == "iglob" {
				re = "(?i)" + re
			}
			if ok, _ := regexp.MatchString("^"+re+"$", h); ok {
				return true
			}
		}
	}
	return false
}

// evtType folds an evt.type comparison for events of type t. For PRIVILEGE_CHANGE
// events the syscall is in event/OPERATION and compared there; for other types a
// Vigil event type stands for a set of syscalls (FILE_OPEN: open, openat, openat2).
func (c *conv) evtType(x *cmpExpr, t string, neg bool, s *src) (*importer.Node, error) {
	negated := x.op == "!="
	switch x.op {
	case "=", "==", "in", "!=":
	default:
		return nil, c.errf(s, x.pos, "evt.type %s is not supported (use =, != or in)", x.op)
	}
	vals := c.expand(x.values)
	var covered []string
	for _, v := range vals {
		if syscallTypes[v.s] == t {
			covered = append(covered, v.s)
		}
	}
	if t == event.PrivilegeChange {
		n := inList("event/OPERATION", anys(covered), false)
		if negated {
			n = importer.Negate(n)
		}
		return importer.Simplify(n), nil
	}
	all := typeSyscalls(t)
	covered = dedupe(covered)
	var res bool
	switch len(covered) {
	case 0:
		res = false
	case len(all):
		res = true
	default:
		// Some but not all of the type's syscalls: Vigil cannot tell them apart.
		if neg != negated {
			return nil, c.errf(s, x.pos, "evt.type %s %s cannot be expressed: Vigil's %s events do not tell %s apart", x.op, strings.Join(covered, ", "), t, strings.Join(all, ", "))
		}
		res = true
	}
	if negated {
		res = !res
	}
	if res {
		return importer.True(), nil
	}
	return importer.False(), nil
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// syscallTypes maps Falco evt.type values to Vigil event types.
var syscallTypes = map[string]string{
	"execve": event.NewProcess, "execveat": event.NewProcess,
	"open": event.FileOpen, "openat": event.FileOpen, "openat2": event.FileOpen,
	"connect": event.NetworkConnect,
	"accept":  event.NetworkAccept, "accept4": event.NetworkAccept,
	"unlink": event.FileDelete, "unlinkat": event.FileDelete,
	"rename": event.FileRename, "renameat": event.FileRename, "renameat2": event.FileRename,
	"chmod": event.FileChmod, "fchmod": event.FileChmod, "fchmodat": event.FileChmod,
	"ptrace":      event.Ptrace,
	"init_module": event.ModuleLoad, "finit_module": event.ModuleLoad,
	"setuid": event.PrivilegeChange, "setresuid": event.PrivilegeChange, "setgid": event.PrivilegeChange,
	"creat": event.FileOpen,
	"link":  event.FileLink, "linkat": event.FileLink, "symlink": event.FileLink, "symlinkat": event.FileLink,
	"mkdir": event.DirCreate, "mkdirat": event.DirCreate, "rmdir": event.DirDelete,
	"mknod": event.FileMknod, "mknodat": event.FileMknod,
	"chown": event.FileChown, "fchown": event.FileChown, "lchown": event.FileChown, "fchownat": event.FileChown,
	"truncate": event.FileTruncate, "ftruncate": event.FileTruncate,
}

func typeSyscalls(t string) []string {
	var out []string
	for s, tt := range syscallTypes {
		if tt == t {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

func knownSyscalls() []string {
	out := make([]string, 0, len(syscallTypes))
	for s := range syscallTypes {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// ancestorFields are Falco's ancestor fields, proc.<name>[N], and the field of
// an ancestor they read.
var ancestorFields = map[string]fieldInfo{
	"proc.aname":    {"FILE_NAME", kString},
	"proc.aexepath": {"FILE_PATH", kString},
	"proc.apid":     {"PROCESS_ID", kNumber},
}

// ancestorField maps proc.aname[N], proc.aexepath[N] and proc.apid[N] (N ≥ 1:
// 1 is the parent) onto event/ANCESTORS/<N-1>/...
func ancestorField(field string) (fieldInfo, bool) {
	name, rest, ok := strings.Cut(field, "[")
	idx, ok2 := strings.CutSuffix(rest, "]")
	fi, ok3 := ancestorFields[name]
	if !ok || !ok2 || !ok3 {
		return fieldInfo{}, false
	}
	n, err := strconv.Atoi(idx)
	if err != nil || n < 1 || n > event.MaxPosition || strconv.Itoa(n) != idx {
		return fieldInfo{}, false
	}
	return fieldInfo{"event/ANCESTORS/" + strconv.Itoa(n-1) + "/" + fi.path, fi.kind}, true
}

func supportedFields() []string {
	out := []string{"evt.type", "evt.dir", "proc.aname[N]", "proc.aexepath[N]", "proc.apid[N]"}
	for f := range fieldMap {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// stdMacro is a standard Falco macro with its documented meaning in Vigil terms.
type stdMacro struct {
	types typeSet // nil: any
	node  func(t string) *importer.Node
}

// loopback are the destinations an outbound connection excludes (Falco:
// fd.ip != "0.0.0.0" and fd.net != "127.0.0.0/8", and IPv6 loopback).
var loopback = []string{"127.0.0.0/8", "0.0.0.0/32", "::1/128", "::/128", "::ffff:127.0.0.0/104"}

// einprogress is the errno of a non-blocking connect in progress, which Falco's
// outbound macro counts as a successful connect (evt.res = EINPROGRESS).
const einprogress = 115

func only(want string, n func() *importer.Node) func(string) *importer.Node {
	return func(t string) *importer.Node {
		if t != want {
			return importer.False()
		}
		return n()
	}
}

func flag(name string) *importer.Node {
	return &importer.Node{Op: importer.OpMatches, Path: "event/FILE_FLAGS", Re: `(^|,)` + name + `(,|$)`}
}

var standardMacros = map[string]stdMacro{
	"spawned_process": {typeSet{event.NewProcess: true}, only(event.NewProcess, importer.True)},
	"outbound": {typeSet{event.NetworkConnect: true}, only(event.NetworkConnect, func() *importer.Node {
		return importer.And(
			inList("event/ERROR_CODE", []any{int64(0), int64(einprogress)}, false),
			importer.Negate(&importer.Node{Op: importer.OpCIDR, Path: "event/DESTINATION/IP_ADDRESS", CIDR: loopback}))
	})},
	"inbound": {typeSet{event.NetworkAccept: true}, only(event.NetworkAccept, func() *importer.Node {
		return importer.And(
			importer.Leaf(importer.OpIs, "event/ERROR_CODE", int64(0)),
			importer.Negate(&importer.Node{Op: importer.OpCIDR, Path: "event/SOURCE/IP_ADDRESS", CIDR: loopback}))
	})},
	"open_read":  {typeSet{event.FileOpen: true}, only(event.FileOpen, func() *importer.Node { return flag("read") })},
	"open_write": {typeSet{event.FileOpen: true}, only(event.FileOpen, func() *importer.Node { return flag("write") })},
	"container": {nil, func(string) *importer.Node {
		return importer.Leaf(importer.OpExists, "event/CONTAINER_ID", nil)
	}},
	"never_true":  {typeSet{}, func(string) *importer.Node { return importer.False() }},
	"always_true": {nil, func(string) *importer.Node { return importer.True() }},
}

func standardMacroNames() []string {
	out := make([]string, 0, len(standardMacros))
	for n := range standardMacros {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
