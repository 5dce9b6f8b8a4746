package sigma

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"go.yaml.in/yaml/v3"
)

// The categories process_creation, file_event and network_connection are
// Sysmon for Linux's events 1, 11 and 3; their fields are Sysmon's.

// category is a Sigma log source category Vigil has events for.
type category struct {
	types  []string
	fields map[string]target
	// base is what every event of the category satisfies (file_event: the open
	// created or truncated the file).
	base func(t string) *importer.Node
	// initiated says the category has Sysmon's Initiated flag.
	initiated bool
}

var processFields = map[string]target{
	"Image":             pathTarget{"event/FILE_PATH"},
	"CommandLine":       pathTarget{"event/COMMAND_LINE"},
	"CurrentDirectory":  pathTarget{"event/CWD"},
	"ParentImage":       pathTarget{"event/PARENT/FILE_PATH"},
	"ParentCommandLine": pathTarget{"event/PARENT/COMMAND_LINE"},
	"User":              pathTarget{"event/USER"},
	"ParentUser":        pathTarget{"event/ANCESTORS/0/USER"},
	"ProcessId":         pathTarget{"event/PROCESS_ID"},
	"ParentProcessId":   pathTarget{"event/PARENT_PROCESS_ID"},
	"LogonId":           logonID{},
	"TerminalSessionId": idTarget{num: "event/SESSION_ID"},
}

var categories = map[string]category{
	"process_creation": {types: []string{event.NewProcess}, fields: processFields},
	"file_event": {types: []string{event.FileOpen},
		fields: map[string]target{
			"Image":          pathTarget{"event/FILE_PATH"},
			"User":           pathTarget{"event/USER"},
			"ProcessId":      pathTarget{"event/PROCESS_ID"},
			"TargetFilename": pathTarget{"event/TARGET/FILE_PATH"},
		},
		base: func(string) *importer.Node {
			return &importer.Node{Op: importer.OpMatches, Path: "event/FILE_FLAGS", Re: `(^|,)(create|truncate)(,|$)`}
		}},
	"network_connection": {types: []string{event.NetworkConnect, event.NetworkAccept}, initiated: true,
		fields: map[string]target{
			"Image":           pathTarget{"event/FILE_PATH"},
			"User":            pathTarget{"event/USER"},
			"ProcessId":       pathTarget{"event/PROCESS_ID"},
			"DestinationIp":   pathTarget{"event/DESTINATION/IP_ADDRESS"},
			"DestinationPort": pathTarget{"event/DESTINATION/PORT"},
			"SourceIp":        pathTarget{"event/SOURCE/IP_ADDRESS"},
			"SourcePort":      pathTarget{"event/SOURCE/PORT"},
			"Protocol":        pathTarget{"event/PROTOCOL"},
		}},
}

// unsupportedFields explain why a known Sysmon field has no Vigil equivalent.
var unsupportedFields = map[string]string{
	"DestinationHostname": "Vigil's connection events carry the address only: the sensor keeps no DNS answers " +
		"to name it by (DNS_REQUEST events have the name asked, event/DOMAIN_NAME, not the address it resolved to)",
	"SourceHostname":    "Vigil's connection events carry the address only: the sensor keeps no DNS answers to name it by",
	"OriginalFileName":  "Linux executables have no original file name",
	"Description":       "Linux executables carry no version resource",
	"Product":           "Linux executables carry no version resource",
	"Company":           "Linux executables carry no version resource",
	"FileVersion":       "Linux executables carry no version resource",
	"Hashes":            "Vigil's process events carry no hashes",
	"IntegrityLevel":    "Linux processes have no integrity level",
	"LogonGuid":         "Vigil's process events carry no logon GUID",
	"ProcessGuid":       "Vigil identifies processes by sensor and pid, not by GUID",
	"ParentProcessGuid": "Vigil identifies processes by sensor and pid, not by GUID",
}

// categoryContexts are the contexts of a Sysmon category: one per event type.
func categoryContexts(name string, cat category) []*context {
	var out []*context
	for _, t := range cat.types {
		ctx := &context{event: t, keyword: refusedTarget{refuse("keyword (full-text) searches are not supported: name the field")}}
		if cat.base != nil {
			ctx.base = cat.base(t)
		}
		ctx.field = func(f string) target {
			if f == "Initiated" && cat.initiated {
				// Sysmon's direction flag: true for connections the process opened.
				return enumTarget{choices: []choice{
					{"true", constant(t == event.NetworkConnect)},
					{"false", constant(t == event.NetworkAccept)},
				}}
			}
			if tg, ok := cat.fields[f]; ok {
				return tg
			}
			if why, ok := unsupportedFields[f]; ok {
				return refusedTarget{refuse("field %s is not supported: %s", f, why)}
			}
			known := make([]string, 0, len(cat.fields)+1)
			for k := range cat.fields {
				known = append(known, k)
			}
			if cat.initiated {
				known = append(known, "Initiated")
			}
			sort.Strings(known)
			return refusedTarget{refuse("field %s is not supported in %s rules (supported: %s)", f, name, strings.Join(known, ", "))}
		}
		out = append(out, ctx)
	}
	return out
}

func constant(b bool) *importer.Node {
	if b {
		return importer.True()
	}
	return importer.False()
}

// logonID is Sysmon for Linux's LogonId: the process's uid in the low 32 bits and
// the index of its controlling terminal in the high 32 (0 without one). Vigil has
// the uid and the terminal's name, whose number is the index (pts/3: 3).
type logonID struct{}

func (logonID) exists() (*importer.Node, error) { return importer.True(), nil }

func (logonID) value(m mods, v *yaml.Node) (*importer.Node, error) {
	if err := exactValue(m, v.Value); err != nil {
		return nil, err
	}
	n, err := strconv.ParseUint(v.Value, 0, 64)
	if err != nil {
		return nil, fmt.Errorf("%q is not a number", v.Value)
	}
	uid := importer.Leaf(importer.OpIs, "event/USER_ID", int64(n&0xffffffff))
	index := n >> 32
	tty := &importer.Node{Op: importer.OpMatches, Path: "event/TTY", Re: fmt.Sprintf(`(^|[^0-9])%d$`, index)}
	if index == 0 {
		return importer.And(uid, importer.Or(importer.Negate(importer.Leaf(importer.OpExists, "event/TTY", nil)), tty)), nil
	}
	return importer.And(uid, tty), nil
}
