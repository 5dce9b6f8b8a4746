package falco

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// Event fields (evt.*) and the syscalls' arguments (evt.arg.<name>, evt.rawarg.<name>).
func init() {
	handlers["evt.dir"] = func(k *cmpCtx) (*importer.Node, error) {
		vals, err := k.vals()
		if err != nil {
			return nil, err
		}
		if len(vals) == 1 && (k.x.op == "=" || k.x.op == "==" || k.x.op == "!=") && (vals[0] == "<" || vals[0] == ">") {
			// Vigil events describe completed calls: the exit direction.
			v := (vals[0] == "<") == (k.x.op != "!=")
			k.note(infoNote, "%s is %v: Vigil's events are the calls' exits", k.s.quote(k.x), v)
			return constant(v), nil
		}
		return nil, k.fail("evt.dir %s is not supported (only evt.dir = < or >)", k.x.op)
	}
	handlers["evt.num"] = func(k *cmpCtx) (*importer.Node, error) {
		return k.overRange(1, falcoNote, "events are numbered from 1 and Vigil does not keep their numbers")
	}
	for name, fl := range map[string]string{"evt.is_open_read": "read", "evt.is_open_write": "write", "evt.is_open_create": "create"} {
		handlers[name] = func(k *cmpCtx) (*importer.Node, error) {
			if k.t != event.FileOpen {
				return k.notOpen()
			}
			return k.boolOn(flag(fl))
		}
	}
	handlers["evt.is_open_exec"] = func(k *cmpCtx) (*importer.Node, error) {
		if k.t != event.FileOpen {
			return k.notOpen()
		}
		return nil, k.fail("evt.is_open_exec: Vigil does not record the mode a file is created with")
	}
	handlers["evt.res"] = func(k *cmpCtx) (*importer.Node, error) { return k.res() }
	handlers["evt.rawres"] = func(k *cmpCtx) (*importer.Node, error) { return k.rawres() }
	handlers["evt.failed"] = func(k *cmpCtx) (*importer.Node, error) {
		if _, ok := fieldOf("event/ERROR_CODE", k.t); ok {
			return k.boolOn(importer.Negate(importer.Leaf(importer.OpIs, "event/ERROR_CODE", int64(0))))
		}
		return k.boolOn(importer.False())
	}
	handlers["evt.source"] = func(k *cmpCtx) (*importer.Node, error) {
		v, err := k.evalConst("syscall", mustVals(k))
		if err != nil {
			return nil, err
		}
		return constant(v), nil
	}
	handlers["evt.hostname"] = func(k *cmpCtx) (*importer.Node, error) { return k.str("routing/hostname") }
	prefixed["evt.arg."] = func(k *cmpCtx) (*importer.Node, error) { return k.evtArg(false) }
	prefixed["evt.rawarg."] = func(k *cmpCtx) (*importer.Node, error) { return k.evtArg(true) }
	indexed["evt.arg"] = func(k *cmpCtx) (*importer.Node, error) {
		if _, err := strconv.Atoi(k.arg); err == nil {
			return nil, k.fail("evt.arg[%s]: arguments by position are not supported (name them: evt.arg.<name>)", k.arg)
		}
		return k.evtArg(false)
	}
	for f, why := range map[string]string{
		"evt.buffer":      "Vigil events carry no I/O data",
		"evt.buflen":      "Vigil events carry no I/O data",
		"evt.args":        "the arguments as one text are not carried (compare evt.arg.<name>)",
		"evt.info":        "the arguments as one text are not carried (compare evt.arg.<name>)",
		"evt.latency":     "call latencies are not carried",
		"evt.category":    "not carried",
		"evt.cpu":         "not carried",
		"evt.is_io":       "I/O events are not reported",
		"evt.is_io_read":  "I/O events are not reported",
		"evt.is_io_write": "I/O events are not reported",
		"evt.io_dir":      "I/O events are not reported",
		"evt.is_wait":     "not carried",
		"evt.is_syslog":   "writes to /dev/log are not reported",
		"evt.abspath":     "use fd.name or fs.path.name",
		"evt.around":      "not carried",
		"evt.deltatime":   "not carried",
	} {
		notCarried[f] = why
	}
	notCarriedPrefix["evt.time"] = "times are compared by the engine's windows, not by rules"
	notCarriedPrefix["evt.rawtime"] = "times are compared by the engine's windows, not by rules"
	notCarriedPrefix["evt.datetime"] = "times are compared by the engine's windows, not by rules"
	notCarriedPrefix["evt.reltime"] = "times are compared by the engine's windows, not by rules"
	notCarriedPrefix["evt.latency"] = "call latencies are not carried"
	notCarriedPrefix["evt.count"] = "not carried"
	notCarriedPrefix["evt.type.is"] = "compare evt.type"
}

