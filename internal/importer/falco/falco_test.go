package falco

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

func exec(path, cmdline string) event.Event {
	return event.Event{Type: event.NewProcess, FilePath: path, CommandLine: cmdline, User: "alice",
		ParentFilePath: "/usr/bin/bash", ParentCommandLine: "bash", PID: 100, PPID: 1}
}

func open(proc, target, flags string) event.Event {
	return event.Event{Type: event.FileOpen, FilePath: proc, TargetPath: target, FileFlags: flags, User: "alice"}
}

func connect(proc, ip string, port uint16, errno int32) event.Event {
	return event.Event{Type: event.NetworkConnect, FilePath: proc, DestIP: ip, DestPort: port, ErrorCode: errno,
		SourceIP: "10.1.1.1", SourcePort: 40000}
}

// ruleFile wraps a condition into a Falco rules file with a list.
func ruleFile(cond string) []byte {
	return []byte(`
- list: shells
  items: [bash, sh, zsh]
- rule: Test Rule
  desc: a test
  condition: ` + cond + `
  output: "proc=%proc.name cmd=%proc.cmdline file=%fd.name"
  priority: WARNING
  tags: [host, mitre_execution, T1059]
`)
}

func convertOne(t *testing.T, data []byte) []importer.Rule {
	t.Helper()
	rules, skipped, err := Convert("test.yaml", data)
	if err != nil {
		t.Fatalf("Convert: %v", err)
	}
	if len(skipped) > 0 {
		t.Fatalf("skipped: %v", skipped)
	}
	return rules
}

func names(rs []importer.Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name)
	}
	return out
}

func TestReport(t *testing.T) {
	rs := convertOne(t, ruleFile("spawned_process and proc.name = nc"))
	y := string(rs[0].YAML)
	for _, want := range []string{
		"name: test_rule",
		"severity: medium",
		"category: execution",
		"description: a test",
		"output: proc=%proc.name cmd=%proc.cmdline file=%fd.name",
		`output_template: proc={{ path "event/FILE_NAME" }} cmd={{ path "event/COMMAND_LINE" }} file=<NA>`,
		"mitre: [T1059]",
		"tags: [host, mitre_execution, T1059]",
		"source_rule: Test Rule",
		"# Imported from Falco rule \"Test Rule\" (test.yaml:4).",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("report lacks %q:\n%s", want, y)
		}
	}
	r := compile(t, rs)[0]
	if rep := r.Report(); rep == nil || rep.Severity() != "medium" || rep.Metadata["mitre"] != "T1059" {
		t.Errorf("engine reads the report as %+v", rep)
	}
	stable := strings.Replace(string(ruleFile("spawned_process")), "tags: [host,", "tags: [maturity_stable, host,", 1)
	if y := string(convertOne(t, []byte(stable))[0].YAML); !strings.Contains(y, "maturity: stable") {
		t.Errorf("a stable rule's maturity is not kept:\n%s", y)
	}
}

func TestPriorities(t *testing.T) {
	for prio, sev := range map[string]string{"EMERGENCY": "critical", "Alert": "critical", "CRITICAL": "critical",
		"ERROR": "high", "WARNING": "medium", "NOTICE": "low", "INFO": "info", "INFORMATIONAL": "info", "DEBUG": "info"} {
		data := strings.Replace(string(ruleFile("spawned_process")), "priority: WARNING", "priority: "+prio, 1)
		rs := convertOne(t, []byte(data))
		if !strings.Contains(string(rs[0].YAML), "severity: "+sev) {
			t.Errorf("priority %s: want severity %s:\n%s", prio, sev, rs[0].YAML)
		}
	}
}

