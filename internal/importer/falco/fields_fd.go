package falco

import (
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// File descriptor (fd.*) and path (fs.path.*) fields.
func init() {
	handlers["fd.name"] = func(k *cmpCtx) (*importer.Node, error) {
		switch fdKind(k.t) {
		case fdFile:
			return k.str("event/TARGET/FILE_PATH")
		case fdNone:
			return k.absent(), nil
		case fdSocket:
			return nil, k.fail("fd.name of a socket is its connection (1.2.3.4:5->6.7.8.9:10): compare its parts (fd.sip, fd.sport, fd.cip, …)")
		}
		return nil, k.fail("fd.name has no Vigil equivalent on %s events", k.t)
	}
	handlers["fd.filename"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.onFile(func() (*importer.Node, error) { return k.str("event/TARGET/FILE_NAME") })
	}
	handlers["fd.directory"] = func(k *cmpCtx) (*importer.Node, error) { return k.onFile(k.directory) }
	handlers["fs.path.name"] = handlers["fd.name"]
	handlers["fs.path.target"] = handlers["fd.name"]
	handlers["fs.path.source"] = func(k *cmpCtx) (*importer.Node, error) {
		switch k.t {
		case event.FileRename:
			return k.str("event/TARGET/OLD_FILE_PATH")
		case event.FileLink:
			return k.str("event/LINK_TARGET")
		}
		return k.onFile(func() (*importer.Node, error) { return k.absent(), nil })
	}
	handlers["fd.nameraw"] = func(k *cmpCtx) (*importer.Node, error) { return k.rawPath() }
	handlers["fd.typechar"] = func(k *cmpCtx) (*importer.Node, error) { return k.fdType() }
	handlers["fd.type"] = handlers["fd.typechar"]
	handlers["fd.sockfamily"] = func(k *cmpCtx) (*importer.Node, error) {
		if fdKind(k.t) != fdSocket {
			return k.absent(), nil
		}
		v, err := k.evalConst("ip", mustVals(k))
		if err != nil {
			return nil, err
		}
		return constant(v), nil
	}
	handlers["fd.l4proto"] = func(k *cmpCtx) (*importer.Node, error) {
		if fdKind(k.t) != fdSocket {
			return k.absent(), nil
		}
		return k.str("event/PROTOCOL")
	}
	handlers["fd.num"] = func(k *cmpCtx) (*importer.Node, error) { return k.fdNum() }

	for _, end := range []string{"s", "c", "l", "r"} {
		handlers["fd."+end+"ip"] = func(k *cmpCtx) (*importer.Node, error) {
			return k.socketEnd(socketSide(end, k.t), "/IP_ADDRESS", (*cmpCtx).ip)
		}
		handlers["fd."+end+"port"] = func(k *cmpCtx) (*importer.Node, error) {
			return k.socketEnd(socketSide(end, k.t), "/PORT", (*cmpCtx).num)
		}
		handlers["fd."+end+"net"] = func(k *cmpCtx) (*importer.Node, error) {
			return k.socketEnd(socketSide(end, k.t), "/IP_ADDRESS", (*cmpCtx).net)
		}
		notCarried["fd."+end+"ip.name"] = "the name an address resolves to: Vigil's network events carry addresses, not names"
	}
	both := func(suffix string, one func(*cmpCtx, string) (*importer.Node, error)) handler {
		return func(k *cmpCtx) (*importer.Node, error) {
			if fdKind(k.t) != fdSocket {
				return k.absent(), nil
			}
			return k.either(func(k *cmpCtx) (*importer.Node, error) {
				var alts []*importer.Node
				for _, side := range []string{"SOURCE", "DESTINATION"} {
					if _, ok := fieldOf("event/"+side+suffix, k.t); !ok {
						continue
					}
					n, err := one(k, "event/"+side+suffix)
					if err != nil {
						return nil, err
					}
					alts = append(alts, n)
				}
				return importer.Simplify(importer.Or(alts...)), nil
			})
		}
	}
	handlers["fd.ip"] = both("/IP_ADDRESS", (*cmpCtx).ip)
	handlers["fd.port"] = both("/PORT", (*cmpCtx).num)
	handlers["fd.net"] = both("/IP_ADDRESS", (*cmpCtx).net)

	for f, why := range map[string]string{
		"fs.path.nameraw":       "the path as the process gave it: Vigil reports paths made absolute, with . and .. resolved",
		"fs.path.sourceraw":     "the path as the process gave it: Vigil reports paths made absolute, with . and .. resolved",
		"fs.path.targetraw":     "the path as the process gave it: Vigil reports paths made absolute, with . and .. resolved",
		"fd.connected":          "whether a socket is connected is not carried",
		"fd.name_changed":       "not carried (a UDP socket's first datagram to each destination is reported as a connect)",
		"fd.is_server":          "not carried",
		"fd.ip.name":            "the name an address resolves to: Vigil's network events carry addresses, not names",
		"fd.dev":                "device numbers are not carried",
		"fd.dev.major":          "device numbers are not carried",
		"fd.dev.minor":          "device numbers are not carried",
		"fd.ino":                "inode numbers are not carried",
		"fd.uid":                "not carried",
		"fd.containername":      "not carried (compare container.id and fd.name)",
		"fd.containerdirectory": "not carried (compare container.id and fd.directory)",
		"fd.types":              "the process's descriptors are not carried",
		"fd.proto":              "not carried",
		"fd.cproto":             "not carried",
		"fd.sproto":             "not carried",
		"fd.lproto":             "not carried",
		"fd.rproto":             "not carried",
	} {
		notCarried[f] = why
	}
	notCarriedPrefix["fdlist."] = "poll's descriptor lists are not carried"
}

// fdKinds: what the descriptor of an event type's syscalls is.
const (
	fdOther  = iota // a descriptor Vigil says nothing of (memfd_create's, bpf's, …)
	fdNone          // the syscalls take no descriptor: fd.* fields have no value
	fdFile          // a file or directory, its path in event/TARGET/FILE_PATH
	fdSocket        // an IP socket, its ends in event/SOURCE and event/DESTINATION
)

func fdKind(t event.Type) int {
	switch t {
	case event.NewProcess, event.TerminateProcess, event.PrivilegeChange, event.Ptrace, event.Mount, event.Unmount:
		return fdNone
	case fdDup:
		return fdSocket
	}
	if _, ok := fieldOf("event/TARGET/FILE_PATH", t); ok {
		return fdFile
	}
	if _, ok := fieldOf("event/DESTINATION/IP_ADDRESS", t); ok {
		return fdSocket
	}
	return fdOther
}

// socketSide is where an end of a connection is on events of type t: s(erver),
// c(lient), l(ocal) or r(emote) as SOURCE or DESTINATION, or "" when the event has
// no such end. The server is the destination of a connect and the listener of an
// accept or a listen.
func socketSide(end string, t event.Type) string {
	switch end {
	case "s":
		return "DESTINATION"
	case "c":
		if t == fdDup {
			return ""
		}
		return "SOURCE"
	case "l":
		switch t {
		case event.NetworkAccept, event.NetworkListen:
			return "DESTINATION"
		case fdDup:
			return ""
		}
		return "SOURCE"
	case "r":
		switch t {
		case event.NetworkAccept:
			return "SOURCE"
		case event.NetworkListen:
			return ""
		}
		return "DESTINATION"
	}
	return ""
}

// rawPath translates fd.nameraw, the path as the process gave it: Vigil's
// FILE_OPEN carries it as event/RAW_PATH only when it holds "..", and is empty
// otherwise. A comparison that can be true only of a path holding ".." (contains
// '../', glob '*../*', = of such a path, and their negations) is exact; any other
// would differ from Falco on the paths without "..", and fails.
func (k *cmpCtx) rawPath() (*importer.Node, error) {
	switch {
	case fdKind(k.t) == fdNone:
		return k.absent(), nil
	case k.t != event.FileOpen:
		return nil, k.fail("%s has no Vigil equivalent on %s events: the path as the process gave it is kept on FILE_OPEN only (event/RAW_PATH)", k.x.field, k.t)
	}
	if k.x.op == "exists" {
		return nil, k.fail("%s: event/RAW_PATH is empty when the path holds no \"..\"", k.s.quote(k.x))
	}
	vals, err := k.onVals("event/RAW_PATH")
	if err != nil {
		return nil, err
	}
	for _, v := range vals {
		if !needsDots(k.x.op, v) {
			return nil, k.fail("%s: Vigil keeps the path as the process gave it only when it holds \"..\" (event/RAW_PATH), so only a comparison true of such paths alone translates (contains '../', glob '*../*')", k.s.quote(k.x))
		}
	}
	return k.strOp("event/RAW_PATH", vals)
}

// needsDots reports whether the comparison op with the value v is true only of
// strings that hold "..", so that it reads the same of event/RAW_PATH (empty
// without "..") as of the path itself.
func needsDots(op, v string) bool {
	switch op {
	case "=", "==", "!=", "in", "intersects", "contains", "icontains", "startswith", "endswith":
		return strings.Contains(v, "..")
	case "glob", "iglob":
		// A run of literal characters outside a class holds "..".
		dots := 0
		for i := 0; i < len(v); i++ {
			switch v[i] {
			case '.':
				if dots++; dots == 2 {
					return true
				}
				continue
			case '[':
				j := i + 1
				if j < len(v) && (v[j] == '!' || v[j] == '^') {
					j++
				}
				if j < len(v) && v[j] == ']' {
					j++
				}
				for j < len(v) && v[j] != ']' {
					j++
				}
				i = j
			}
			dots = 0
		}
	}
	return false
}

// onFile translates a field of a file's descriptor: one on file events, absent on
// events without a descriptor.
func (k *cmpCtx) onFile(one func() (*importer.Node, error)) (*importer.Node, error) {
	switch fdKind(k.t) {
	case fdFile:
		return one()
	case fdNone, fdSocket:
		return k.absent(), nil
	}
	return nil, k.fail("%s has no Vigil equivalent on %s events", k.x.field, k.t)
}

// socketEnd translates a field of one end of a connection (side SOURCE or
// DESTINATION; "" when the event has no such end).
func (k *cmpCtx) socketEnd(side, suffix string, one func(*cmpCtx, string) (*importer.Node, error)) (*importer.Node, error) {
	if fdKind(k.t) != fdSocket {
		return k.absent(), nil
	}
	if side == "" {
		return k.absent(), nil
	}
	return one(k, "event/"+side+suffix)
}

func mustVals(k *cmpCtx) []string {
	vals, _ := k.vals()
	return vals
}

// directory compares fd.directory, the directory of the file: on Vigil's events, the
// path of event/TARGET/FILE_PATH up to its last slash.
func (k *cmpCtx) directory() (*importer.Node, error) {
	const p = "event/TARGET/FILE_PATH"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	matches := func(dirRe string) *importer.Node {
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)^" + dirRe + "/[^/]+$"}
	}
	op := k.x.op
	switch op {
	case "exists":
		return importer.Leaf(importer.OpExists, p, nil), nil
	case "pmatch":
		return k.pmatch(p, vals, true)
	case "=", "==", "!=", "in", "intersects":
		if op != "in" && op != "intersects" {
			vals = vals[:1]
		}
		var alts []string
		for _, v := range vals {
			if v == "/" {
				alts = append(alts, "")
				continue
			}
			alts = append(alts, regexp.QuoteMeta(v))
		}
		if len(alts) == 0 {
			return importer.False(), nil
		}
		n := matches("(?:" + strings.Join(alts, "|") + ")")
		if op == "!=" {
			return importer.Negate(n), nil
		}
		return n, nil
	case "startswith", "endswith", "contains", "icontains", "glob", "iglob":
		re, err := k.strRegexp(vals, ".", false)
		if err != nil {
			return nil, err
		}
		if re == "" {
			return importer.False(), nil
		}
		return matches(re), nil
	}
	return nil, k.fail("operator %s on fd.directory is not supported", op)
}