// notOpen is evt.is_open_* on an event that is not an open: false, as in Falco.
func (k *cmpCtx) notOpen() (*importer.Node, error) {
	n, err := k.boolOn(importer.False())
	if err == nil {
		k.note(falcoNote, "%s is %v: %s is false on events other than opens", k.s.quote(k.x), n.IsTrue(), k.x.field)
	}
	return n, err
}

// errorTypes are the event types that report failed calls, with their errno.
func hasErrorCode(t event.Type) bool {
	_, ok := fieldOf("event/ERROR_CODE", t)
	return ok
}

// res compares evt.res: SUCCESS or the error's name (ENOENT). Events of types
// without event/ERROR_CODE are reported only for calls that succeeded.
func (k *cmpCtx) res() (*importer.Node, error) {
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	if !hasErrorCode(k.t) {
		v, err := k.evalConst("SUCCESS", vals)
		if err != nil {
			return nil, err
		}
		k.note(infoNote, "%s is %v: Vigil reports %s events for calls that succeeded", k.s.quote(k.x), v, k.t)
		return constant(v), nil
	}
	const p = "event/ERROR_CODE"
	code := func(v string) (int64, error) {
		if v == "SUCCESS" {
			return 0, nil
		}
		if n, ok := errnos[v]; ok {
			return n, nil
		}
		return 0, k.fail("evt.res %q: not SUCCESS or an error name Vigil knows (%s)", v, strings.Join(sortedKeys(errnos), ", "))
	}
	switch k.x.op {
	case "startswith":
		if vals[0] == "E" {
			return importer.Negate(importer.Leaf(importer.OpIs, p, int64(0))), nil
		}
	case "=", "==", "!=", "in", "intersects":
		if k.x.op != "in" && k.x.op != "intersects" {
			vals = vals[:1]
		}
		var codes []int64
		for _, v := range vals {
			n, err := code(v)
			if err != nil {
				return nil, err
			}
			codes = append(codes, n)
		}
		return k.numOp(p, codes)
	}
	return nil, k.fail("evt.res %s is not supported (use =, !=, in, or startswith E for any error)", k.x.op)
}

// errnos are the errors rules compare evt.res with, by name.
var errnos = map[string]int64{
	"EPERM": 1, "ENOENT": 2, "ESRCH": 3, "EINTR": 4, "EIO": 5, "EBADF": 9, "EAGAIN": 11,
	"ENOMEM": 12, "EACCES": 13, "EFAULT": 14, "EBUSY": 16, "EEXIST": 17, "EINVAL": 22,
	"ENETUNREACH": 101, "ECONNRESET": 104, "ETIMEDOUT": 110, "ECONNREFUSED": 111,
	"EHOSTUNREACH": 113, "EALREADY": 114, "EINPROGRESS": 115,
}

