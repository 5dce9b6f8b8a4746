package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Kind is the value type a rule path yields.
type Kind int

// Kinds of field values.
const (
	String Kind = iota + 1
	Number
	StringList
)

func (k Kind) String() string {
	switch k {
	case String:
		return "string"
	case Number:
		return "number"
	case StringList:
		return "list of strings"
	}
	return "unknown"
}

// Field is one rule path and how to read it from an Event. Exactly one of Str, Num
// and List is set, according to Kind. Accessors are plain functions so that a rule
// compiled against a path reads the struct directly: no maps, no reflection.
type Field struct {
	Path string
	Kind Kind
	// For lists the event types the field belongs to; nil means every type.
	For []Type
	// Derived fields are computed from another field (a file name from its path):
	// rules read them, Tree leaves them out and FromTree refuses them.
	Derived string
	Str     func(*Event) string
	Num     func(*Event) int64
	List    func(*Event) []string

	// source is the field whose value a dynamic field looks a name up in
	// (event/ENV/<NAME> in event/ENVIRONMENT): Columns reads its columns,
	// which probe values do not find, holding no such name
	source string
	setStr func(*Event, string)
	// setNum stores n (above math.MaxInt64 when big, n its two's complement
	// image) and reports whether the field's type holds it; see FromTree.
	setNum  func(e *Event, n int64, big bool) bool
	setList func(*Event, []string)
}

// AppliesTo reports whether the field is part of events of type t.
func (f *Field) AppliesTo(t Type) bool {
	if f.For == nil {
		return true
	}
	for _, x := range f.For {
		if x == t {
			return true
		}
	}
	return false
}

func str(path string, get func(*Event) *string, forTypes ...Type) Field {
	return Field{Path: path, Kind: String, For: forTypes,
		Str:    func(e *Event) string { return *get(e) },
		setStr: func(e *Event, v string) { *get(e) = v }}
}

// base is the last element of a slash-separated path, without allocating.
func base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}

func derivedName(path, from string, get func(*Event) *string, forTypes ...Type) Field {
	return Field{Path: path, Kind: String, For: forTypes, Derived: from,
		Str: func(e *Event) string { return base(*get(e)) }}
}

func num[T ~uint16 | ~uint32 | ~uint64 | ~int32 | ~int64](path string, get func(*Event) *T, forTypes ...Type) Field {
	_, wide := any(T(0)).(uint64)
	return Field{Path: path, Kind: Number, For: forTypes,
		Num: func(e *Event) int64 { return int64(*get(e)) },
		setNum: func(e *Event, n int64, big bool) bool {
			// A uint64 takes every int64 as the image Num reads back, and the
			// values above math.MaxInt64; the narrower types only the values
			// they hold.
			if (big && !wide) || int64(T(n)) != n {
				return false
			}
			*get(e) = T(n)
			return true
		}}
}

var processTypes = []Type{NewProcess, TerminateProcess, FileOpen, FileDelete, FileRename, FileChmod,
	NetworkConnect, NetworkAccept, DNSRequest, ModuleLoad, PrivilegeChange, Ptrace, NetworkListen,
	NamespaceChange, Mount, Unmount, BPFLoad, MemfdCreate, Userfaultfd,
	FileLink, DirCreate, DirDelete, FileMknod, FileChown, FileTruncate, SocketCreate, FDDup, KernelLogControl}

var fileTypes = []Type{FileOpen, FileDelete, FileRename, FileChmod,
	FileLink, DirCreate, DirDelete, FileMknod, FileChown, FileTruncate}

var netTypes = []Type{NetworkConnect, NetworkAccept, DNSRequest, NetworkListen, FDDup}

