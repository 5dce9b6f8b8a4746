package sigma

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// The auditd service: a Sigma rule's searches describe one record of the Linux
// audit log, named by its type field. Three record types have Vigil events:
//
//	EXECVE   the arguments of an exec: NEW_PROCESS
//	PATH     a path a syscall used: the file events, and the program of an exec
//	SYSCALL  a syscall, named by its SYSCALL field: the event type the sensor
//	         reports for it (syscallEvents)
//
// Each is a set of contexts (a record type and a Vigil event type); the rule is
// translated in each, and refused when it can match a record of a type or a
// syscall Vigil has no events for.

const (
	recExecve  = "EXECVE"
	recPath    = "PATH"
	recSyscall = "SYSCALL"
)

// processTypes are the event types that carry the acting process.
var processTypes = func() []string {
	f, err := event.Lookup("event/FILE_PATH")
	if err != nil {
		panic(err)
	}
	var out []string
	for _, t := range event.Types {
		if f.AppliesTo(t) {
			out = append(out, t)
		}
	}
	return out
}()

// syscallEvents are the syscalls whose every successful call the sensor reports,
// and the event types it reports them as; syslog's calls are reported for the
// actions that change the kernel's log only, refused ones too (syslogActions).
var syscallEvents = map[string][]string{
	"execve": {event.NewProcess}, "execveat": {event.NewProcess},
	"open": {event.FileOpen}, "openat": {event.FileOpen}, "openat2": {event.FileOpen},
	"creat": {event.FileOpen}, "open_by_handle_at": {event.FileOpen},
	"unlink": {event.FileDelete}, "unlinkat": {event.FileDelete, event.DirDelete}, "rmdir": {event.DirDelete},
	"rename": {event.FileRename}, "renameat": {event.FileRename}, "renameat2": {event.FileRename},
	"chmod": {event.FileChmod}, "fchmod": {event.FileChmod}, "fchmodat": {event.FileChmod}, "fchmodat2": {event.FileChmod},
	"link": {event.FileLink}, "linkat": {event.FileLink}, "symlink": {event.FileLink}, "symlinkat": {event.FileLink},
	"mkdir": {event.DirCreate}, "mkdirat": {event.DirCreate},
	"mknod": {event.FileMknod}, "mknodat": {event.FileMknod},
	"chown": {event.FileChown}, "fchown": {event.FileChown}, "lchown": {event.FileChown}, "fchownat": {event.FileChown},
	"truncate": {event.FileTruncate}, "ftruncate": {event.FileTruncate},
	"setuid": {event.PrivilegeChange}, "setgid": {event.PrivilegeChange}, "setreuid": {event.PrivilegeChange},
	"setregid": {event.PrivilegeChange}, "setresuid": {event.PrivilegeChange}, "setresgid": {event.PrivilegeChange},
	"setfsuid": {event.PrivilegeChange}, "setfsgid": {event.PrivilegeChange}, "capset": {event.PrivilegeChange},
	"setns": {event.NamespaceChange},
	"mount": {event.Mount}, "move_mount": {event.Mount}, "umount2": {event.Unmount},
	"memfd_create": {event.MemfdCreate}, "userfaultfd": {event.Userfaultfd},
	"init_module": {event.ModuleLoad}, "finit_module": {event.ModuleLoad},
	"syslog": {event.KernelLogControl},
}

// syslogAction is a0 of a syslog SYSCALL record (audit logs it in
// hexadecimal): on the calls the sensor reports (reported), the action's name
// (event.KernelLogActions); on the others, a match of any action but those.
type syslogAction struct{ reported bool }

func (syslogAction) exists() (*importer.Node, error) { return importer.True(), nil }

func (a syslogAction) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if err := exactValue(m, v.Value); err != nil {
		return nil, refuse("field a0 of syslog: %v", err)
	}
	n, err := strconv.ParseUint(v.Value, 16, 64)
	if err != nil {
		return importer.False(), nil // audit logs a0 in hexadecimal
	}
	op, reported := "", false
	if n <= math.MaxUint32 {
		op, reported = event.KernelLogActions[uint32(n)]
	}
	switch {
	case a.reported && reported:
		return importer.Leaf(importer.OpIs, "event/OPERATION", op), nil
	case !a.reported && !reported:
		return unknownTarget{}.value(m, v)
	}
	return importer.False(), nil
}