// rawres compares evt.rawres, the call's return value: negative errors, else what
// the call returns.
func (k *cmpCtx) rawres() (*importer.Node, error) {
	if k.t == fdDup {
		// dup returns the new descriptor.
		return k.num(pathFDNumber)
	}
	if !hasErrorCode(k.t) {
		return k.overRange(0, infoNote, fmt.Sprintf("Vigil reports %s events for calls that succeeded (return value 0 or more)", k.t))
	}
	// A call that failed returns -ERROR_CODE; one that succeeded 0 or more, whose
	// value Vigil does not keep (0 for a connect).
	nums, err := k.ints()
	if err != nil {
		return nil, err
	}
	const p = "event/ERROR_CODE"
	failed := importer.Negate(importer.Leaf(importer.OpIs, p, int64(0)))
	var codes []any
	successHolds := map[bool]bool{}
	probes := []int64{0, 1, 1 << 40}
	for _, n := range nums {
		probes = append(probes, n-1, n, n+1)
	}
	for _, v := range probes {
		if v < 0 || k.t == event.NetworkConnect && v != 0 {
			continue
		}
		successHolds[holds(k.x.op, v, nums)] = true
	}
	if len(successHolds) != 1 {
		return nil, k.fail("evt.rawres %s %s: Vigil does not keep what a call that succeeded returned", k.x.op, strings.Join(k.rawValues(), ", "))
	}
	success := successHolds[true]
	// errors: the codes for which the comparison holds, as -code
	for code := int64(1); code < 4096; code++ {
		if holds(k.x.op, -code, nums) {
			codes = append(codes, code)
		}
	}
	var errNode *importer.Node
	switch {
	case len(codes) == 0:
		errNode = importer.False()
	case len(codes) == 4095:
		errNode = failed
	default:
		errNode = inList(p, codes, false)
	}
	if success {
		return importer.Simplify(importer.Or(importer.Leaf(importer.OpIs, p, int64(0)), errNode)), nil
	}
	return errNode, nil
}

// argHandler translates one syscall argument on events of one type.
type argHandler func(k *cmpCtx, raw bool) (*importer.Node, error)

func argStr(path string) argHandler {
	return func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.str(path) }
}

func argNum(path string) argHandler {
	return func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.num(path) }
}

// argOnLink reads an argument of one kind of link only (link/linkat: hard;
// symlink/symlinkat: symbolic); on the other kind it has no value.
func argOnLink(linkType, path string) argHandler {
	return func(k *cmpCtx, _ bool) (*importer.Node, error) {
		n, err := k.str(path)
		if err != nil {
			return nil, err
		}
		return importer.Simplify(importer.And(importer.Leaf(importer.OpIs, "event/LINK_TYPE", linkType), n)), nil
	}
}

// argAs reads an argument as another field: execve's exe is proc.exe.
func argAs(field string) argHandler {
	return func(k *cmpCtx, _ bool) (*importer.Node, error) {
		h, arg, err := lookupField(field)
		if err != nil {
			return nil, k.fail("%v", err)
		}
		x := *k.x
		x.field = field
		c := *k
		c.x, c.arg = &x, arg
		return h(&c)
	}
}

// pathArgs are the names Falco's syscalls give the path they act on.
var pathArgs = []string{"path", "name", "filename", "pathname"}

// args are, per event type, the syscall arguments Vigil's events hold.
var args = map[event.Type]map[string]argHandler{}