// fdTypes are fd.typechar's letters and fd.type's names.
var fdTypes = map[string]string{
	"f": "file", "d": "directory", "4": "ipv4", "6": "ipv6", "u": "unix", "p": "pipe",
	"e": "event", "s": "signalfd", "l": "eventpoll", "i": "inotify", "b": "bpf",
	"r": "io_uring", "m": "memfd", "o": "unknown", "n": "netlink",
}

// fdType compares fd.typechar and fd.type. A file event's descriptor is a file or a
// directory, which Vigil does not tell apart: either is accepted where it is not
// negated. A socket's family is its address's.
func (k *cmpCtx) fdType() (*importer.Node, error) {
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	switch k.x.op {
	case "=", "==", "!=", "in", "intersects":
	default:
		return nil, k.fail("operator %s on %s is not supported (use =, != or in)", k.x.op, k.x.field)
	}
	if k.x.op != "in" && k.x.op != "intersects" {
		vals = vals[:1]
	}
	want := map[string]bool{}
	for _, v := range vals {
		name := v
		if n, ok := fdTypes[v]; ok && k.x.field == "fd.typechar" {
			name = n
		}
		want[name] = true
	}
	negated := k.x.op == "!="
	var n *importer.Node
	switch fdKind(k.t) {
	case fdNone:
		return k.absent(), nil
	case fdFile:
		if want["file"] != want["directory"] && k.neg != negated {
			return nil, k.fail("%s %s: Vigil's %s events do not tell files from directories", k.x.field, k.x.op, k.t)
		}
		n = constant(want["file"] || want["directory"])
	case fdSocket:
		var alts []*importer.Node
		if want["ipv4"] {
			alts = append(alts, ipv4(familyPath))
		}
		if want["ipv6"] {
			alts = append(alts, ipv6(familyPath))
		}
		n = mergeFamilies(importer.Simplify(importer.Or(alts...)))
	case fdOther:
		kinds := map[event.Type]string{event.MemfdCreate: "memfd", event.BPFLoad: "bpf"}
		name, ok := kinds[k.t]
		if !ok {
			return nil, k.fail("%s has no Vigil equivalent on %s events", k.x.field, k.t)
		}
		n = constant(want[name])
	}
	if negated {
		n = importer.Simplify(importer.Negate(n))
	}
	return n, nil
}

