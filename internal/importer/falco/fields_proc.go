package falco

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// Process, user, container and Kubernetes fields.
func init() {
	handlers["proc.name"] = func(k *cmpCtx) (*importer.Node, error) { return k.procName("event/FILE_NAME") }
	handlers["proc.pname"] = func(k *cmpCtx) (*importer.Node, error) { return k.procName("event/PARENT/FILE_NAME") }
	indexed["proc.aname"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.ancestor("event/FILE_NAME", "FILE_NAME", (*cmpCtx).procName)
	}
	handlers["proc.aname"] = func(k *cmpCtx) (*importer.Node, error) { return k.anyName() }

	handlers["proc.exepath"] = func(k *cmpCtx) (*importer.Node, error) { return k.exePath("event/FILE_PATH") }
	handlers["proc.pexepath"] = func(k *cmpCtx) (*importer.Node, error) { return k.exePath("event/PARENT/FILE_PATH") }
	indexed["proc.aexepath"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.ancestor("event/FILE_PATH", "FILE_PATH", (*cmpCtx).exePath)
	}
	handlers["proc.aexepath"] = func(k *cmpCtx) (*importer.Node, error) { return k.str("event/ANCESTORS/*/FILE_PATH") }

	handlers["proc.exe"] = func(k *cmpCtx) (*importer.Node, error) { return k.str("event/ARGS/0") }
	handlers["proc.pexe"] = func(k *cmpCtx) (*importer.Node, error) { return k.argv0("event/PARENT/COMMAND_LINE") }
	indexed["proc.aexe"] = func(k *cmpCtx) (*importer.Node, error) {
		n, err := k.position()
		if err != nil || n > 0 {
			return k.ancestor("", "COMMAND_LINE", (*cmpCtx).argv0)
		}
		return k.str("event/ARGS/0")
	}
	handlers["proc.aexe"] = func(k *cmpCtx) (*importer.Node, error) { return k.argv0("event/ANCESTORS/*/COMMAND_LINE") }

	handlers["proc.cmdline"] = func(k *cmpCtx) (*importer.Node, error) { return k.cmdline("event/COMMAND_LINE") }
	handlers["proc.pcmdline"] = func(k *cmpCtx) (*importer.Node, error) { return k.cmdline("event/PARENT/COMMAND_LINE") }
	indexed["proc.acmdline"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.ancestor("event/COMMAND_LINE", "COMMAND_LINE", (*cmpCtx).cmdline)
	}
	handlers["proc.acmdline"] = func(k *cmpCtx) (*importer.Node, error) { return k.cmdline("event/ANCESTORS/*/COMMAND_LINE") }
	handlers["proc.args"] = func(k *cmpCtx) (*importer.Node, error) { return k.args() }
	handlers["proc.cwd"] = func(k *cmpCtx) (*importer.Node, error) { return k.cwd() }
	handlers["proc.tty"] = func(k *cmpCtx) (*importer.Node, error) { return k.tty() }

	handlers["proc.pid"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/PROCESS_ID") }
	handlers["proc.ppid"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/PARENT_PROCESS_ID") }
	handlers["proc.vpid"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/VPID") }
	indexed["proc.apid"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.ancestor("event/PROCESS_ID", "PROCESS_ID", (*cmpCtx).num)
	}
	handlers["proc.apid"] = func(k *cmpCtx) (*importer.Node, error) { return k.anyPID() }
	handlers["proc.duration"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/PROCESS_AGE") }
	handlers["proc.is_exe_upper_layer"] = func(k *cmpCtx) (*importer.Node, error) {
		if _, err := k.on("event/EXE_UPPER_LAYER"); err != nil {
			return nil, err
		}
		return k.boolOn(importer.Leaf(importer.OpIs, "event/EXE_UPPER_LAYER", int64(1)))
	}
	handlers["proc.is_exe_from_memfd"] = func(k *cmpCtx) (*importer.Node, error) {
		if _, err := k.on("event/FILE_PATH"); err != nil {
			return nil, err
		}
		return k.boolOn(memfdExe())
	}
	handlers["proc.env"] = func(k *cmpCtx) (*importer.Node, error) { return k.env() }
	indexed["proc.env"] = func(k *cmpCtx) (*importer.Node, error) {
		if k.arg == "" || strings.ContainsAny(k.arg, "=/") {
			return nil, k.fail("proc.env[%s]: want the name of a variable", k.arg)
		}
		k.envNote()
		return k.str("event/ENV/" + k.arg)
	}

	handlers["user.name"] = func(k *cmpCtx) (*importer.Node, error) { return k.str("event/USER") }
	handlers["user.uid"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/USER_ID") }
	handlers["user.loginuid"] = func(k *cmpCtx) (*importer.Node, error) { return k.loginUID() }
	handlers["group.gid"] = func(k *cmpCtx) (*importer.Node, error) { return k.num("event/GROUP_ID") }

	handlers["thread.cap_effective"] = func(k *cmpCtx) (*importer.Node, error) { return k.caps() }
	handlers["thread.cap_permitted"] = func(k *cmpCtx) (*importer.Node, error) {
		k.note(approxNote, "thread.cap_permitted is read as the effective capabilities (the sets are equal at exec except for programs with file capabilities that do not raise them)")
		return k.caps()
	}

	handlers["container.id"] = func(k *cmpCtx) (*importer.Node, error) { return k.container("event/CONTAINER_ID") }
	handlers["container.privileged"] = func(k *cmpCtx) (*importer.Node, error) {
		if _, err := k.on("event/CAPABILITIES"); err != nil {
			return nil, err
		}
		k.note(approxNote, "container.privileged is read from the process's capabilities: in a container, with CAP_SYS_ADMIN effective (what --privileged grants and a default container lacks)")
		return k.boolOn(importer.And(
			importer.Leaf(importer.OpExists, "event/CONTAINER_ID", nil),
			inList("event/CAPABILITIES", []any{"CAP_SYS_ADMIN"}, false)))
	}
	handlers["container.name"] = func(k *cmpCtx) (*importer.Node, error) { return k.container("event/CONTAINER/NAME") }
	// The pod context the sensor takes from the kubelet (docs/kubernetes.md#pod-context).
	for f, p := range map[string]string{
		"container.image": "event/CONTAINER/IMAGE", "container.image.repository": "event/CONTAINER/IMAGE_REPOSITORY",
		"container.image.tag": "event/CONTAINER/IMAGE_TAG",
		"k8s.ns.name":         "event/K8S/NAMESPACE", "k8s.pod.name": "event/K8S/POD_NAME",
		"k8s.pod.uid": "event/K8S/POD_UID", "k8s.pod.id": "event/K8S/POD_UID",
	} {
		handlers[f] = func(k *cmpCtx) (*importer.Node, error) { return k.str(p) }
	}
	// Falco's k8s.pod.labels is one string, "k1:v1, k2:v2": its text is not carried.
	for _, f := range []string{"container.image.id", "container.image.digest", "container.type",
		"k8s.pod.sandbox_id", "k8s.pod.full_sandbox_id", "k8s.pod.labels", "k8s.pod.ip"} {
		handlers[f] = func(k *cmpCtx) (*importer.Node, error) { return k.metadata("") }
	}
	indexed["k8s.pod.label"] = func(k *cmpCtx) (*importer.Node, error) {
		if k.arg == "" || strings.Contains(k.arg, "=") {
			return nil, k.fail("k8s.pod.label[%s]: want a label key", k.arg)
		}
		return k.str("event/K8S/POD_LABEL/" + k.arg)
	}

	for f, why := range map[string]string{
		"proc.sname":                              "sessions are not carried (event/SESSION_ID is the audit session)",
		"proc.sid":                                "sessions are not carried (event/SESSION_ID is the audit session)",
		"proc.is_sid_leader":                      "sessions are not carried",
		"proc.vpgid":                              "process groups are not carried",
		"proc.vpgid.name":                         "process groups are not carried",
		"proc.vpgid.exe":                          "process groups are not carried",
		"proc.vpgid.exepath":                      "process groups are not carried",
		"proc.is_vpgid_leader":                    "process groups are not carried",
		"proc.pvpid":                              "the parent's pid in its namespace is not carried",
		"proc.ppid.duration":                      "the parent's start time is not carried",
		"proc.exe_ino":                            "the executable's inode is not carried",
		"proc.exe_ino.ctime":                      "the executable's inode times are not carried",
		"proc.exe_ino.mtime":                      "the executable's inode times are not carried",
		"proc.exe_ino.ctime_duration_proc_start":  "the executable's inode times are not carried",
		"proc.exe_ino.ctime_duration_pidns_start": "the executable's inode times are not carried",
		"proc.is_exe_writable":                    "whether the executable is writable by its user is not carried",
		"proc.cmdnargs":                           "not carried",
		"proc.cmdlenargs":                         "not carried",
		"proc.loginshellid":                       "not carried",
		"proc.aenv":                               "the ancestors' environments are not carried",
		"thread.cap_inheritable":                  "only the effective capabilities are carried",
		"user.loginname":                          "the name of the login uid is not carried (compare user.loginuid)",
		"user.homedir":                            "not carried",
		"user.shell":                              "not carried",
		"group.name":                              "the name of the group is not carried (compare group.gid)",
		"container.mounts":                        "the container's mounts are not carried",
		"container.mount":                         "the container's mounts are not carried",
		"container.mount.source":                  "the container's mounts are not carried",
		"container.mount.dest":                    "the container's mounts are not carried",
		"container.mount.mode":                    "the container's mounts are not carried",
		"container.mount.rdwr":                    "the container's mounts are not carried",
		"container.mount.propagation":             "the container's mounts are not carried",
		"container.start_ts":                      "the container's start time is not carried",
		"container.duration":                      "the container's start time is not carried",
		"container.ip":                            "the container's address is not carried",
		"container.cni.json":                      "not carried",
		"container.healthcheck":                   "the container's probes are not carried",
		"container.liveness_probe":                "the container's probes are not carried",
		"container.readiness_probe":               "the container's probes are not carried",
		"proc.is_container_healthcheck":           "the container's probes are not carried",
		"proc.is_container_liveness_probe":        "the container's probes are not carried",
		"proc.is_container_readiness_probe":       "the container's probes are not carried",
	} {
		notCarried[f] = why
	}
	notCarriedPrefix["thread."] = "thread fields are not carried (Vigil events describe processes)"
	notCarriedPrefix["ka."] = "Kubernetes audit fields come from the k8saudit plugin's source, which Vigil does not have"
	notCarriedPrefix["k8s."] = "this Kubernetes field is not carried"
}

// position is the N of a field written name[N].
func (k *cmpCtx) position() (int, error) {
	n, err := strconv.Atoi(k.arg)
	if err != nil || n < 0 || n > event.MaxPosition || strconv.Itoa(n) != k.arg {
		return 0, k.fail("%s: want an ancestor's position from 0 (the process) to %d", k.x.field, event.MaxPosition)
	}
	return n, nil
}

// ancestor translates name[N]: position 0 is the process itself (self, a path of
// the process; "" when the field has no form for it), N ≥ 1 the ancestor N-1 of
// event/ANCESTORS (1 is the parent), read by one.
func (k *cmpCtx) ancestor(self, field string, one func(*cmpCtx, string) (*importer.Node, error)) (*importer.Node, error) {
	n, err := k.position()
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return one(k, self)
	}
	if n > event.MaxPosition {
		return nil, k.fail("%s: position above %d", k.x.field, event.MaxPosition)
	}
	return one(k, fmt.Sprintf("event/ANCESTORS/%d/%s", n-1, field))
}

// procName compares a process's name. Falco reads the kernel's name of the process
// (comm), which Linux cuts to 15 characters; Vigil the executable's file name. A
// value of exactly 15 characters given to =, != or in matches the names it begins.
func (k *cmpCtx) procName(path string) (*importer.Node, error) {
	switch k.x.op {
	case "=", "==", "!=", "in", "intersects":
	default:
		return k.str(path)
	}
	vals, err := k.onVals(path)
	if err != nil {
		return nil, err
	}
	if k.x.op == "=" || k.x.op == "==" || k.x.op == "!=" {
		vals = vals[:1]
	}
	var exact []any
	var alts []*importer.Node
	for _, v := range vals {
		if len(v) == commLen {
			alts = append(alts, importer.Leaf(importer.OpStarts, path, v))
			continue
		}
		exact = append(exact, v)
	}
	if len(exact) == 1 {
		alts = append(alts, importer.Leaf(importer.OpIs, path, exact[0]))
	} else if len(exact) > 1 {
		alts = append(alts, inList(path, exact, false))
	}
	n := importer.Simplify(importer.Or(alts...))
	if k.x.op == "!=" {
		n = importer.Simplify(importer.Negate(n))
	}
	return n, nil
}

// anyName compares the names of every ancestor (proc.aname without a position):
// true when one of them matches.
func (k *cmpCtx) anyName() (*importer.Node, error) {
	const p = "event/ANCESTORS/*/FILE_PATH"
	if _, err := k.on(p); err != nil {
		return nil, err
	}
	if k.x.op == "exists" {
		return importer.Leaf(importer.OpExists, p, nil), nil
	}
	if k.x.op == "!=" || k.x.op == "pmatch" {
		return nil, k.fail("proc.aname %s (any ancestor) cannot be expressed; compare a position (proc.aname[2]) or negate = (not proc.aname = …)", k.x.op)
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return importer.False(), nil
	}
	re, err := k.strRegexp(vals, "[^/]", true)
	if err != nil {
		return nil, err
	}
	return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?:^|/)" + re + "$"}, nil
}

// maxAncestry is the most ancestors an event lists (the sensor's
// process.ancestry_depth is at most 64).
const maxAncestry = 64

// anyPID compares the pids of every ancestor (proc.apid without a position): true
// when one of the ancestors the event lists matches.
func (k *cmpCtx) anyPID() (*importer.Node, error) {
	if _, err := k.on("event/ANCESTORS/0/PROCESS_ID"); err != nil {
		return nil, err
	}
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	alts := make([]*importer.Node, 0, maxAncestry)
	for i := range maxAncestry {
		p := fmt.Sprintf("event/ANCESTORS/%d/PROCESS_ID", i)
		n, err := k.numOp(p, nums)
		if err != nil {
			return nil, err
		}
		alts = append(alts, importer.And(importer.Leaf(importer.OpExists, p, nil), n))
	}
	return importer.Simplify(importer.Or(alts...)), nil
}

// exePath compares an executable's path. Falco names a program run from a memfd
// memfd:<name>, which Vigil's events show as /memfd:<name> (deleted).
func (k *cmpCtx) exePath(p string) (*importer.Node, error) {
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if rest, ok := strings.CutPrefix(v, "memfd:"); ok {
			switch k.x.op {
			case "=", "==", "!=", "in", "intersects":
				vals[i] = "/memfd:" + rest + " (deleted)"
			case "startswith":
				vals[i] = "/memfd:" + rest
			}
		}
	}
	return k.strOp(p, vals)
}

// memfdExe holds for a program run from an anonymous memory file (memfd_create).
func memfdExe() *importer.Node {
	return importer.Leaf(importer.OpStarts, "event/FILE_PATH", "/memfd:")
}

// argv0 compares the first argument of a command line (proc.pexe, proc.aexe[N]):
// its first word.
func (k *cmpCtx) argv0(p string) (*importer.Node, error) {
	kind, err := k.on(p)
	if err != nil {
		return nil, err
	}
	if k.x.op == "exists" {
		return importer.Leaf(importer.OpExists, p, nil), nil
	}
	negate := k.x.op == "!="
	if negate && kind == event.StringList {
		return nil, k.fail("%s != (any ancestor) cannot be expressed", k.x.field)
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	if len(vals) == 0 {
		return importer.False(), nil
	}
	if negate || k.x.op == "==" {
		x := *k.x
		x.op = "="
		eq := *k
		eq.x = &x
		k = &eq
	}
	re, err := k.strRegexp(vals, `\S`, false)
	if err != nil {
		return nil, err
	}
	n := &importer.Node{Op: importer.OpMatches, Path: p, Re: "^" + re + `(?:\s|$)`}
	if negate {
		return importer.Negate(n), nil
	}
	return n, nil
}

// argv0Re matches the first word of a Vigil command line when it is written with a
// directory (argv[0] as invoked: /usr/bin/curl), so that a Falco command line
// ("curl args") compares from the program's name on.
const argv0Re = `^(?:\S*/)?`

// cmdline compares a command line. Falco's is the process's name, a space and the
// arguments; Vigil's is argv joined by spaces with argv[0] as invoked (often a
// path). contains, icontains, endswith and exists compare directly; comparisons
// anchored at the start (=, !=, startswith, in, glob) become an RE2 match that lets
// argv[0] carry a directory.
func (k *cmpCtx) cmdline(p string) (*importer.Node, error) {
	kind, err := k.on(p)
	if err != nil {
		return nil, err
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	switch k.x.op {
	case "contains", "icontains", "endswith", "exists":
		return k.strOp(p, vals)
	case "=", "==", "!=":
		if kind == event.StringList && k.x.op == "!=" {
			return nil, k.fail("%s != (any ancestor) cannot be expressed", k.x.field)
		}
		n := &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)" + argv0Re + regexp.QuoteMeta(vals[0]) + "$"}
		if k.x.op == "!=" {
			return importer.Negate(n), nil
		}
		return n, nil
	case "startswith":
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)" + argv0Re + regexp.QuoteMeta(vals[0])}, nil
	case "in", "intersects":
		if len(vals) == 0 {
			return importer.False(), nil
		}
		qs := make([]string, len(vals))
		for i, v := range vals {
			qs[i] = regexp.QuoteMeta(v)
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)" + argv0Re + "(?:" + strings.Join(qs, "|") + ")$"}, nil
	case "glob", "iglob":
		re, err := globRegexp(vals[0], ".")
		if err != nil {
			return nil, k.fail("%v", err)
		}
		if k.x.op == "iglob" {
			re = "(?i)" + re
		}
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)" + argv0Re + re + "$"}, nil
	}
	return nil, k.fail("operator %s on %s is not supported", k.x.op, k.x.field)
}

// args compares proc.args, the arguments after argv[0] joined by spaces: on Vigil's
// command line, what follows its first word and the space after it.
func (k *cmpCtx) args() (*importer.Node, error) {
	const p = "event/COMMAND_LINE"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	op := k.x.op
	if op == "exists" {
		return importer.True(), nil
	}
	if len(vals) == 0 {
		return importer.False(), nil
	}
	matches := func(re string) *importer.Node {
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: "(?s)" + re}
	}
	// none: no arguments (or only empty ones); after: the arguments begin.
	const none, after = `^\S*\s*$`, `^\S*\s`
	var alts []*importer.Node
	switch op {
	case "=", "==", "!=", "in", "intersects":
		if op != "in" && op != "intersects" {
			vals = vals[:1]
		}
		for _, v := range vals {
			if v == "" {
				alts = append(alts, matches(none))
				continue
			}
			alts = append(alts, matches(after+regexp.QuoteMeta(v)+"$"))
		}
	case "startswith", "contains", "icontains", "endswith":
		if vals[0] == "" {
			return importer.True(), nil
		}
		q := regexp.QuoteMeta(vals[0])
		re := map[string]string{"startswith": after + q, "contains": after + ".*" + q,
			"icontains": "(?i)" + after + ".*" + q, "endswith": after + ".*" + q + "$"}[op]
		alts = append(alts, matches(re))
	case "glob", "iglob":
		g, err := globRegexp(vals[0], ".")
		if err != nil {
			return nil, k.fail("%v", err)
		}
		if op == "iglob" {
			g = "(?i:" + g + ")"
		}
		alts = append(alts, matches(after+g+"$"))
		if vals[0] == "" {
			alts = append(alts, matches(none))
		}
	default:
		return nil, k.fail("operator %s on proc.args is not supported", op)
	}
	n := importer.Simplify(importer.Or(alts...))
	if op == "!=" {
		n = importer.Simplify(importer.Negate(n))
	}
	return n, nil
}