// Fields is every rule path, in the order they are printed.
var Fields = []Field{
	str("routing/sensor_id", func(e *Event) *string { return &e.SensorID }),
	str("routing/hostname", func(e *Event) *string { return &e.Hostname }),
	{Path: "routing/tags", Kind: StringList,
		List:    func(e *Event) []string { return e.Tags },
		setList: func(e *Event, v []string) { e.Tags = v }},
	str("routing/event_type", func(e *Event) *string { return &e.Type }),
	num("routing/event_time", func(e *Event) *int64 { return &e.TimeNanos }),
	str("routing/event_id", func(e *Event) *string { return &e.ID }),

	num("event/PROCESS_ID", func(e *Event) *uint32 { return &e.PID }, processTypes...),
	num("event/PARENT_PROCESS_ID", func(e *Event) *uint32 { return &e.PPID }, processTypes...),
	num("event/USER_ID", func(e *Event) *uint32 { return &e.UID }, processTypes...),
	num("event/GROUP_ID", func(e *Event) *uint32 { return &e.GID }, processTypes...),
	str("event/USER", func(e *Event) *string { return &e.User }, processTypes...),
	str("event/FILE_PATH", func(e *Event) *string { return &e.FilePath }, processTypes...),
	derivedName("event/FILE_NAME", "event/FILE_PATH", func(e *Event) *string { return &e.FilePath }, processTypes...),
	str("event/COMMAND_LINE", func(e *Event) *string { return &e.CommandLine }, processTypes...),
	str("event/PARENT/FILE_PATH", func(e *Event) *string { return &e.ParentFilePath }, processTypes...),
	derivedName("event/PARENT/FILE_NAME", "event/PARENT/FILE_PATH", func(e *Event) *string { return &e.ParentFilePath }, processTypes...),
	str("event/PARENT/COMMAND_LINE", func(e *Event) *string { return &e.ParentCommandLine }, processTypes...),
	str("event/GRANDPARENT/FILE_PATH", func(e *Event) *string { return &e.GrandparentPath }, processTypes...),
	str("event/GRANDPARENT/COMMAND_LINE", func(e *Event) *string { return &e.GrandparentCmd }, processTypes...),
	num("event/EFFECTIVE_USER_ID", func(e *Event) *uint32 { return &e.EUID }, processTypes...),
	num("event/CGROUP_ID", func(e *Event) *uint64 { return &e.CgroupID }, processTypes...),
	str("event/CONTAINER_ID", func(e *Event) *string { return &e.ContainerID }, processTypes...),
	str("event/K8S/POD_UID", func(e *Event) *string { return &e.PodUID }, processTypes...),
	str("event/K8S/POD_NAME", func(e *Event) *string { return &e.PodName }, processTypes...),
	str("event/K8S/NAMESPACE", func(e *Event) *string { return &e.PodNamespace }, processTypes...),
	{Path: "event/K8S/POD_LABELS", Kind: StringList, For: processTypes,
		List:    func(e *Event) []string { return e.PodLabels },
		setList: func(e *Event, v []string) { e.PodLabels = v }},
	str("event/K8S/SERVICE_ACCOUNT", func(e *Event) *string { return &e.PodServiceAccount }, processTypes...),
	str("event/K8S/NODE_NAME", func(e *Event) *string { return &e.NodeName }, processTypes...),
	str("event/CONTAINER/NAME", func(e *Event) *string { return &e.ContainerName }, processTypes...),
	str("event/CONTAINER/IMAGE", func(e *Event) *string { return &e.ContainerImage }, processTypes...),
	{Path: "event/CONTAINER/IMAGE_REPOSITORY", Kind: String, For: processTypes, Derived: "event/CONTAINER/IMAGE",
		Str: func(e *Event) string { r, _ := SplitImage(e.ContainerImage); return r }},
	{Path: "event/CONTAINER/IMAGE_TAG", Kind: String, For: processTypes, Derived: "event/CONTAINER/IMAGE",
		Str: func(e *Event) string { _, t := SplitImage(e.ContainerImage); return t }},
	{Path: "event/ARGS", Kind: StringList, For: processTypes,
		List:    func(e *Event) []string { return e.Args },
		setList: func(e *Event, v []string) { e.Args = v }},
	str("event/CWD", func(e *Event) *string { return &e.CWD }, processTypes...),
	str("event/TTY", func(e *Event) *string { return &e.TTY }, processTypes...),
	{Path: "event/HAS_TTY", Kind: Number, For: processTypes, Derived: "event/TTY",
		Num: func(e *Event) int64 { return b2i(e.TTY != "") }},
	num("event/LOGIN_USER_ID", func(e *Event) *uint32 { return &e.LoginUID }, processTypes...),
	num("event/SESSION_ID", func(e *Event) *uint32 { return &e.SessionID }, processTypes...),
	num("event/PROCESS_START_TIME", func(e *Event) *int64 { return &e.ProcessStartTime }, processTypes...),
	{Path: "event/PROCESS_AGE", Kind: Number, For: processTypes, Derived: "event/PROCESS_START_TIME", Num: processAge},
	withNum(num("event/VPID", func(e *Event) *uint32 { return &e.VPID }, processTypes...), vpid),
	num("event/CAPABILITY_MASK", func(e *Event) *uint64 { return &e.CapEffective }, processTypes...),
	{Path: "event/CAPABILITIES", Kind: StringList, For: processTypes, Derived: "event/CAPABILITY_MASK",
		List: func(e *Event) []string { return Capabilities(e.CapEffective) }},
	num("event/EXE_UPPER_LAYER", func(e *Event) *uint32 { return &e.ExeUpperLayer }, processTypes...),
	str("event/EXE_PACKAGE", func(e *Event) *string { return &e.ExePackage }, NewProcess),
	num("event/EXE_UNPACKAGED", func(e *Event) *uint32 { return &e.ExeUnpackaged }, NewProcess),
	{Path: "event/ENVIRONMENT", Kind: StringList, For: []Type{NewProcess},
		List:    func(e *Event) []string { return e.Environment },
		setList: func(e *Event, v []string) { e.Environment = v }},

	num("event/EXIT_CODE", func(e *Event) *int32 { return &e.ExitCode }, TerminateProcess),

	str("event/TARGET/FILE_PATH", func(e *Event) *string { return &e.TargetPath }, fileTypes...),
	derivedName("event/TARGET/FILE_NAME", "event/TARGET/FILE_PATH", func(e *Event) *string { return &e.TargetPath }, fileTypes...),
	str("event/TARGET/OLD_FILE_PATH", func(e *Event) *string { return &e.OldTargetPath }, FileRename),
	str("event/FILE_FLAGS", func(e *Event) *string { return &e.FileFlags }, FileOpen),
	str("event/RAW_PATH", func(e *Event) *string { return &e.RawPath }, FileOpen),
	num("event/FILE_MODE", func(e *Event) *uint32 { return &e.FileMode }, FileChmod, DirCreate, FileMknod),

	str("event/PROTOCOL", func(e *Event) *string { return &e.Protocol }, netTypes...),
	str("event/SOURCE/IP_ADDRESS", func(e *Event) *string { return &e.SourceIP }, netTypes...),
	num("event/SOURCE/PORT", func(e *Event) *uint16 { return &e.SourcePort }, netTypes...),
	str("event/DESTINATION/IP_ADDRESS", func(e *Event) *string { return &e.DestIP }, netTypes...),
	num("event/DESTINATION/PORT", func(e *Event) *uint16 { return &e.DestPort }, netTypes...),
	num("event/ERROR_CODE", func(e *Event) *int32 { return &e.ErrorCode }, NetworkConnect, NetworkAccept, Ptrace, KernelLogControl),

	str("event/DOMAIN_NAME", func(e *Event) *string { return &e.DomainName }, DNSRequest),
	str("event/DNS_TYPE", func(e *Event) *string { return &e.DNSType }, DNSRequest),

	str("event/MODULE_NAME", func(e *Event) *string { return &e.ModuleName }, ModuleLoad),
	num("event/NEW_USER_ID", func(e *Event) *uint32 { return &e.NewUID }, PrivilegeChange),
	num("event/NEW_GROUP_ID", func(e *Event) *uint32 { return &e.NewGID }, PrivilegeChange),
	str("event/OPERATION", func(e *Event) *string { return &e.Operation }, PrivilegeChange, NamespaceChange, Mount, Unmount, FDDup, FileMknod, KernelLogControl),

	num("event/TARGET/PROCESS_ID", func(e *Event) *uint32 { return &e.TargetPID }, Ptrace, NamespaceChange),
	num("event/PTRACE_REQUEST", func(e *Event) *int64 { return &e.PtraceRequest }, Ptrace),

	str("event/SENSOR_VERSION", func(e *Event) *string { return &e.SensorVersion }, SensorHeartbeat),
	num("event/DROPS", func(e *Event) *uint64 { return &e.Drops }, SensorHeartbeat),
	num("event/UPTIME_SECONDS", func(e *Event) *uint64 { return &e.UptimeSeconds }, SensorHeartbeat),
	num("event/SPOOL_BYTES", func(e *Event) *uint64 { return &e.SpoolBytes }, SensorHeartbeat),

	num("event/STATS/INTERVAL_SECONDS", func(e *Event) *uint32 { return &e.IntervalSeconds }, HostStats),
	num("event/STATS/EXEC", func(e *Event) *uint64 { return &e.CountExec }, HostStats),
	num("event/STATS/FILE_OPEN", func(e *Event) *uint64 { return &e.CountFileOpen }, HostStats),
	num("event/STATS/FILE_CHANGE", func(e *Event) *uint64 { return &e.CountFileChange }, HostStats),
	num("event/STATS/CONNECT", func(e *Event) *uint64 { return &e.CountConnect }, HostStats),
	num("event/STATS/ACCEPT", func(e *Event) *uint64 { return &e.CountAccept }, HostStats),
	num("event/STATS/DNS", func(e *Event) *uint64 { return &e.CountDNS }, HostStats),
	num("event/STATS/MODULE_LOAD", func(e *Event) *uint64 { return &e.CountModuleLoad }, HostStats),
	num("event/STATS/PRIVILEGE_CHANGE", func(e *Event) *uint64 { return &e.CountPrivChange }, HostStats),
	num("event/STATS/DISTINCT_DEST_IPS", func(e *Event) *uint64 { return &e.DistinctDestIPs }, HostStats),
	num("event/STATS/DISTINCT_DEST_PORTS", func(e *Event) *uint64 { return &e.DistinctDestPorts }, HostStats),
	num("event/STATS/NEW_EXECUTABLES", func(e *Event) *uint64 { return &e.NewExecutables }, HostStats),
	num("event/STATS/FAILED_CONNECTS", func(e *Event) *uint64 { return &e.FailedConnects }, HostStats),
	num("event/STATS/OUTBOUND_BYTES", func(e *Event) *uint64 { return &e.OutboundBytes }, HostStats),

	str("event/PTRACE_REQUEST_NAME", func(e *Event) *string { return &e.PtraceRequestName }, Ptrace),
	num("event/BACKLOG", func(e *Event) *uint32 { return &e.Backlog }, NetworkListen),
	str("event/NAMESPACES", func(e *Event) *string { return &e.Namespaces }, NamespaceChange),
	num("event/NAMESPACE_INODE", func(e *Event) *uint64 { return &e.NamespaceInode }, NamespaceChange),
	str("event/MOUNT_PATH", func(e *Event) *string { return &e.MountPath }, Mount, Unmount),
	str("event/MOUNT_SOURCE", func(e *Event) *string { return &e.MountSource }, Mount),
	str("event/FILE_SYSTEM_TYPE", func(e *Event) *string { return &e.FSType }, Mount),
	str("event/FLAGS", func(e *Event) *string { return &e.Flags }, Mount, Unmount, MemfdCreate, Userfaultfd),
	str("event/BPF_PROGRAM_TYPE", func(e *Event) *string { return &e.BPFProgType }, BPFLoad),
	str("event/BPF_PROGRAM_NAME", func(e *Event) *string { return &e.BPFProgName }, BPFLoad),
	num("event/BPF_PROGRAM_ID", func(e *Event) *uint32 { return &e.BPFProgID }, BPFLoad),
	str("event/MEMFD_NAME", func(e *Event) *string { return &e.MemfdName }, MemfdCreate),
	num("event/UNPRIVILEGED", func(e *Event) *uint32 { return &e.Unprivileged }, Userfaultfd),
	{Path: "event/MISSING_CAPABILITIES", Kind: StringList, For: []Type{SensorHeartbeat},
		List:    func(e *Event) []string { return e.MissingCapabilities },
		setList: func(e *Event, v []string) { e.MissingCapabilities = v }},
	str("event/LINK_TARGET", func(e *Event) *string { return &e.LinkTarget }, FileLink),
	str("event/LINK_TYPE", func(e *Event) *string { return &e.LinkType }, FileLink),
	str("event/FILE_TYPE", func(e *Event) *string { return &e.FileType }, FileMknod),
	num("event/OWNER_USER_ID", func(e *Event) *int64 { return &e.OwnerUID }, FileChown),
	num("event/OWNER_GROUP_ID", func(e *Event) *int64 { return &e.OwnerGID }, FileChown),
	num("event/FILE_SIZE", func(e *Event) *uint64 { return &e.FileSize }, FileTruncate),
	str("event/SOCKET_DOMAIN", func(e *Event) *string { return &e.SocketDomain }, SocketCreate),
	str("event/SOCKET_TYPE", func(e *Event) *string { return &e.SocketType }, SocketCreate),
	num("event/SOCKET_PROTOCOL", func(e *Event) *uint32 { return &e.SocketProtocol }, SocketCreate),
	num("event/FD_NUMBER", func(e *Event) *uint32 { return &e.FDNumber }, FDDup),

	// ---- K8S_AUDIT (begin) ----
	str("event/K8S_AUDIT/VERB", func(e *Event) *string { return &e.K8sVerb }, K8sAudit),
	str("event/K8S_AUDIT/USER", func(e *Event) *string { return &e.K8sUser }, K8sAudit),
	strList("event/K8S_AUDIT/GROUPS", func(e *Event) *[]string { return &e.K8sGroups }, K8sAudit),
	str("event/K8S_AUDIT/IMPERSONATED_USER", func(e *Event) *string { return &e.K8sImpersonatedUser }, K8sAudit),
	str("event/K8S_AUDIT/STAGE", func(e *Event) *string { return &e.K8sStage }, K8sAudit),
	str("event/K8S_AUDIT/API_GROUP", func(e *Event) *string { return &e.K8sAPIGroup }, K8sAudit),
	str("event/K8S_AUDIT/RESOURCE", func(e *Event) *string { return &e.K8sResource }, K8sAudit),
	str("event/K8S_AUDIT/SUBRESOURCE", func(e *Event) *string { return &e.K8sSubresource }, K8sAudit),
	str("event/K8S_AUDIT/NAMESPACE", func(e *Event) *string { return &e.K8sNamespace }, K8sAudit),
	str("event/K8S_AUDIT/NAME", func(e *Event) *string { return &e.K8sName }, K8sAudit),
	str("event/K8S_AUDIT/REQUEST_URI", func(e *Event) *string { return &e.K8sRequestURI }, K8sAudit),
	strList("event/K8S_AUDIT/SOURCE_IPS", func(e *Event) *[]string { return &e.K8sSourceIPs }, K8sAudit),
	str("event/K8S_AUDIT/USER_AGENT", func(e *Event) *string { return &e.K8sUserAgent }, K8sAudit),
	num("event/K8S_AUDIT/RESPONSE_CODE", func(e *Event) *int32 { return &e.K8sResponseCode }, K8sAudit),
	str("event/K8S_AUDIT/DECISION", func(e *Event) *string { return &e.K8sDecision }, K8sAudit),
	str("event/K8S_AUDIT/REASON", func(e *Event) *string { return &e.K8sReason }, K8sAudit),
	num("event/K8S_AUDIT/PRIVILEGED", func(e *Event) *uint32 { return &e.K8sPrivileged }, K8sAudit),
	strList("event/K8S_AUDIT/HOST_PATHS", func(e *Event) *[]string { return &e.K8sHostPaths }, K8sAudit),
	num("event/K8S_AUDIT/HOST_NETWORK", func(e *Event) *uint32 { return &e.K8sHostNetwork }, K8sAudit),
	num("event/K8S_AUDIT/HOST_PID", func(e *Event) *uint32 { return &e.K8sHostPID }, K8sAudit),
	num("event/K8S_AUDIT/HOST_IPC", func(e *Event) *uint32 { return &e.K8sHostIPC }, K8sAudit),
	strList("event/K8S_AUDIT/CAPABILITIES", func(e *Event) *[]string { return &e.K8sCapabilities }, K8sAudit),
	strList("event/K8S_AUDIT/IMAGES", func(e *Event) *[]string { return &e.K8sImages }, K8sAudit),
	{Path: "event/K8S_AUDIT/IMAGE_REPOSITORIES", Kind: StringList, For: []Type{K8sAudit}, Derived: "event/K8S_AUDIT/IMAGES",
		List: func(e *Event) []string { return ImageRepositories(e.K8sImages) }},
	str("event/K8S_AUDIT/SERVICE_TYPE", func(e *Event) *string { return &e.K8sServiceType }, K8sAudit),
	strList("event/K8S_AUDIT/RULE_VERBS", func(e *Event) *[]string { return &e.K8sRuleVerbs }, K8sAudit),
	strList("event/K8S_AUDIT/RULE_RESOURCES", func(e *Event) *[]string { return &e.K8sRuleResources }, K8sAudit),
	str("event/K8S_AUDIT/ROLE_REF", func(e *Event) *string { return &e.K8sRoleRef }, K8sAudit),
	strList("event/K8S_AUDIT/SUBJECTS", func(e *Event) *[]string { return &e.K8sSubjects }, K8sAudit),
	// ---- K8S_AUDIT (end) ----
}