func TestSeed(t *testing.T) {
	data, err := os.ReadFile("testdata/user_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if importer.Sniff(data) != importer.Falco {
		t.Fatalf("seed sniffed as %v", importer.Sniff(data))
	}
	rs := convertOne(t, data)
	if got := strings.Join(names(rs), ","); got != "unexpected_network_connection,sensitive_file_access" {
		t.Fatalf("rules %s", got)
	}
	compiled := compile(t, rs)
	eng, err := engine.New(compiled)
	if err != nil {
		t.Fatal(err)
	}
	fired := func(e event.Event) []string {
		var out []string
		for _, r := range eng.Eval(&e, nil) {
			out = append(out, r.Name)
		}
		return out
	}
	tests := []struct {
		name string
		ev   event.Event
		want string
	}{
		{"unknown process connects out", connect("/tmp/implant", "203.0.113.7", 443, 0), "unexpected_network_connection"},
		{"non-blocking connect in progress", connect("/usr/bin/python3", "203.0.113.7", 4444, 115), "unexpected_network_connection"},
		{"IPv6 destination", connect("/tmp/implant", "2001:db8::1", 443, 0), "unexpected_network_connection"},
		{"allowed process", connect("/usr/bin/curl", "203.0.113.7", 443, 0), ""},
		{"allowed process apt-get", connect("/usr/bin/apt-get", "203.0.113.7", 80, 0), ""},
		{"allowed destination", connect("/tmp/implant", "169.254.169.254", 80, 0), ""},
		{"loopback", connect("/tmp/implant", "127.0.0.1", 8080, 0), ""},
		{"IPv6 loopback", connect("/tmp/implant", "::1", 8080, 0), ""},
		{"failed connect", connect("/tmp/implant", "203.0.113.7", 443, 111), ""},
		{"accept is not outbound", event.Event{Type: event.NetworkAccept, FilePath: "/tmp/implant", DestIP: "203.0.113.7"}, ""},
		{"shadow read by cat", open("/usr/bin/cat", "/etc/shadow", "read"), "sensitive_file_access"},
		{"passwd read and written by python", open("/usr/bin/python3", "/etc/passwd", "read,write"), "sensitive_file_access"},
		{"shadow read by sshd", open("/usr/sbin/sshd", "/etc/shadow", "read"), ""},
		{"shadow read by sudo", open("/usr/bin/sudo", "/etc/shadow", "read"), ""},
		{"shadow written only", open("/usr/bin/cat", "/etc/shadow", "write"), ""},
		{"other file", open("/usr/bin/cat", "/etc/hosts", "read"), ""},
		{"process start", exec("/usr/bin/cat", "cat /etc/shadow"), ""},
	}
	for _, tc := range tests {
		got := strings.Join(fired(tc.ev), ",")
		if got != tc.want {
			t.Errorf("%s: fired %q, want %q", tc.name, got, tc.want)
		}
	}
	rep := compiled[1].Report()
	if rep.Severity() != "critical" || !strings.Contains(rep.Metadata["output"], "Sensitive file accessed") {
		t.Errorf("report %+v", rep)
	}
}

func TestRecursiveMacro(t *testing.T) {
	data := []byte(`
- macro: a
  condition: spawned_process and b
- macro: b
  condition: a
- rule: R
  desc: d
  condition: a
  output: o
  priority: ERROR
`)
	_, skipped, _ := Convert("x.yaml", data)
	if len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "refers to itself") {
		t.Errorf("want a recursion error, got %v", skipped)
	}
}

func TestExponentialMacros(t *testing.T) {
	data := "- macro: m0\n  condition: spawned_process\n"
	for i := 1; i <= 40; i++ {
		data += "- macro: m" + itoa(i) + "\n  condition: (m" + itoa(i-1) + " and m" + itoa(i-1) + ")\n"
	}
	data += "- rule: R\n  desc: d\n  condition: m40\n  output: o\n  priority: INFO\n"
	_, skipped, err := Convert("x.yaml", []byte(data))
	if err != nil || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, "expands to more than") {
		t.Errorf("want a size error, got %v %v", err, skipped)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestFileErrors(t *testing.T) {
	for data, want := range map[string]string{
		"":                         "f.yaml: file is empty",
		"rule: x":                  "f.yaml:1: a Falco rules file is a list",
		"- foo: bar":               "f.yaml:1: unknown item",
		"- list: l\n  items: 3":    "f.yaml:2: list l: items: want a list of values",
		"- list: l":                "f.yaml:1: list l: no items:",
		"- [a]":                    "f.yaml:1: want a rule, macro or list item",
		"- macro: m":               "f.yaml:1: macro m: want a condition:",
		"- rule: x\n  override: 3": "f.yaml:2: rule x: override: want a mapping of keys to append or replace",
		"- required_plugin_versions:\n    - name: x": "f.yaml:2: required_plugin_versions: every plugin needs a name and a version",
		"- required_engine_version: [1]":             "f.yaml:1: required_engine_version: want a version",
		"- rule: [x]":                                "f.yaml:1: rule: want a name",
		"a: [":                                       "f.yaml: invalid YAML",
	} {
		_, _, err := Convert("f.yaml", []byte(data))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", data, err, want)
		}
	}
}