// cwd compares proc.cwd. Falco's working directory ends with a slash (/tmp/),
// Vigil's does not (/tmp), except the root.
func (k *cmpCtx) cwd() (*importer.Node, error) {
	const p = "event/CWD"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	// dir is what Vigil's CWD holds when Falco's is v (v ends with a slash).
	dir := func(v string) string {
		if v == "/" {
			return v
		}
		return strings.TrimSuffix(v, "/")
	}
	is := func(v string) *importer.Node {
		if !strings.HasSuffix(v, "/") {
			return importer.False()
		}
		return importer.Leaf(importer.OpIs, p, dir(v))
	}
	var n *importer.Node
	switch k.x.op {
	case "exists":
		return importer.Leaf(importer.OpExists, p, nil), nil
	case "=", "==", "!=":
		n = is(vals[0])
	case "in", "intersects":
		var alts []*importer.Node
		for _, v := range vals {
			alts = append(alts, is(v))
		}
		n = importer.Simplify(importer.Or(alts...))
	case "startswith":
		v := vals[0]
		if v == "" {
			return importer.True(), nil
		}
		n = importer.Leaf(importer.OpStarts, p, v)
		if strings.HasSuffix(v, "/") && v != "/" {
			n = importer.Or(importer.Leaf(importer.OpIs, p, dir(v)), n)
		}
	case "endswith":
		v := vals[0]
		switch {
		case v == "" || v == "/":
			return importer.True(), nil
		case !strings.HasSuffix(v, "/"):
			return importer.False(), nil
		}
		n = importer.Leaf(importer.OpEnds, p, dir(v))
	case "contains":
		v := vals[0]
		if v == "" || v == "/" {
			return importer.True(), nil
		}
		n = importer.Leaf(importer.OpContains, p, v)
		if strings.HasSuffix(v, "/") {
			n = importer.Or(n, importer.Leaf(importer.OpEnds, p, dir(v)))
		}
	default:
		return nil, k.fail("operator %s on proc.cwd is not supported", k.x.op)
	}
	if k.x.op == "!=" {
		n = importer.Negate(n)
	}
	return importer.Simplify(n), nil
}