// syslogUnreportedContext stands for the syslog calls the sensor does not
// report: those that read the kernel's log or its size.
func syslogUnreportedContext() *context {
	c := unsupportedContext(recSyscall, "syslog", "syscall syslog: the sensor reports it only for the actions that "+
		"clear the kernel's log or switch its console (a0 4 to 8), not for those that read it")
	field := c.field
	c.field = func(f string) target {
		if f == "a0" {
			return syslogAction{}
		}
		return field(f)
	}
	return c
}

// partialSyscalls are syscalls the sensor reports only some calls of, the event
// type those give, and which calls.
var partialSyscalls = func() map[string]struct{ event, why string } {
	const (
		namespaces = "the sensor reports it only when it makes namespaces"
		accepted   = "the sensor reports accepted TCP connections only"
		sent       = "the sensor reports only a socket's first datagram to each destination and DNS queries"
	)
	m := map[string]struct{ event, why string }{
		"bpf": {event.BPFLoad, "the sensor reports bpf only for BPF_PROG_LOAD"},
		"ptrace": {event.Ptrace, "the sensor reports ptrace only for attach, seize, traceme and the first read " +
			"and write of each tracee"},
		"connect": {event.NetworkConnect, "the sensor reports connects of TCP and UDP sockets only, and NETWORK_CONNECT " +
			"events also come from UDP datagrams sent without connect"},
		"listen": {event.NetworkListen, "the sensor reports listen on TCP, Multipath TCP and SCTP sockets only"},
		"exit_group": {event.TerminateProcess, "TERMINATE_PROCESS reports every end of a process, by a signal too, " +
			"not the call"},
	}
	for _, s := range []string{"unshare", "clone", "clone3"} {
		m[s] = struct{ event, why string }{event.NamespaceChange, namespaces}
	}
	for _, s := range []string{"accept", "accept4"} {
		m[s] = struct{ event, why string }{event.NetworkAccept, accepted}
	}
	for _, s := range []string{"sendto", "sendmsg", "sendmmsg"} {
		m[s] = struct{ event, why string }{event.NetworkConnect, sent}
	}
	return m
}()

