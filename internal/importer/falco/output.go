package falco

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

var outputField = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_.]*(\[[^\]]*\])?)`)

// OutputTemplate rewrites a Falco output's %field references for Vigil events of
// the given types into a Go template that the detection renders: each becomes
// {{ path "event/…" }}, the value of that rule path on the event (see
// internal/detect). A field Vigil events of those types do not carry shows <NA>,
// as Falco shows a field it cannot read.
func OutputTemplate(output string, types []event.Type) string {
	var b strings.Builder
	last := 0
	for _, m := range outputField.FindAllStringSubmatchIndex(output, -1) {
		b.WriteString(escapeTemplate(output[last:m[0]]))
		field := output[m[2]:m[3]]
		b.WriteString(outputValue(field, types))
		last = m[1]
	}
	b.WriteString(escapeTemplate(output[last:]))
	return b.String()
}

// escapeTemplate keeps text that looks like a template action as text.
func escapeTemplate(s string) string {
	return strings.ReplaceAll(s, "{{", `{{"{{"}}`)
}

func outputValue(field string, types []event.Type) string {
	if field == "fd.name" && len(types) > 0 && allSockets(types) {
		return pathRef("event/SOURCE/IP_ADDRESS") + ":" + pathRef("event/SOURCE/PORT") + "->" +
			pathRef("event/DESTINATION/IP_ADDRESS") + ":" + pathRef("event/DESTINATION/PORT")
	}
	p := ""
	for i, t := range types {
		q := outputPath(field, t)
		if q == "" || (i > 0 && q != p) {
			return "<NA>"
		}
		if !strings.HasPrefix(q, "routing/") {
			if _, ok := fieldOf(q, t); !ok {
				return "<NA>"
			}
		}
		p = q
	}
	if p == "" {
		return "<NA>"
	}
	return pathRef(p)
}

func pathRef(p string) string { return fmt.Sprintf("{{ path %q }}", p) }

func allSockets(types []event.Type) bool {
	for _, t := range types {
		if fdKind(t) != fdSocket || t == fdDup {
			return false
		}
	}
	return true
}

// outputFields are the fields an output shows through one path on every event.
var outputFields = map[string]string{
	"proc.name": "event/FILE_NAME", "proc.pname": "event/PARENT/FILE_NAME",
	"proc.exepath": "event/FILE_PATH", "proc.pexepath": "event/PARENT/FILE_PATH",
	"proc.exe": "event/ARGS/0", "proc.pexe": "event/PARENT/FILE_PATH",
	"proc.cmdline": "event/COMMAND_LINE", "proc.pcmdline": "event/PARENT/COMMAND_LINE",
	"proc.args": "event/COMMAND_LINE", "proc.cwd": "event/CWD", "proc.tty": "event/TTY",
	"proc.pid": "event/PROCESS_ID", "proc.ppid": "event/PARENT_PROCESS_ID", "proc.vpid": "event/VPID",
	"proc.duration": "event/PROCESS_AGE", "proc.env": "event/ENVIRONMENT",
	"proc.is_exe_upper_layer": "event/EXE_UPPER_LAYER",
	"user.name":               "event/USER", "user.uid": "event/USER_ID", "user.loginuid": "event/LOGIN_USER_ID",
	"group.gid":            "event/GROUP_ID",
	"thread.cap_effective": "event/CAPABILITIES", "thread.cap_permitted": "event/CAPABILITIES",
	"container.id": "event/CONTAINER_ID", "container.name": "event/CONTAINER/NAME",
	"container.image": "event/CONTAINER/IMAGE", "container.image.repository": "event/CONTAINER/IMAGE_REPOSITORY",
	"container.image.tag": "event/CONTAINER/IMAGE_TAG", "k8s.ns.name": "event/K8S/NAMESPACE",
	"k8s.pod.name": "event/K8S/POD_NAME", "k8s.pod.uid": "event/K8S/POD_UID", "k8s.pod.id": "event/K8S/POD_UID",
	"evt.type": "routing/event_type", "evt.time": "routing/event_time", "evt.rawtime": "routing/event_time",
	"evt.hostname": "routing/hostname",
	"fd.l4proto":   "event/PROTOCOL",
}

// outputPath is the rule path that shows field on events of type t, or "".
func outputPath(field string, t event.Type) string {
	if p, ok := outputFields[field]; ok {
		return p
	}
	base, arg, indexedField := strings.Cut(strings.TrimSuffix(field, "]"), "[")
	if indexedField {
		anc := map[string]string{"proc.aname": "FILE_NAME", "proc.aexepath": "FILE_PATH", "proc.aexe": "FILE_PATH",
			"proc.acmdline": "COMMAND_LINE", "proc.apid": "PROCESS_ID"}
		if f, ok := anc[base]; ok {
			var n int
			if _, err := fmt.Sscanf(arg, "%d", &n); err != nil || n < 0 || n > event.MaxPosition || fmt.Sprint(n) != arg {
				return ""
			}
			if n == 0 {
				return outputPath(map[string]string{"FILE_NAME": "proc.name", "FILE_PATH": "proc.exepath",
					"COMMAND_LINE": "proc.cmdline", "PROCESS_ID": "proc.pid"}[f], t)
			}
			return fmt.Sprintf("event/ANCESTORS/%d/%s", n-1, f)
		}
		if base == "proc.env" && arg != "" && !strings.ContainsAny(arg, "=/") {
			return "event/ENV/" + arg
		}
		return ""
	}
	switch field {
	case "fd.name", "fs.path.name", "fs.path.target":
		if fdKind(t) == fdFile {
			return "event/TARGET/FILE_PATH"
		}
	case "fd.filename":
		if fdKind(t) == fdFile {
			return "event/TARGET/FILE_NAME"
		}
	case "fd.nameraw":
		if t == event.FileOpen {
			return "event/RAW_PATH"
		}
	}
	if rest, ok := strings.CutPrefix(field, "fd."); ok && fdKind(t) == fdSocket && len(rest) >= 3 {
		for _, suffix := range []struct{ name, path string }{{"ip", "/IP_ADDRESS"}, {"port", "/PORT"}} {
			if end, ok := strings.CutSuffix(rest, suffix.name); ok && len(end) == 1 {
				if side := socketSide(end, t); side != "" {
					return "event/" + side + suffix.path
				}
			}
		}
	}
	if arg, ok := strings.CutPrefix(field, "evt.arg."); ok {
		return argOutputPath(arg, t)
	}
	return ""
}

// argOutputPath is the rule path that shows a syscall argument on events of type t.
func argOutputPath(arg string, t event.Type) string {
	switch arg {
	case "path", "name", "filename", "pathname", "newpath", "linkpath":
		switch {
		case t == event.NewProcess && arg == "filename":
			return "event/FILE_PATH"
		case t == event.Mount || t == event.Unmount:
			return "event/MOUNT_PATH"
		case t == event.MemfdCreate && arg == "name":
			return "event/MEMFD_NAME"
		case fdKind(t) == fdFile:
			return "event/TARGET/FILE_PATH"
		}
	case "oldpath", "target":
		switch t {
		case event.FileRename:
			return "event/TARGET/OLD_FILE_PATH"
		case event.FileLink:
			return "event/LINK_TARGET"
		}
	case "flags":
		if t == event.FileOpen {
			return "event/FILE_FLAGS"
		}
		return "event/FLAGS"
	case "mode":
		return "event/FILE_MODE"
	case "request":
		return "event/PTRACE_REQUEST_NAME"
	case "uid":
		if t == event.FileChown {
			return "event/OWNER_USER_ID"
		}
		return "event/NEW_USER_ID"
	case "domain":
		return pathSocketDomain
	case "type":
		if t == event.Mount {
			return "event/FILE_SYSTEM_TYPE"
		}
		return pathSocketType
	}
	return ""
}