// TestConvertSplits checks the one-file entry point: converted rules, and the
// rules it does not write with the reason, disabled ones marked as left out on
// purpose.
func TestConvertSplits(t *testing.T) {
	data := append(ruleFile("spawned_process and proc.name = nc"), []byte(`
- rule: Off
  desc: d
  condition: spawned_process
  output: o
  priority: INFO
  enabled: false
- rule: Broken
  desc: d
  condition: spawned_process and proc.sname = x
  output: o
  priority: INFO
`)...)
	rules, skipped, err := Convert("x.yaml", data)
	if err != nil || len(rules) != 1 || rules[0].Name != "test_rule" || len(skipped) != 2 {
		t.Fatalf("Convert: %v %v %v", names(rules), skipped, err)
	}
	if !skipped[0].Ignored || !strings.Contains(skipped[0].Reason, `x.yaml:11: rule "Off": disabled (enabled: false)`) {
		t.Errorf("disabled: %+v", skipped[0])
	}
	if skipped[1].Ignored || !strings.Contains(skipped[1].Reason, `x.yaml:17: rule "Broken": field proc.sname`) {
		t.Errorf("broken: %+v", skipped[1])
	}
}

func TestOutputTemplate(t *testing.T) {
	for _, tc := range []struct {
		in    string
		types []event.Type
		want  string
	}{
		{"x %proc.name y", []event.Type{event.NewProcess}, `x {{ path "event/FILE_NAME" }} y`},
		{"%fd.sip:%fd.sport", []event.Type{event.NetworkConnect}, `{{ path "event/DESTINATION/IP_ADDRESS" }}:{{ path "event/DESTINATION/PORT" }}`},
		{"%fd.lport %fd.rport", []event.Type{event.NetworkAccept}, `{{ path "event/DESTINATION/PORT" }} {{ path "event/SOURCE/PORT" }}`},
		{"%fd.name", []event.Type{event.NetworkConnect}, `{{ path "event/SOURCE/IP_ADDRESS" }}:{{ path "event/SOURCE/PORT" }}->{{ path "event/DESTINATION/IP_ADDRESS" }}:{{ path "event/DESTINATION/PORT" }}`},
		{"file=%fd.name", []event.Type{event.NewProcess}, "file=<NA>"},
		{"file=%fd.name", []event.Type{event.FileOpen, event.FileRename}, `file={{ path "event/TARGET/FILE_PATH" }}`},
		{"%evt.time %container.name %user", []event.Type{event.NewProcess}, `{{ path "routing/event_time" }} {{ path "event/CONTAINER/NAME" }} <NA>`},
		{"%k8s.ns.name/%k8s.pod.name %container.image.repository", []event.Type{event.FileOpen}, `{{ path "event/K8S/NAMESPACE" }}/{{ path "event/K8S/POD_NAME" }} {{ path "event/CONTAINER/IMAGE_REPOSITORY" }}`},
		{"(user=%user.name) g=%proc.aname[2] p=%proc.aname[0]", []event.Type{event.FileOpen}, `(user={{ path "event/USER" }}) g={{ path "event/ANCESTORS/1/FILE_NAME" }} p={{ path "event/FILE_NAME" }}`},
		{"target=%evt.arg.target", []event.Type{event.FileLink}, `target={{ path "event/LINK_TARGET" }}`},
		{"100% {{ x }}", []event.Type{event.NewProcess}, `100% {{"{{"}} x }}`},
	} {
		if got := OutputTemplate(tc.in, tc.types); got != tc.want {
			t.Errorf("OutputTemplate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