// familyPath is the address whose family tells an IPv4 socket from an IPv6 one.
const familyPath = "event/DESTINATION/IP_ADDRESS"

func ipv4(p string) *importer.Node {
	return &importer.Node{Op: importer.OpCIDR, Path: p, CIDR: []string{"0.0.0.0/0"}}
}

func ipv6(p string) *importer.Node {
	return importer.And(importer.Leaf(importer.OpExists, p, nil), importer.Negate(ipv4(p)))
}

// mergeFamilies folds an or that holds an IPv4 and an IPv6 test of the address
// (fd.typechar = 4 or fd.typechar = 6) into the address's existence.
func mergeFamilies(n *importer.Node) *importer.Node {
	if n.Op != importer.OpOr || n.Not {
		return n
	}
	v4 := false
	for _, c := range n.Rules {
		v4 = v4 || c.Op == importer.OpCIDR && c.Path == familyPath && len(c.CIDR) == 1 && c.CIDR[0] == "0.0.0.0/0"
	}
	if !v4 {
		return n
	}
	key := func(x *importer.Node) string {
		y, err := (&importer.Doc{Events: []string{"X"}, Detection: x}).Marshal()
		if err != nil {
			return ""
		}
		return string(y)
	}
	k4, k6 := key(ipv4(familyPath)), key(ipv6(familyPath))
	i4, i6 := -1, -1
	for i, c := range n.Rules {
		switch key(c) {
		case k4:
			i4 = i
		case k6:
			i6 = i
		}
	}
	if i4 < 0 || i6 < 0 {
		return n
	}
	kids := []*importer.Node{importer.Leaf(importer.OpExists, familyPath, nil)}
	for i, c := range n.Rules {
		if i != i4 && i != i6 {
			kids = append(kids, c)
		}
	}
	return importer.Simplify(importer.Or(kids...))
}

