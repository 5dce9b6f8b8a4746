package event

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"sync/atomic"
)

// Process context paths whose names are not fixed: an ancestor by position
// (event/ANCESTORS/0/FILE_PATH, 0 being the parent) or any ancestor
// (event/ANCESTORS/*/FILE_PATH), an argument by position (event/ARGS/1) and
// an environment variable by name (event/ENV/LD_PRELOAD). Lookup builds their
// accessors when a rule is compiled; at evaluation they index the event's
// lists, with no map or allocation. A position past the end of a list reads
// as absent: "" or 0.

// MaxPosition bounds the positions a path may name (ancestors, arguments).
const MaxPosition = 1024

const (
	ancestorsPrefix = "event/ANCESTORS/"
	argsPrefix      = "event/ARGS/"
	envPrefix       = "event/ENV/"
)

// ancestorFields are the fields of one ancestor.
var ancestorFields = map[string]func(e *Event) []string{
	"FILE_PATH":    func(e *Event) []string { return e.AncestorPaths },
	"COMMAND_LINE": func(e *Event) []string { return e.AncestorCommandLines },
	"USER":         func(e *Event) []string { return e.AncestorUsers },
}

// DynamicPaths describes the path patterns Lookup accepts besides Fields.
var DynamicPaths = []string{
	"event/ANCESTORS/<N>/FILE_PATH", "event/ANCESTORS/<N>/FILE_NAME", "event/ANCESTORS/<N>/COMMAND_LINE",
	"event/ANCESTORS/<N>/USER", "event/ANCESTORS/<N>/PROCESS_ID",
	"event/ANCESTORS/*/FILE_PATH", "event/ANCESTORS/*/COMMAND_LINE", "event/ANCESTORS/*/USER",
	"event/ARGS/<N>", "event/ENV/<NAME>", "event/K8S/POD_LABEL/<KEY>",
}

// dynamicField returns the field of a path matching one of DynamicPaths, nil
// if path matches none, or an error saying what is wrong with a path that
// starts like one.
func dynamicField(path string) (*Field, error) {
	switch {
	case strings.HasPrefix(path, ancestorsPrefix):
		pos, name, ok := strings.Cut(path[len(ancestorsPrefix):], "/")
		if !ok {
			return nil, fmt.Errorf("path %q: want %s<N or *>/<FIELD>", path, ancestorsPrefix)
		}
		if pos == "*" {
			list, ok := ancestorFields[name]
			if !ok {
				return nil, fmt.Errorf("path %q: any ancestor (*) has FILE_PATH, COMMAND_LINE and USER", path)
			}
			return &Field{Path: path, Kind: StringList, For: processTypes, List: list}, nil
		}
		i, err := position(path, pos)
		if err != nil {
			return nil, err
		}
		switch name {
		case "PROCESS_ID":
			return &Field{Path: path, Kind: Number, For: processTypes, Num: func(e *Event) int64 {
				if i < len(e.AncestorPIDs) {
					return int64(e.AncestorPIDs[i])
				}
				return 0
			}}, nil
		case "FILE_NAME":
			return &Field{Path: path, Kind: String, For: processTypes, Derived: ancestorsPrefix + pos + "/FILE_PATH",
				Str: func(e *Event) string { return base(at(e.AncestorPaths, i)) }}, nil
		}
		list, ok := ancestorFields[name]
		if !ok {
			return nil, fmt.Errorf("path %q: an ancestor has FILE_PATH, FILE_NAME, COMMAND_LINE, USER and PROCESS_ID", path)
		}
		return &Field{Path: path, Kind: String, For: processTypes, Str: func(e *Event) string { return at(list(e), i) }}, nil
	case strings.HasPrefix(path, argsPrefix):
		i, err := position(path, path[len(argsPrefix):])
		if err != nil {
			return nil, err
		}
		return &Field{Path: path, Kind: String, For: processTypes, Str: func(e *Event) string { return at(e.Args, i) }}, nil
	case strings.HasPrefix(path, podLabelPrefix):
		return podLabelField(path)
	case strings.HasPrefix(path, envPrefix):
		name := path[len(envPrefix):]
		if name == "" || strings.ContainsAny(name, "=/") {
			return nil, fmt.Errorf("path %q: want %s<NAME>, a variable name without = or /", path, envPrefix)
		}
		return &Field{Path: path, Kind: String, For: []Type{NewProcess}, source: "event/ENVIRONMENT",
			Str: func(e *Event) string { return EnvValue(e.Environment, name) }}, nil
	}
	return nil, nil
}

// Keyed reports whether the field's value is looked up by a name in another
// field's list of NAME=value (event/ENV/<NAME> in event/ENVIRONMENT): its
// column holds that list, not the field's value.
func (f *Field) Keyed() bool { return f.source != "" }

func position(path, s string) (int, error) {
	i, err := strconv.Atoi(s)
	if err != nil || i < 0 || i >= MaxPosition || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("path %q: position %q is not a number from 0 to %d (or *)", path, s, MaxPosition-1)
	}
	return i, nil
}

func at(l []string, i int) string {
	if i < len(l) {
		return l[i]
	}
	return ""
}