// producers are the syscalls an event type comes from.
func producers(t string) []string {
	var out []string
	for s, ts := range syscallEvents {
		for _, x := range ts {
			if x == t {
				out = append(out, s)
			}
		}
	}
	for s, p := range partialSyscalls {
		if p.event == t {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// recordReasons say why Vigil has no events for other record types.
var recordReasons = func() map[string]string {
	const (
		tty      = "keystrokes typed at a terminal (pam_tty_audit): Vigil's events carry no terminal input"
		accounts = "records written by the account tools and sudo: their executions are NEW_PROCESS events, the records are not"
		units    = "records of systemd's units: Vigil's events carry no service state"
		logins   = "login and PAM records: Vigil's events carry no logins"
		audit    = "records of the audit system itself"
	)
	m := map[string]string{
		"PROCTITLE": "Vigil has the command line as process_creation's CommandLine and the arguments as EXECVE's a0, a1, …",
		"CWD":       "Vigil has the working directory at exec only (process_creation's CurrentDirectory)",
		"SOCKADDR":  "Vigil's connection events are not SOCKADDR records: use a network_connection rule",
	}
	for why, recs := range map[string][]string{
		tty:      {"TTY", "USER_TTY"},
		accounts: {"ADD_USER", "DEL_USER", "ADD_GROUP", "DEL_GROUP", "USER_MGMT", "USER_CHAUTHTOK", "USER_CMD"},
		units:    {"SERVICE_START", "SERVICE_STOP"},
		logins:   {"USER_LOGIN", "USER_AUTH", "USER_START", "USER_END"},
		audit:    {"CONFIG_CHANGE", "DAEMON_START"},
	} {
		for _, r := range recs {
			m[r] = why
		}
	}
	return m
}()

func recordReason(rec string) string {
	why, ok := recordReasons[rec]
	if !ok {
		why = "Vigil's events carry no " + rec + " records (only SYSCALL, EXECVE and PATH records have Vigil events)"
	}
	return fmt.Sprintf("record type %s: %s", rec, why)
}

// Fields of the records Vigil has events for. A field of one of them compares as
// absent on the others; a field of none is an error.
var (
	argField     = regexp.MustCompile(`^a(0|[1-9][0-9]*)$`)
	argPartField = regexp.MustCompile(`^a(0|[1-9][0-9]*)(_len|\[[0-9]+\])$`)
	pathFields   = map[string]bool{"name": true, "nametype": true, "item": true, "inode": true, "dev": true,
		"mode": true, "ouid": true, "ogid": true, "rdev": true, "cap_fp": true, "cap_fi": true, "cap_fe": true,
		"cap_fver": true, "cap_frootid": true, "OUID": true, "OGID": true, "obj": true}
	syscallFields = map[string]bool{"arch": true, "syscall": true, "SYSCALL": true, "success": true, "exit": true,
		"a0": true, "a1": true, "a2": true, "a3": true, "items": true, "ppid": true, "pid": true, "auid": true,
		"uid": true, "gid": true, "euid": true, "suid": true, "fsuid": true, "egid": true, "sgid": true,
		"fsgid": true, "tty": true, "ses": true, "comm": true, "exe": true, "subj": true, "key": true,
		"ARCH": true, "AUID": true, "UID": true, "GID": true, "EUID": true, "SUID": true, "FSUID": true,
		"EGID": true, "SGID": true, "FSGID": true}
)

func isExecveField(f string) bool {
	return f == "argc" || argField.MatchString(f) || argPartField.MatchString(f)
}

// otherRecord is the target of a field on a record that lacks it: absent when
// another record type has it, else an error.
func otherRecord(f string) target {
	if isExecveField(f) || pathFields[f] || syscallFields[f] {
		return absentTarget{}
	}
	return refusedTarget{refuse("field %s is not supported: it is not a field of SYSCALL, EXECVE or PATH records", f)}
}

func recordType(rec string) target {
	return enumTarget{choices: []choice{{rec, importer.True()}}, exact: true}
}

func refusedField(f, why string) target {
	return refusedTarget{refuse("field %s is not supported: %s", f, why)}
}

func execveContext() *context {
	return &context{event: event.NewProcess, keyword: pathTarget{"event/COMMAND_LINE"},
		field: func(f string) target {
			switch {
			case f == "type":
				return recordType(recExecve)
			case argField.MatchString(f):
				n, err := strconv.Atoi(f[1:])
				if err != nil || n >= event.MaxPosition {
					return refusedField(f, fmt.Sprintf("Vigil keeps the first %d arguments", event.MaxPosition))
				}
				return pathTarget{fmt.Sprintf("event/ARGS/%d", n)}
			case f == "argc":
				return refusedField(f, "D&R rules do not compare the number of arguments")
			case argPartField.MatchString(f):
				return refusedField(f, "audit cuts long arguments into parts; Vigil has each argument whole: compare aN")
			}
			return otherRecord(f)
		}}
}

// pathItem is a path a Vigil event holds, as a PATH record of its syscall would
// name it.
type pathItem struct {
	event, path string
	nametype    []choice
	base        *importer.Node
}

func pathItems() []pathItem {
	created := &importer.Node{Op: importer.OpMatches, Path: "event/FILE_FLAGS", Re: `(^|,)create(,|$)`}
	only := func(nt string) []choice { return []choice{{nt, importer.True()}} }
	target := "event/TARGET/FILE_PATH"
	return []pathItem{
		{event: event.FileOpen, path: target, nametype: []choice{{"CREATE", created}, {"NORMAL", importer.Negate(created)}}},
		{event: event.FileDelete, path: target, nametype: only("DELETE")},
		{event: event.DirDelete, path: target, nametype: only("DELETE")},
		{event: event.FileRename, path: target, nametype: only("CREATE")},
		{event: event.FileRename, path: "event/TARGET/OLD_FILE_PATH", nametype: only("DELETE")},
		{event: event.FileChmod, path: target, nametype: only("NORMAL")},
		{event: event.FileChown, path: target, nametype: only("NORMAL")},
		{event: event.FileTruncate, path: target, nametype: only("NORMAL")},
		{event: event.FileLink, path: target, nametype: only("CREATE")},
		{event: event.FileLink, path: "event/LINK_TARGET", nametype: only("NORMAL"),
			base: importer.Leaf(importer.OpIs, "event/LINK_TYPE", "hard")},
		{event: event.DirCreate, path: target, nametype: only("CREATE")},
		{event: event.FileMknod, path: target, nametype: only("CREATE")},
		{event: event.NewProcess, path: "event/FILE_PATH", nametype: only("NORMAL")},
	}
}

func pathContext(it pathItem) *context {
	return &context{event: it.event, base: it.base,
		keyword: refusedTarget{refuse("keyword search over a PATH record's text is not supported: name the field")},
		field: func(f string) target {
			switch {
			case f == "type":
				return recordType(recPath)
			case f == "name":
				return pathTarget{it.path}
			case f == "nametype":
				return enumTarget{choices: it.nametype}
			case pathFields[f]:
				return refusedField(f, "Vigil's file events carry the path, not the inode's number, device, mode, owner or capabilities")
			}
			return otherRecord(f)
		}}
}

// syscallContext is the SYSCALL record of syscall s ("*": any) for events of type t.
func syscallContext(t, s string, keys keyTarget) *context {
	return &context{event: t, syscall: s,
		keyword: refusedTarget{refuse("keyword search over a SYSCALL record's text is not supported: name the field")},
		field: func(f string) target {
			// A SYSCALL record of a set*id call has the ids after the call,
			// Vigil's PRIVILEGE_CHANGE the caller's before it. A rule that names
			// the call is refused; one that names no syscall is about the
			// process, whichever calls it made, and compares the ids Vigil has.
			ids := t == event.PrivilegeChange && s != "*"
			if s == "syslog" {
				switch f {
				case "a0":
					return syslogAction{reported: true}
				case "success":
					// KERNEL_LOG_CONTROL reports refused calls too.
					ok := importer.Leaf(importer.OpIs, "event/ERROR_CODE", 0)
					return enumTarget{choices: []choice{{"yes", ok}, {"no", importer.Negate(ok)}}}
				}
			}
			switch f {
			case "type":
				return recordType(recSyscall)
			case "SYSCALL", "syscall":
				return syscallTarget{choices: []choice{{s, importer.True()}}}
			case "exe":
				return pathTarget{"event/FILE_PATH"}
			case "comm":
				return baseTarget{"event/ARGS/0"}
			case "pid":
				return pathTarget{"event/PROCESS_ID"}
			case "ppid":
				return pathTarget{"event/PARENT_PROCESS_ID"}
			case "uid", "euid", "gid":
				if ids {
					return refusedField(f, "a SYSCALL record of a set*id call has the ids after the call; "+
						"Vigil's PRIVILEGE_CHANGE has the caller's before it (and NEW_USER_ID, NEW_GROUP_ID after)")
				}
				return map[string]idTarget{
					"uid":  {num: "event/USER_ID", name: "event/USER"},
					"euid": {num: "event/EFFECTIVE_USER_ID"},
					"gid":  {num: "event/GROUP_ID"},
				}[f]
			case "UID":
				if ids {
					return refusedField(f, "a SYSCALL record of a set*id call has the ids after the call; Vigil's PRIVILEGE_CHANGE has the caller's before it")
				}
				return pathTarget{"event/USER"}
			case "auid":
				return idTarget{num: "event/LOGIN_USER_ID", unset: true}
			case "ses":
				return idTarget{num: "event/SESSION_ID", unset: true}
			case "success":
				// Vigil's events are calls that succeeded.
				return enumTarget{choices: []choice{{"yes", importer.True()}, {"no", importer.False()}}}
			case "a0", "a1", "a2", "a3":
				return syscallArg{f}
			case "key":
				return keys
			case "exit":
				return refusedField(f, "Vigil's events carry no return values")
			case "arch", "ARCH":
				return refusedField(f, "Vigil's events do not say the architecture")
			case "tty":
				return refusedField(f, "audit names terminals pts0 where Vigil's event/TTY has pts/0")
			case "subj":
				return refusedField(f, "Vigil's events carry no security labels")
			case "items":
				return refusedField(f, "Vigil's events are not counted in PATH records")
			case "suid", "fsuid", "egid", "sgid", "fsgid", "AUID", "EUID", "GID", "SUID", "FSUID", "EGID", "SGID", "FSGID":
				return refusedField(f, "Vigil's events carry the real and effective uid, the real gid and the login uid, "+
					"and a name for the real uid only (UID)")
			}
			return otherRecord(f)
		}}
}

// syscallTarget is the syscall of a SYSCALL record: a name, given exactly.
type syscallTarget enumTarget

func (t syscallTarget) exists() (*importer.Node, error) { return importer.True(), nil }

func (t syscallTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if _, err := strconv.Atoi(v.Value); err == nil {
		return nil, fmt.Errorf("syscall numbers differ between architectures: give the syscall's name, not %s", v.Value)
	}
	return enumTarget{choices: t.choices, exact: true}.value(m, v)
}

// syscallArg is a raw argument of a SYSCALL record, which audit logs in
// hexadecimal: a value that cannot be one never matches; other values are
// refused.
type syscallArg struct{ name string }

func (syscallArg) exists() (*importer.Node, error) { return importer.True(), nil }

func (a syscallArg) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if !m["re"] {
		for _, sg := range splitWildcards(v.Value) {
			if strings.Trim(sg.text, "0123456789abcdefABCDEF") != "" {
				return importer.False(), nil
			}
		}
	}
	return nil, refuse("field %s is not supported: Vigil's events carry no raw syscall arguments", a.name)
}

// auditRule is an audit rule of the logsource's definition that sets a key.
type auditRule struct {
	text, key    string
	watch, perms string
}

// parseDefinition reads the audit rules (auditctl syntax) a logsource's
// definition gives; rules without a key are left out.
func parseDefinition(def string) []auditRule {
	var out []auditRule
	for _, line := range strings.Split(def, "\n") {
		fs := strings.Fields(line)
		if len(fs) == 0 || (fs[0] != "-w" && fs[0] != "-a" && fs[0] != "-A") {
			continue
		}
		r := auditRule{text: strings.Join(fs, " ")}
		for i := 0; i+1 < len(fs); i++ {
			switch fs[i] {
			case "-w":
				r.watch = fs[i+1]
			case "-p":
				r.perms = fs[i+1]
			case "-k":
				r.key = fs[i+1]
			case "-F":
				if k, ok := strings.CutPrefix(fs[i+1], "key="); ok {
					r.key = k
				}
			}
		}
		if r.key != "" {
			out = append(out, r)
		}
	}
	return out
}

// node is what holds for the records the rule marks, on events of type t from
// syscall s ("*": any).
func (r auditRule) node(t, s string) (*importer.Node, error) {
	switch {
	case r.watch == "":
		return nil, fmt.Errorf("audit rule %q is not translated: only file watches (-w) are", r.text)
	case r.perms != "x":
		return nil, fmt.Errorf("audit rule %q is not translated: only watches for execution (-p x) are; "+
			"r, w and a also fire on calls Vigil reports no event for (reads and writes of open files, attribute and time changes)", r.text)
	}
	if t != event.NewProcess || (s != "*" && s != "execve" && s != "execveat") {
		return importer.False(), nil
	}
	// A watch covers the file, or the directory and everything under it.
	p := strings.TrimRight(r.watch, "/")
	if p == "" {
		return importer.True(), nil
	}
	return importer.Or(importer.Leaf(importer.OpIs, "event/FILE_PATH", p),
		importer.Leaf(importer.OpStarts, "event/FILE_PATH", p+"/")), nil
}

// keyTarget is the key of a SYSCALL record: the key of the audit rule that
// logged it. It is known for the rules the logsource's definition gives.
type keyTarget struct {
	rules  []auditRule
	t, sys string
}

func (keyTarget) exists() (*importer.Node, error) {
	return nil, refuse("field key|exists is not supported: whether a record has a key depends on audit rules Vigil does not have")
}

func (k keyTarget) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if err := exactValue(m, v.Value); err != nil {
		return nil, err
	}
	var alts []*importer.Node
	for _, r := range k.rules {
		ok, err := matchConst(m, v.Value, r.key)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		n, err := r.node(k.t, k.sys)
		if err != nil {
			return nil, err
		}
		alts = append(alts, n)
	}
	if len(alts) == 0 {
		return nil, fmt.Errorf("no audit rule of the logsource definition has the key %q, so Vigil cannot tell which records audit marks with it", v.Value)
	}
	return importer.Or(alts...), nil
}

// unsupportedContext stands for records of type rec (of syscall sys on a SYSCALL
// record, "" for any syscall the rule does not name) that Vigil has no events for.
func unsupportedContext(rec, sys, why string) *context {
	return &context{refusal: why, syscall: sys, keyword: unknownTarget{},
		field: func(f string) target {
			switch {
			case f == "type":
				return recordType(rec)
			case rec == recSyscall && (f == "SYSCALL" || f == "syscall"):
				if sys == "" {
					return syscallTarget{} // none of the names the rule gives
				}
				return syscallTarget{choices: []choice{{sys, importer.True()}}}
			}
			return unknownTarget{}
		}}
}

// auditdContexts are the contexts of an auditd rule: its searches decide which
// syscalls and record types other than SYSCALL, EXECVE and PATH it names.
func auditdContexts(searches map[string]*yaml.Node, definition string) []*context {
	named := map[string]map[string]bool{"SYSCALL": {}, "type": {}}
	mentions := false
	var scan func(n *yaml.Node)
	scan = func(n *yaml.Node) {
		switch n.Kind {
		case yaml.SequenceNode:
			for _, it := range n.Content {
				if it.Kind == yaml.MappingNode {
					scan(it)
				}
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				f, _, _ := strings.Cut(n.Content[i].Value, "|")
				if f == "syscall" {
					f = "SYSCALL"
				}
				set, ok := named[f]
				if !ok {
					continue
				}
				mentions = mentions || f == "SYSCALL"
				vals := []*yaml.Node{n.Content[i+1]}
				if n.Content[i+1].Kind == yaml.SequenceNode {
					vals = n.Content[i+1].Content
				}
				for _, v := range vals {
					if v.Kind == yaml.ScalarNode && v.Tag != "!!null" {
						set[v.Value] = true
					}
				}
			}
		}
	}
	for _, s := range searches {
		scan(s)
	}
	keys := parseDefinition(definition)

	ctxs := []*context{execveContext()}
	for _, it := range pathItems() {
		ctxs = append(ctxs, pathContext(it))
	}
	if !mentions {
		for _, t := range processTypes {
			ctxs = append(ctxs, syscallContext(t, "*", keyTarget{keys, t, "*"}))
		}
	} else {
		for _, s := range slices.Sorted(maps.Keys(syscallEvents)) {
			for _, t := range syscallEvents[s] {
				ctxs = append(ctxs, syscallContext(t, s, keyTarget{keys, t, s}))
			}
		}
		for _, s := range slices.Sorted(maps.Keys(named["SYSCALL"])) {
			s = strings.ToLower(s)
			if s == "syslog" {
				ctxs = append(ctxs, syslogUnreportedContext())
			}
			if _, ok := syscallEvents[s]; ok {
				continue
			}
			why := fmt.Sprintf("syscall %s: the sensor does not report it", s)
			if p, ok := partialSyscalls[s]; ok {
				why = fmt.Sprintf("syscall %s: %s", s, p.why)
			}
			ctxs = append(ctxs, unsupportedContext(recSyscall, s, why))
		}
		ctxs = append(ctxs, unsupportedContext(recSyscall, "", "the rule matches SYSCALL records of syscalls it does not name, "+
			"and Vigil has events for some syscalls only: name the syscalls"))
	}
	for _, rec := range slices.Sorted(maps.Keys(named["type"])) {
		rec = strings.ToUpper(rec)
		if rec != recExecve && rec != recPath && rec != recSyscall {
			ctxs = append(ctxs, unsupportedContext(rec, "", recordReason(rec)))
		}
	}
	return ctxs
}

// joinSyscalls joins the translations of a rule for the SYSCALL records of the
// syscalls an event type comes from. When they are not the same for all of them,
// event/OPERATION tells the syscalls apart where the type has it; elsewhere the
// rule is refused.
func joinSyscalls(t string, parts []part) (*importer.Node, error) {
	type group struct {
		n    *importer.Node
		sys  []any
		keys string
	}
	var groups []*group
	var names []string
	for _, p := range parts {
		k, err := nodeKey(p.n)
		if err != nil {
			return nil, err
		}
		names = append(names, p.ctx.syscall)
		found := false
		for _, g := range groups {
			if g.keys == k {
				g.sys, found = append(g.sys, p.ctx.syscall), true
			}
		}
		if !found {
			groups = append(groups, &group{n: p.n, sys: []any{p.ctx.syscall}, keys: k})
		}
	}
	all := producers(t)
	if len(groups) == 1 && len(names) == len(all) {
		return groups[0].n, nil
	}
	if op, _ := event.Lookup("event/OPERATION"); op != nil && op.AppliesTo(t) {
		var alts []*importer.Node
		for _, g := range groups {
			alts = append(alts, importer.And(g.n, &importer.Node{Op: importer.OpInList, Path: "event/OPERATION", Values: g.sys}))
		}
		return importer.Or(alts...), nil
	}
	var rest []string
	for _, s := range all {
		if !slices.Contains(names, s) {
			rest = append(rest, s)
		}
	}
	if len(rest) == 0 {
		return nil, fmt.Errorf("the rule tells the syscalls %s apart, and Vigil's %s events do not say which of them was made",
			strings.Join(all, ", "), t)
	}
	return nil, fmt.Errorf("the rule matches %s but not %s, and Vigil's %s events do not say which of them was made",
		strings.Join(names, ", "), strings.Join(rest, ", "), t)
}

// nodeKey prints a node, to tell equal translations apart from different ones.
func nodeKey(n *importer.Node) (string, error) {
	y, err := (&importer.Doc{Events: []string{"X"}, Detection: n}).Marshal()
	return string(y), err
}