func init() {
	target := argStr("event/TARGET/FILE_PATH")
	for _, t := range []event.Type{event.FileOpen, event.FileDelete, event.DirDelete, event.FileChmod,
		event.DirCreate, event.FileMknod, event.FileChown, event.FileTruncate} {
		args[t] = map[string]argHandler{}
		for _, a := range pathArgs {
			args[t][a] = target
		}
	}
	args[event.FileOpen]["flags"] = func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.flags("event/FILE_FLAGS", openFlags) }
	args[event.FileChmod]["mode"] = func(k *cmpCtx, raw bool) (*importer.Node, error) { return k.mode(raw) }
	args[event.DirCreate]["mode"] = args[event.FileChmod]["mode"]
	args[event.FileChown]["uid"] = argNum("event/OWNER_USER_ID")
	args[event.FileChown]["gid"] = argNum("event/OWNER_GROUP_ID")
	args[event.FileTruncate]["length"] = argNum("event/FILE_SIZE")
	args[event.FileRename] = map[string]argHandler{
		"oldpath": argStr("event/TARGET/OLD_FILE_PATH"),
		"newpath": argStr("event/TARGET/FILE_PATH"),
	}
	args[event.FileLink] = map[string]argHandler{
		"oldpath":  argOnLink("hard", "event/LINK_TARGET"),
		"newpath":  argOnLink("hard", "event/TARGET/FILE_PATH"),
		"target":   argOnLink("symbolic", "event/LINK_TARGET"),
		"linkpath": argOnLink("symbolic", "event/TARGET/FILE_PATH"),
	}
	args[event.NewProcess] = map[string]argHandler{
		"exe": argAs("proc.exe"), "args": argAs("proc.args"), "cwd": argAs("proc.cwd"),
		"comm": argAs("proc.name"), "filename": argAs("proc.exepath"), "trusted_exepath": argAs("proc.exepath"),
		"uid": argAs("user.uid"), "loginuid": argAs("user.loginuid"), "tty": argAs("proc.tty"),
		"cap_effective": argAs("thread.cap_effective"), "env": argAs("proc.env"),
		"flags": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.exeFlags() },
	}
	args[event.PrivilegeChange] = map[string]argHandler{
		"uid": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.id("event/NEW_USER_ID", "root") },
		"gid": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.id("event/NEW_GROUP_ID", "root") },
	}
	args[event.Ptrace] = map[string]argHandler{
		"request": func(k *cmpCtx, raw bool) (*importer.Node, error) {
			if raw {
				return k.num("event/PTRACE_REQUEST")
			}
			return k.str("event/PTRACE_REQUEST_NAME")
		},
		"pid": argNum("event/TARGET/PROCESS_ID"),
	}
	nsFlags := func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.flags("event/NAMESPACES", cloneFlags) }
	args[event.NamespaceChange] = map[string]argHandler{"flags": nsFlags, "nstype": nsFlags}
	args[event.Mount] = map[string]argHandler{
		"dev": argStr("event/MOUNT_SOURCE"), "dir": argStr("event/MOUNT_PATH"), "type": argStr("event/FILE_SYSTEM_TYPE"),
		"flags": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.flags("event/FLAGS", mountFlags) },
	}
	args[event.Unmount] = map[string]argHandler{
		"name": argStr("event/MOUNT_PATH"),
		"flags": func(k *cmpCtx, _ bool) (*importer.Node, error) {
			return k.flags("event/FLAGS", umountFlags)
		},
	}
	args[event.BPFLoad] = map[string]argHandler{"cmd": func(k *cmpCtx, _ bool) (*importer.Node, error) {
		// Vigil reports BPF_PROG_LOAD (command 5) only.
		vals, err := k.vals()
		if err != nil {
			return nil, err
		}
		for i, v := range vals {
			if v == "5" {
				vals[i] = "BPF_PROG_LOAD"
			}
		}
		v, err := k.evalConst("BPF_PROG_LOAD", vals)
		if err != nil {
			return nil, err
		}
		return constant(v), nil
	}}
	args[event.MemfdCreate] = map[string]argHandler{
		"name":  argStr("event/MEMFD_NAME"),
		"flags": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.flags("event/FLAGS", memfdFlags) },
	}
	args[event.Userfaultfd] = map[string]argHandler{
		"flags": func(k *cmpCtx, _ bool) (*importer.Node, error) { return k.flags("event/FLAGS", uffdFlags) },
	}
	args[socketCreate] = map[string]argHandler{
		"domain": func(k *cmpCtx, raw bool) (*importer.Node, error) {
			return k.named(pathSocketDomain, raw, socketDomains)
		},
		"type": func(k *cmpCtx, raw bool) (*importer.Node, error) { return k.named(pathSocketType, raw, socketTypes) },
	}
	args[fdDup] = map[string]argHandler{"newfd": argNum(pathFDNumber)}
}

// evtArg translates evt.arg.<name> (raw: evt.rawarg.<name>) on events of type k.t.
// An argument the event's syscalls do not have has no value, as in Falco.
func (k *cmpCtx) evtArg(raw bool) (*importer.Node, error) {
	if h, ok := args[k.t][k.arg]; ok {
		return h(k, raw)
	}
	known := sortedKeys(args[k.t])
	if isPathArg(k.arg) {
		// The path arguments have other names on other syscalls (a rename's are
		// oldpath and newpath): a name these events' syscalls lack has no value.
		return k.absent(), nil
	}
	if len(known) == 0 {
		return nil, k.fail("%s: Vigil's %s events carry none of the syscalls' arguments", k.x.field, k.t)
	}
	return nil, k.fail("%s: Vigil's %s events carry the arguments %s", k.x.field, k.t, strings.Join(known, ", "))
}

// isPathArg reports whether an argument is one of the names Falco's syscalls give
// a path.
func isPathArg(name string) bool {
	switch name {
	case "path", "name", "filename", "pathname", "oldpath", "newpath", "target", "linkpath":
		return true
	}
	return false
}