func strList(path string, get func(*Event) *[]string, forTypes ...Type) Field {
	return Field{Path: path, Kind: StringList, For: forTypes,
		List:    func(e *Event) []string { return *get(e) },
		setList: func(e *Event, v []string) { *get(e) = v }}
}

// ImageRepositories returns the repositories of container images: each image
// without its tag or digest (docker.io/calico/node:v3.27 → docker.io/calico/node),
// as Falco's ka.req.pod.containers.image.repository reads them.
func ImageRepositories(images []string) []string {
	if len(images) == 0 {
		return nil
	}
	out := make([]string, len(images))
	for i, im := range images {
		if at := strings.IndexByte(im, '@'); at >= 0 {
			im = im[:at]
		}
		// A tag follows the last ':' after the last '/' (a registry may have a port).
		if c := strings.LastIndexByte(im, ':'); c > strings.LastIndexByte(im, '/') {
			im = im[:c]
		}
		out[i] = im
	}
	return out
}

var byPath = func() map[string]*Field {
	m := make(map[string]*Field, len(Fields))
	for i := range Fields {
		m[Fields[i].Path] = &Fields[i]
	}
	return m
}()

// processAge is how long the process had run when the event happened, in
// nanoseconds: the event's time less the process's start time. A process whose
// start is not known (one that started before the sensor) reads as old as the
// event's time since the epoch; a start after the event (clocks apart) as 0.
func processAge(e *Event) int64 {
	if e.TimeNanos < e.ProcessStartTime {
		return 0
	}
	return e.TimeNanos - e.ProcessStartTime
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// withNum replaces the accessor of a number field, keeping its setter.
func withNum(f Field, get func(*Event) int64) Field {
	f.Num = get
	return f
}

// Lookup returns the field for a rule path (one of Fields or of DynamicPaths), or
// an error naming the path and the nearest known one (see Nearest), or listing the
// known ones when none is near.
func Lookup(path string) (*Field, error) {
	if f, ok := byPath[path]; ok {
		return f, nil
	}
	if f, err := dynamicField(path); f != nil || err != nil {
		return f, err
	}
	if near, ok := Nearest(path); ok {
		return nil, fmt.Errorf("unknown path %q: did you mean %s?", path, near)
	}
	known := make([]string, 0, len(Fields)+len(DynamicPaths))
	for _, f := range Fields {
		known = append(known, f.Path)
	}
	known = append(known, DynamicPaths...)
	sort.Strings(known)
	return nil, fmt.Errorf("unknown path %q (known paths: %s)", path, strings.Join(known, ", "))
}

// Tree returns the event in rule-path shape: {"routing": {...}, "event": {...}} with
// path segments as nested objects (event/PARENT/FILE_PATH → "event":{"PARENT":{"FILE_PATH":…}}).
// Fields that do not apply to the event's type are left out when they hold their zero
// value.
func (e *Event) Tree() map[string]any {
	root := map[string]any{}
	for i := range Fields {
		f := &Fields[i]
		if f.Derived != "" {
			continue
		}
		var v any
		zero := false
		switch f.Kind {
		case String:
			s := f.Str(e)
			v, zero = s, s == ""
		case Number:
			n := f.Num(e)
			v, zero = n, n == 0
		case StringList:
			l := f.List(e)
			if l == nil {
				l = []string{}
			}
			v, zero = l, len(l) == 0
		}
		if zero && !f.AppliesTo(e.Type) {
			continue
		}
		parts := strings.Split(f.Path, "/")
		node := root
		for _, p := range parts[:len(parts)-1] {
			child, ok := node[p].(map[string]any)
			if !ok {
				child = map[string]any{}
				node[p] = child
			}
			node = child
		}
		node[parts[len(parts)-1]] = v
	}
	if ev, ok := root["event"].(map[string]any); ok && (len(e.AncestorPIDs)+len(e.AncestorPaths)+
		len(e.AncestorCommandLines)+len(e.AncestorUsers) > 0 || slices.Contains(processTypes, e.Type)) {
		ev["ANCESTORS"] = ancestorsTree(e)
	}
	return root
}

// FromTree builds an Event from its rule-path shape, the inverse of Tree. Numbers may
// be given as any integer type or float64 with an integral value (as JSON and YAML
// decoders produce). Unknown keys, wrong value types and numbers out of their
// field's range (a port above 65535, a process id above 4294967295) are errors
// naming the path. A 64-bit unsigned field takes 0..math.MaxUint64 and, as the
// inverse of Tree, the negative int64 that Field.Num reads for values above
// math.MaxInt64.
func FromTree(tree map[string]any) (Event, error) {
	var e Event
	err := walkTree("", tree, &e)
	return e, err
}

func walkTree(prefix string, node map[string]any, e *Event) error {
	keys := make([]string, 0, len(node))
	for k := range node {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		path := k
		if prefix != "" {
			path = prefix + "/" + k
		}
		v := node[k]
		if path == "event/ANCESTORS" {
			if err := setAncestorsTree(e, v); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			continue
		}
		if sub, ok := v.(map[string]any); ok {
			if err := walkTree(path, sub, e); err != nil {
				return err
			}
			continue
		}
		f, ok := byPath[path]
		if !ok {
			_, err := Lookup(path)
			return err
		}
		if f.Derived != "" {
			return fmt.Errorf("%s is derived from %s: set that instead", path, f.Derived)
		}
		if err := f.set(e, v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

func (f *Field) set(e *Event, v any) error {
	switch f.Kind {
	case String:
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %T", v)
		}
		f.setStr(e, s)
	case Number:
		n, big, err := toInt(v)
		if err != nil {
			return err
		}
		if !f.setNum(e, n, big) {
			return fmt.Errorf("%v out of range", v)
		}
	case StringList:
		items, ok := v.([]any)
		if !ok {
			if ss, ok := v.([]string); ok {
				f.setList(e, ss)
				return nil
			}
			return fmt.Errorf("want a list of strings, got %T", v)
		}
		out := make([]string, 0, len(items))
		for i, it := range items {
			s, ok := it.(string)
			if !ok {
				return fmt.Errorf("item %d: want a string, got %T", i, it)
			}
			out = append(out, s)
		}
		f.setList(e, out)
	}
	return nil
}

// toInt reads an integer in math.MinInt64..math.MaxUint64: n, or, when big, a
// value above math.MaxInt64 whose two's complement image is n.
func toInt(v any) (n int64, big bool, err error) {
	switch x := v.(type) {
	case int:
		return int64(x), false, nil
	case int64:
		return x, false, nil
	case uint64:
		return int64(x), x > math.MaxInt64, nil
	case uint32:
		return int64(x), false, nil
	case int32:
		return int64(x), false, nil
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		if err == nil {
			return i, false, nil
		}
		if u, uerr := strconv.ParseUint(string(x), 10, 64); uerr == nil {
			return int64(u), true, nil
		}
		if errors.Is(err, strconv.ErrRange) {
			return 0, false, fmt.Errorf("%v out of range", x)
		}
		return 0, false, fmt.Errorf("want an integer, got %v", x)
	case float64:
		switch {
		case x != math.Trunc(x):
			return 0, false, fmt.Errorf("want an integer, got %v", x)
		case x >= -(1<<63) && x < 1<<63:
			return int64(x), false, nil
		case x >= 0 && x < 1<<64:
			return int64(uint64(x)), true, nil
		}
		return 0, false, fmt.Errorf("%v out of range", x)
	}
	return 0, false, fmt.Errorf("want a number, got %T", v)
}