// fdNum compares fd.num. Vigil reports calls that succeeded and does not keep the
// descriptor's number: only comparisons that any descriptor (0 or more) satisfies
// alike, such as fd.num >= 0 or fd.num = -1, translate.
func (k *cmpCtx) fdNum() (*importer.Node, error) {
	switch fdKind(k.t) {
	case fdNone:
		return k.absent(), nil
	case fdFile, fdSocket:
	default:
		return nil, k.fail("fd.num has no Vigil equivalent on %s events", k.t)
	}
	return k.overRange(0, infoNote, "Vigil does not keep descriptor numbers, only that the call succeeded")
}

// overRange folds a comparison with a number Vigil does not carry but knows to lie
// in [lo, ∞): when the comparison holds for every such value, or for none.
func (k *cmpCtx) overRange(lo int64, kind noteKind, why string) (*importer.Node, error) {
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	switch k.x.op {
	case "=", "==", "!=", "in", "intersects", "<", ">", "<=", ">=":
	default:
		return nil, k.fail("operator %s does not apply to the number %s", k.x.op, k.x.field)
	}
	const hi = int64(1) << 62
	probes := []int64{lo, hi}
	for _, n := range nums {
		for _, p := range []int64{n - 1, n, n + 1} {
			if p >= lo && p <= hi {
				probes = append(probes, p)
			}
		}
	}
	first := holds(k.x.op, probes[0], nums)
	for _, p := range probes[1:] {
		if holds(k.x.op, p, nums) != first {
			return nil, k.fail("%s %s %s: %s", k.x.field, k.x.op, strings.Join(k.rawValues(), ", "), why)
		}
	}
	k.note(kind, "%s is %v: %s", k.s.quote(k.x), first, why)
	return constant(first), nil
}