// tty compares proc.tty, the terminal's device number in Falco, 0 for none: Vigil
// knows the terminal's name, so only whether there is one.
func (k *cmpCtx) tty() (*importer.Node, error) {
	const p = "event/HAS_TTY"
	if _, err := k.on(p); err != nil {
		return nil, err
	}
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	hasTTY := importer.Leaf(importer.OpIs, p, int64(1))
	switch {
	case len(nums) == 1 && nums[0] == 0 && (k.x.op == "=" || k.x.op == "=="):
		return importer.Negate(hasTTY), nil
	case len(nums) == 1 && nums[0] == 0 && (k.x.op == "!=" || k.x.op == ">"):
		return hasTTY, nil
	}
	return nil, k.fail("proc.tty %s %s: Vigil tells only whether there is a terminal (proc.tty = 0, proc.tty != 0)", k.x.op, strings.Join(k.rawValues(), ", "))
}

func (k *cmpCtx) rawValues() []string {
	var out []string
	for _, v := range k.x.values {
		out = append(out, v.s)
	}
	return out
}

// unsetLoginUID is the audit login uid of a process without a login: Falco shows
// it as -1.
const unsetLoginUID = 4294967295

// loginUID compares user.loginuid, where Falco reads an unset login uid as -1.
func (k *cmpCtx) loginUID() (*importer.Node, error) {
	const p = "event/LOGIN_USER_ID"
	if _, err := k.on(p); err != nil {
		return nil, err
	}
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	unset := holds(k.x.op, -1, nums)
	isUnset := importer.Leaf(importer.OpIs, p, int64(unsetLoginUID))
	var n *importer.Node
	switch k.x.op {
	case "=", "==", "!=", "in", "intersects":
		// -1 is the unset uid, handled apart; the others are uids.
		if k.x.op != "in" && k.x.op != "intersects" {
			nums = nums[:1]
		}
		var set []int64
		for _, v := range nums {
			if v >= 0 {
				set = append(set, v)
			}
		}
		if len(set) == 0 {
			n = constant(k.x.op == "!=")
			break
		}
		if n, err = k.numOp(p, set); err != nil {
			return nil, err
		}
	default:
		if n, err = k.numOp(p, nums); err != nil {
			return nil, err
		}
	}
	if unset {
		return importer.Simplify(importer.Or(isUnset, n)), nil
	}
	return importer.Simplify(importer.And(importer.Negate(isUnset), n)), nil
}