// Flag names Falco prints and the names Vigil's event/FLAGS (or NAMESPACES,
// FILE_FLAGS) holds for them.
var (
	mountFlags = map[string]string{"MS_RDONLY": "ro", "MS_NOSUID": "nosuid", "MS_NODEV": "nodev",
		"MS_NOEXEC": "noexec", "MS_SYNCHRONOUS": "sync", "MS_REMOUNT": "remount", "MS_MANDLOCK": "mand",
		"MS_DIRSYNC": "dirsync", "MS_NOSYMFOLLOW": "nosymfollow", "MS_NOATIME": "noatime",
		"MS_NODIRATIME": "nodiratime", "MS_BIND": "bind", "MS_MOVE": "move", "MS_REC": "rec",
		"MS_SILENT": "silent", "MS_POSIXACL": "posixacl", "MS_UNBINDABLE": "unbindable",
		"MS_PRIVATE": "private", "MS_SLAVE": "slave", "MS_SHARED": "shared", "MS_RELATIME": "relatime",
		"MS_KERNMOUNT": "kernmount", "MS_I_VERSION": "i_version", "MS_STRICTATIME": "strictatime",
		"MS_LAZYTIME": "lazytime"}
	umountFlags = map[string]string{"MNT_FORCE": "force", "MNT_DETACH": "detach", "MNT_EXPIRE": "expire",
		"UMOUNT_NOFOLLOW": "nofollow"}
	memfdFlags = map[string]string{"MFD_CLOEXEC": "cloexec", "MFD_ALLOW_SEALING": "allow_sealing",
		"MFD_HUGETLB": "hugetlb", "MFD_NOEXEC_SEAL": "noexec_seal", "MFD_EXEC": "exec"}
	uffdFlags = map[string]string{"UFFD_USER_MODE_ONLY": "user_mode_only", "O_NONBLOCK": "nonblock",
		"O_CLOEXEC": "cloexec"}
	cloneFlags = map[string]string{"CLONE_NEWNS": "mnt", "CLONE_NEWUTS": "uts", "CLONE_NEWIPC": "ipc",
		"CLONE_NEWUSER": "user", "CLONE_NEWPID": "pid", "CLONE_NEWNET": "net", "CLONE_NEWCGROUP": "cgroup",
		"CLONE_NEWTIME": "time"}
	// openFlags: O_RDONLY and O_WRONLY also say what the open does not do.
	openFlags = map[string]string{"O_CREAT": "create", "O_TRUNC": "truncate", "O_RDWR": "read+write",
		"O_RDONLY": "read-write", "O_WRONLY": "write-read"}
)

// flags translates contains (a flag is set) on a comma-separated list of flags.
func (k *cmpCtx) flags(p string, names map[string]string) (*importer.Node, error) {
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	if k.x.op != "contains" && k.x.op != "icontains" {
		return nil, k.fail("%s %s: flags are compared with contains (a flag is set)", k.x.field, k.x.op)
	}
	want := strings.ToUpper(vals[0])
	v, ok := names[want]
	if !ok {
		return nil, k.fail("%s contains %s: Vigil's %s events record the flags %s", k.x.field, vals[0], k.t, strings.Join(sortedKeys(names), ", "))
	}
	set := func(f string) *importer.Node {
		return &importer.Node{Op: importer.OpMatches, Path: p, Re: `(^|,)` + regexp.QuoteMeta(f) + `(,|$)`}
	}
	switch {
	case strings.Contains(v, "+"):
		a, b, _ := strings.Cut(v, "+")
		return importer.And(set(a), set(b)), nil
	case strings.Contains(v, "-"):
		a, b, _ := strings.Cut(v, "-")
		return importer.And(set(a), importer.Negate(set(b))), nil
	}
	return set(v), nil
}