// EnvValue returns the value of the variable name in env, a list of
// "NAME=value", or "" when it is absent.
func EnvValue(env []string, name string) string {
	for _, kv := range env {
		if len(kv) > len(name) && kv[len(name)] == '=' && kv[:len(name)] == name {
			return kv[len(name)+1:]
		}
	}
	return ""
}

// vpid reads the process id in the process's own pid namespace: the stored
// one, or the process id when none is stored (the initial namespace).
func vpid(e *Event) int64 {
	if e.VPID != 0 {
		return int64(e.VPID)
	}
	return int64(e.PID)
}

// CapabilityNames lists the Linux capabilities by bit number.
var CapabilityNames = [...]string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

type capNames struct {
	mask  uint64
	names []string
}

// lastCaps keeps the names of the last mask asked for: the processes of a
// host share a few masks (all, none), so the names are built rarely.
var lastCaps atomic.Pointer[capNames]

// Capabilities returns the names of the capabilities in mask ("CAP_7" for a
// bit without a name). The returned slice is shared: do not modify it.
func Capabilities(mask uint64) []string {
	if c := lastCaps.Load(); c != nil && c.mask == mask {
		return c.names
	}
	names := make([]string, 0, bits.OnesCount64(mask))
	for b := range 64 {
		if mask&(1<<b) == 0 {
			continue
		}
		if b < len(CapabilityNames) {
			names = append(names, CapabilityNames[b])
		} else {
			names = append(names, "CAP_"+strconv.Itoa(b))
		}
	}
	lastCaps.Store(&capNames{mask: mask, names: names})
	return names
}

// Ancestor is one ancestor of a process in an event's tree form.
type Ancestor struct {
	PID         uint32
	Path        string
	CommandLine string
	User        string
}

// Ancestors returns the event's ancestry, parent first. Lists of unequal
// lengths (an untrusted file) are read as far as the longest; missing
// values are zero.
func (e *Event) Ancestors() []Ancestor {
	n := max(len(e.AncestorPIDs), len(e.AncestorPaths), len(e.AncestorCommandLines), len(e.AncestorUsers))
	out := make([]Ancestor, n)
	for i := range out {
		if i < len(e.AncestorPIDs) {
			out[i].PID = e.AncestorPIDs[i]
		}
		out[i].Path = at(e.AncestorPaths, i)
		out[i].CommandLine = at(e.AncestorCommandLines, i)
		out[i].User = at(e.AncestorUsers, i)
	}
	return out
}

// SetAncestors stores ancestry a in the event's parallel lists.
func (e *Event) SetAncestors(a []Ancestor) {
	e.AncestorPIDs, e.AncestorPaths, e.AncestorCommandLines, e.AncestorUsers = nil, nil, nil, nil
	if len(a) == 0 {
		return
	}
	e.AncestorPIDs = make([]uint32, len(a))
	e.AncestorPaths = make([]string, len(a))
	e.AncestorCommandLines = make([]string, len(a))
	e.AncestorUsers = make([]string, len(a))
	for i, x := range a {
		e.AncestorPIDs[i], e.AncestorPaths[i], e.AncestorCommandLines[i], e.AncestorUsers[i] = x.PID, x.Path, x.CommandLine, x.User
	}
}

// ancestorsTree is the tree form of the ancestry (event/ANCESTORS): a list of
// {"PROCESS_ID", "FILE_PATH", "COMMAND_LINE", "USER"}, parent first.
func ancestorsTree(e *Event) []any {
	a := e.Ancestors()
	out := make([]any, len(a))
	for i, x := range a {
		out[i] = map[string]any{"PROCESS_ID": int64(x.PID), "FILE_PATH": x.Path, "COMMAND_LINE": x.CommandLine, "USER": x.User}
	}
	return out
}

// setAncestorsTree is the inverse of ancestorsTree.
func setAncestorsTree(e *Event, v any) error {
	items, ok := v.([]any)
	if !ok {
		return fmt.Errorf("want a list of ancestors, got %T", v)
	}
	a := make([]Ancestor, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return fmt.Errorf("ancestor %d: want an object, got %T", i, it)
		}
		for k, x := range m {
			var err error
			switch k {
			case "PROCESS_ID":
				var n int64
				var big bool
				if n, big, err = toInt(x); err == nil && (big || n < 0 || n > 1<<32-1) {
					err = fmt.Errorf("%v out of range", x)
				}
				a[i].PID = uint32(n)
			case "FILE_PATH", "COMMAND_LINE", "USER":
				s, ok := x.(string)
				if !ok {
					err = fmt.Errorf("want a string, got %T", x)
				}
				switch k {
				case "FILE_PATH":
					a[i].Path = s
				case "COMMAND_LINE":
					a[i].CommandLine = s
				default:
					a[i].User = s
				}
			default:
				err = fmt.Errorf("unknown key (an ancestor has PROCESS_ID, FILE_PATH, COMMAND_LINE, USER)")
			}
			if err != nil {
				return fmt.Errorf("ancestor %d: %s: %w", i, k, err)
			}
		}
	}
	e.SetAncestors(a)
	return nil
}