// caps compares Falco's capability sets, a text of names (CAP_SYS_ADMIN CAP_…),
// with the effective capabilities: contains a name holds when one capability
// contains it.
func (k *cmpCtx) caps() (*importer.Node, error) {
	const p = "event/CAPABILITIES"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	switch k.x.op {
	case "contains", "icontains":
		if strings.ContainsAny(vals[0], " \t") {
			return nil, k.fail("%s %s %q: compare one capability at a time", k.x.field, k.x.op, vals[0])
		}
		return k.strOp(p, vals)
	case "exists":
		return importer.Leaf(importer.OpExists, p, nil), nil
	}
	return nil, k.fail("operator %s on %s is not supported (use contains with a capability's name)", k.x.op, k.x.field)
}

// env compares proc.env, the environment as NAME=value words, with the variables
// the sensor keeps.
func (k *cmpCtx) env() (*importer.Node, error) {
	const p = "event/ENVIRONMENT"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	k.envNote()
	switch k.x.op {
	case "contains", "icontains":
		if strings.ContainsAny(vals[0], " \t") {
			return nil, k.fail("proc.env %s %q: compare one variable at a time", k.x.op, vals[0])
		}
		return k.strOp(p, vals)
	case "exists":
		return importer.Leaf(importer.OpExists, p, nil), nil
	}
	return nil, k.fail("operator %s on proc.env is not supported (use contains, or proc.env[NAME])", k.x.op)
}