// exeFlags translates execve's flags: whether the executable is on an overlayfs
// upper layer or a memfd.
func (k *cmpCtx) exeFlags() (*importer.Node, error) {
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	if k.x.op != "contains" {
		return nil, k.fail("evt.arg.flags %s: flags are compared with contains (a flag is set)", k.x.op)
	}
	switch vals[0] {
	case "EXE_UPPER_LAYER":
		return importer.Leaf(importer.OpIs, "event/EXE_UPPER_LAYER", int64(1)), nil
	case "EXE_FROM_MEMFD":
		return memfdExe(), nil
	}
	return nil, k.fail("evt.arg.flags contains %s: Vigil's NEW_PROCESS events record EXE_UPPER_LAYER and EXE_FROM_MEMFD", vals[0])
}

// modeBits are the permission bits evt.arg.mode names, by bit number.
var modeBits = map[string]uint{"S_ISUID": 11, "S_ISGID": 10, "S_ISVTX": 9, "S_IRUSR": 8,
	"S_IWUSR": 7, "S_IXUSR": 6, "S_IRGRP": 5, "S_IWGRP": 4, "S_IXGRP": 3, "S_IROTH": 2,
	"S_IWOTH": 1, "S_IXOTH": 0}

// maxModeRanges bounds the ranges a bit test may take: the rule language has no
// bit test, and bit b of a 12-bit mode is set in 2^(11-b) ranges of values.
const maxModeRanges = 8

// mode translates evt.arg.mode: contains S_ISUID (a bit is set), or a number.
func (k *cmpCtx) mode(raw bool) (*importer.Node, error) {
	const p = "event/FILE_MODE"
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	if k.x.op != "contains" {
		nums := make([]int64, len(vals))
		for i, v := range vals {
			n, err := strconv.ParseInt(v, 0, 64)
			if err != nil {
				return nil, k.fail("%s %s %q: compare a mode's bits with contains S_ISUID, or its number", k.x.field, k.x.op, v)
			}
			nums[i] = n
		}
		return k.numOp(p, nums)
	}
	bit, ok := modeBits[vals[0]]
	if !ok {
		return nil, k.fail("%s contains %s: a mode's bits are S_ISUID, S_ISGID, S_ISVTX and S_I[RWX](USR|GRP|OTH)", k.x.field, vals[0])
	}
	ranges := 1 << (11 - bit)
	if ranges > maxModeRanges {
		return nil, k.fail("%s contains %s cannot be expressed: the rule language has no bit test, and this bit is set in %d ranges of modes", k.x.field, vals[0], ranges)
	}
	var alts []*importer.Node
	step := int64(1) << (bit + 1)
	for lo := int64(1) << bit; lo < 1<<12; lo += step {
		hi := lo + int64(1)<<bit - 1
		alts = append(alts, importer.And(importer.Leaf(importer.OpGreater, p, lo-1), importer.Leaf(importer.OpLower, p, hi+1)))
	}
	return importer.Simplify(importer.Or(alts...)), nil
}

// id compares a uid or gid argument: a number, or the name of the id 0.
func (k *cmpCtx) id(p, zero string) (*importer.Node, error) {
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		if v == zero {
			vals[i] = "0"
			continue
		}
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			return nil, k.fail("%s %s %s: Vigil records the id as a number and has no name for it (only %s is 0)", k.x.field, k.x.op, v, zero)
		}
	}
	nums, err := k.intsOf(vals)
	if err != nil {
		return nil, err
	}
	return k.numOp(p, nums)
}

// Socket domains and types by number (evt.rawarg) and name.
var (
	socketDomains = map[string]string{"1": "AF_UNIX", "2": "AF_INET", "10": "AF_INET6", "16": "AF_NETLINK", "17": "AF_PACKET"}
	socketTypes   = map[string]string{"1": "SOCK_STREAM", "2": "SOCK_DGRAM", "3": "SOCK_RAW", "5": "SOCK_SEQPACKET", "10": "SOCK_PACKET"}
)

// named compares an argument Vigil holds by its name (AF_PACKET); evt.rawarg gives
// its number.
func (k *cmpCtx) named(p string, raw bool, names map[string]string) (*importer.Node, error) {
	vals, err := k.onVals(p)
	if err != nil {
		return nil, err
	}
	if raw {
		for i, v := range vals {
			n, ok := names[v]
			if !ok {
				return nil, k.fail("%s %s: a number Vigil has no name for (%s)", k.x.field, v, strings.Join(sortedKeys(names), ", "))
			}
			vals[i] = n
		}
	}
	return k.strOp(p, vals)
}