func (k *cmpCtx) envNote() {
	k.note(approxNote, "proc.env reads the environment variables the sensor keeps (process.environment in its configuration): the variables the rule looks for must be among them")
}

// container compares container.id or container.name (p): Falco's "host" is
// an event without a CONTAINER_ID.
func (k *cmpCtx) container(p string) (*importer.Node, error) {
	if _, err := k.on(p); err != nil {
		return nil, err
	}
	if k.x.op == "exists" {
		k.note(falcoNote, "%s is true: every event has a container id in Falco (host for host processes)", k.s.quote(k.x))
		return importer.True(), nil
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	inContainer := importer.Leaf(importer.OpExists, "event/CONTAINER_ID", nil)
	onHost := importer.Negate(inContainer)
	switch k.x.op {
	case "=", "==", "!=":
		n := importer.Leaf(importer.OpIs, p, vals[0])
		if vals[0] == "host" {
			n = onHost
		}
		if k.x.op == "!=" {
			n = importer.Negate(n)
		}
		return n, nil
	case "in", "intersects":
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
	// Other operators compare the id's text; "host" is the text of host processes.
	n, err := k.strOp(p, vals)
	if err != nil {
		return nil, err
	}
	host, err := k.evalConst("host", vals)
	if err != nil {
		return nil, err
	}
	return importer.Simplify(importer.Or(
		importer.And(inContainer, n),
		importer.And(onHost, constant(host)))), nil
}

// metadata compares a field the container runtime gives Falco that Vigil
// events do not carry (the image's id and digest, the sandbox, the pod's
// address): they read as Falco reads them when the runtime's metadata is
// missing, empty (or onHost for host processes).
func (k *cmpCtx) metadata(onHost string) (*importer.Node, error) {
	vals, err := k.onVals("event/CONTAINER_ID")
	if err != nil {
		return nil, err
	}
	inContainer, err := k.evalConst("", vals)
	if err != nil {
		return nil, err
	}
	anyValue := len(vals) == 0 && k.x.list
	if onHost == "" {
		k.noteConst(inContainer, anyValue)
		return constant(inContainer), nil
	}
	host, err := k.evalConst(onHost, vals)
	if err != nil {
		return nil, err
	}
	if host == inContainer {
		k.noteConst(host, anyValue)
		return constant(host), nil
	}
	k.note(narrowNote, "%s holds only %s: Vigil events do not carry %s, which reads as %q on the host and empty in containers", k.s.quote(k.x),
		map[bool]string{true: "on the host", false: "in containers"}[host], k.x.field, onHost)
	n := importer.Leaf(importer.OpExists, "event/CONTAINER_ID", nil)
	if host {
		return importer.Negate(n), nil
	}
	return n, nil
}

// evalConst evaluates the comparison of the text v.
func (k *cmpCtx) evalConst(v string, vals []string) (bool, error) {
	op := k.x.op
	if op == "exists" {
		return v != "", nil
	}
	if len(vals) == 0 {
		return false, nil
	}
	switch op {
	case "=", "==":
		return v == vals[0], nil
	case "!=":
		return v != vals[0], nil
	case "contains":
		return strings.Contains(v, vals[0]), nil
	case "icontains":
		return strings.Contains(strings.ToLower(v), strings.ToLower(vals[0])), nil
	case "startswith":
		return strings.HasPrefix(v, vals[0]), nil
	case "endswith":
		return strings.HasSuffix(v, vals[0]), nil
	case "in", "intersects":
		for _, x := range vals {
			if v == x {
				return true, nil
			}
		}
		return false, nil
	case "pmatch":
		for _, x := range vals {
			if v == x || strings.HasPrefix(v, strings.TrimSuffix(x, "/")+"/") {
				return true, nil
			}
		}
		return false, nil
	case "glob", "iglob":
		g, err := globRegexp(vals[0], ".")
		if err != nil {
			return false, k.fail("%v", err)
		}
		if op == "iglob" {
			g = "(?i)" + g
		}
		re, err := regexp.Compile("(?s)^" + g + "$")
		if err != nil {
			return false, k.fail("glob %q: %v", vals[0], err)
		}
		return re.MatchString(v), nil
	case "regex":
		re, err := regexp.Compile("^(?:" + vals[0] + ")$")
		if err != nil {
			return false, k.fail("regex %q: %v", vals[0], err)
		}
		return re.MatchString(v), nil
	}
	return false, k.fail("operator %s does not apply to the string %s", op, k.x.field)
}
