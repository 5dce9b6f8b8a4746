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

func with(e event.Event, f func(*event.Event)) event.Event {
	f(&e)
	return e
}

// ruleFile wraps a condition into a Falco rules file with a few lists and macros.
func ruleFile(cond string) []byte {
	return []byte(`
- list: shells
  items: [bash, sh, zsh]
- list: more_shells
  items: [shells, fish]
- list: secrets
  items: ["/etc/shadow", '"/etc/gshadow"']
- macro: shell_procs
  condition: proc.name in (shells)
- macro: shell_spawned
  condition: spawned_process and shell_procs
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

func compile(t *testing.T, rs []importer.Rule) []*engine.Rule {
	t.Helper()
	var out []*engine.Rule
	for _, r := range rs {
		er, err := engine.Parse(r.FileName(), r.YAML)
		if err != nil {
			t.Fatalf("engine.Parse refused the converted rule: %v\n%s", err, r.YAML)
		}
		out = append(out, er)
	}
	return out
}

func matches(rs []*engine.Rule, e *event.Event) bool {
	for _, r := range rs {
		if r.Matches(e) {
			return true
		}
	}
	return false
}

func TestConstructs(t *testing.T) {
	tests := []struct {
		name    string
		cond    string
		events  []string // event types of the converted rules, in order
		yaml    []string // fragments the YAML must contain
		match   []event.Event
		nomatch []event.Event
	}{
		{name: "equals", cond: "spawned_process and proc.name = nc",
			events: []string{"NEW_PROCESS"}, yaml: []string{"op: is", "path: event/FILE_NAME", "value: nc"},
			match: []event.Event{exec("/usr/bin/nc", "nc -l")}, nomatch: []event.Event{exec("/usr/bin/ncat", "ncat"), open("/usr/bin/nc", "/x", "read")}},
		{name: "double equals and not equals", cond: "evt.type == execve and proc.name != bash",
			events: []string{"NEW_PROCESS"}, yaml: []string{"not: true"},
			match: []event.Event{exec("/bin/ls", "ls")}, nomatch: []event.Event{exec("/bin/bash", "bash")}},
		{name: "contains", cond: "spawned_process and proc.cmdline contains \"-e /bin/sh\"",
			yaml:  []string{"op: contains", "path: event/COMMAND_LINE"},
			match: []event.Event{exec("/usr/bin/nc", "/usr/bin/nc 1.2.3.4 80 -e /bin/sh")}, nomatch: []event.Event{exec("/usr/bin/nc", "nc -l")}},
		{name: "icontains", cond: "spawned_process and proc.cmdline icontains MIMIKATZ",
			yaml:  []string{"case sensitive: false"},
			match: []event.Event{exec("/tmp/x", "x mimikatz")}, nomatch: []event.Event{exec("/tmp/x", "x")}},
		{name: "startswith on a path", cond: "spawned_process and proc.exepath startswith /tmp/",
			yaml:  []string{"op: starts with", "path: event/FILE_PATH"},
			match: []event.Event{exec("/tmp/x", "x")}, nomatch: []event.Event{exec("/usr/tmp/x", "x")}},
		{name: "endswith", cond: "spawned_process and proc.exepath endswith /xmrig",
			yaml:  []string{"op: ends with"},
			match: []event.Event{exec("/opt/xmrig", "xmrig")}, nomatch: []event.Event{exec("/opt/xmrig2", "x")}},
		{name: "cmdline equals lets argv0 carry a directory", cond: "spawned_process and proc.cmdline = \"curl -s x\"",
			yaml:    []string{"op: matches", `re: ^(?:\S*/)?curl -s x$`},
			match:   []event.Event{exec("/usr/bin/curl", "/usr/bin/curl -s x"), exec("/usr/bin/curl", "curl -s x")},
			nomatch: []event.Event{exec("/usr/bin/curl", "curl -s xy"), exec("/usr/bin/curl", "xcurl -s x")}},
		{name: "cmdline startswith", cond: "spawned_process and proc.cmdline startswith \"python -c\"",
			match:   []event.Event{exec("/usr/bin/python", "/usr/bin/python -c 'import pty'")},
			nomatch: []event.Event{exec("/usr/bin/python", "python3 -c x")}},
		{name: "cmdline in", cond: "spawned_process and proc.cmdline in (\"sh -i\", \"bash -i\")",
			match:   []event.Event{exec("/bin/sh", "/bin/sh -i"), exec("/bin/bash", "bash -i")},
			nomatch: []event.Event{exec("/bin/sh", "sh -i -x")}},
		{name: "parent fields", cond: "spawned_process and proc.pname = nginx and proc.pcmdline contains worker",
			yaml: []string{"event/PARENT/FILE_NAME", "event/PARENT/COMMAND_LINE"},
			match: []event.Event{with(exec("/bin/sh", "sh"), func(e *event.Event) {
				e.ParentFilePath, e.ParentCommandLine = "/usr/sbin/nginx", "nginx: worker process"
			})},
			nomatch: []event.Event{exec("/bin/sh", "sh")}},
		{name: "ancestor fields", cond: "spawned_process and proc.aname[2] = sshd and proc.apid[3] = 1 and proc.aexepath[1] endswith /sh",
			yaml: []string{"event/ANCESTORS/1/FILE_NAME", "event/ANCESTORS/2/PROCESS_ID", "event/ANCESTORS/0/FILE_PATH"},
			match: []event.Event{with(exec("/usr/bin/id", "id"), func(e *event.Event) {
				e.AncestorPIDs, e.AncestorPaths = []uint32{30, 20, 1}, []string{"/bin/sh", "/usr/sbin/sshd", "/sbin/init"}
			})},
			nomatch: []event.Event{exec("/usr/bin/id", "id"), with(exec("/usr/bin/id", "id"), func(e *event.Event) {
				e.AncestorPIDs, e.AncestorPaths = []uint32{30, 20}, []string{"/bin/sh", "/usr/sbin/sshd"}
			})}},
		{name: "user name", cond: "spawned_process and user.name = root",
			yaml:  []string{"path: event/USER"},
			match: []event.Event{with(exec("/bin/sh", "sh"), func(e *event.Event) { e.User = "root" })}, nomatch: []event.Event{exec("/bin/sh", "sh")}},
		{name: "in with inline values and list names", cond: "spawned_process and proc.name in (more_shells, ksh)",
			yaml:  []string{"op: in list", "values: [bash, sh, zsh, fish, ksh]"},
			match: []event.Event{exec("/bin/fish", "fish"), exec("/bin/ksh", "ksh")}, nomatch: []event.Event{exec("/bin/dash", "dash")}},
		{name: "quoted list items", cond: "open_read and fd.name in (secrets)",
			yaml:  []string{"values: [/etc/shadow, /etc/gshadow]"},
			match: []event.Event{open("/bin/cat", "/etc/gshadow", "read")}, nomatch: []event.Event{open("/bin/cat", "/etc/hosts", "read")}},
		{name: "pmatch", cond: "open_write and fd.name pmatch (/etc, /usr/lib/)",
			match:   []event.Event{open("/bin/vi", "/etc/passwd", "write"), open("/bin/vi", "/etc", "write"), open("/bin/vi", "/usr/lib/x.so", "write,create")},
			nomatch: []event.Event{open("/bin/vi", "/etcetera/x", "write"), open("/bin/vi", "/etc/passwd", "read")}},
		{name: "glob", cond: "spawned_process and proc.exepath glob \"/tmp/*/[a-c]?\"",
			yaml:  []string{`re: ^/tmp/.*/[a-c].$`},
			match: []event.Event{exec("/tmp/d/b1", "x")}, nomatch: []event.Event{exec("/tmp/d/d1", "x")}},
		{name: "exists", cond: "spawned_process and proc.pcmdline exists",
			yaml:  []string{"op: exists"},
			match: []event.Event{exec("/bin/ls", "ls")}, nomatch: []event.Event{with(exec("/bin/ls", "ls"), func(e *event.Event) { e.ParentCommandLine = "" })}},
		{name: "numbers", cond: "outbound and fd.sport < 1024 and fd.sport > 21 and fd.sport != 80",
			yaml:    []string{"op: is lower than", "value: 1024", "op: is greater than", "value: 21"},
			match:   []event.Event{connect("/bin/x", "8.8.8.8", 443, 0), connect("/bin/x", "8.8.8.8", 22, 115)},
			nomatch: []event.Event{connect("/bin/x", "8.8.8.8", 80, 0), connect("/bin/x", "8.8.8.8", 8080, 0), connect("/bin/x", "8.8.8.8", 21, 0)}},
		{name: "less or equal", cond: "outbound and fd.sport <= 22 and fd.sport >= 22",
			match: []event.Event{connect("/bin/x", "8.8.8.8", 22, 0)}, nomatch: []event.Event{connect("/bin/x", "8.8.8.8", 23, 0), connect("/bin/x", "8.8.8.8", 21, 0)}},
		{name: "outbound excludes loopback and failures", cond: "outbound",
			match:   []event.Event{connect("/bin/x", "1.1.1.1", 53, 0), connect("/bin/x", "2606:4700::1111", 53, 0)},
			nomatch: []event.Event{connect("/bin/x", "127.0.0.53", 53, 0), connect("/bin/x", "::1", 53, 0), connect("/bin/x", "1.1.1.1", 53, 111)}},
		{name: "inbound", cond: "inbound and fd.sport = 22",
			events: []string{"NETWORK_ACCEPT"},
			match:  []event.Event{{Type: event.NetworkAccept, SourceIP: "5.6.7.8", DestIP: "10.0.0.1", DestPort: 22}},
			nomatch: []event.Event{{Type: event.NetworkAccept, SourceIP: "127.0.0.1", DestIP: "127.0.0.1", DestPort: 22},
				connect("/bin/x", "5.6.7.8", 22, 0)}},
		{name: "fd.sip in and fd.snet", cond: "outbound and (fd.sip in (1.2.3.4) or fd.snet in (\"192.168.0.0/16\"))",
			yaml:  []string{"op: cidr", "cidr: 192.168.0.0/16"},
			match: []event.Event{connect("/bin/x", "1.2.3.4", 1, 0), connect("/bin/x", "192.168.9.9", 1, 0)}, nomatch: []event.Event{connect("/bin/x", "1.2.3.5", 1, 0)}},
		{name: "container macro and host", cond: "spawned_process and container and not container.id = host",
			yaml:  []string{"path: event/CONTAINER_ID"},
			match: []event.Event{with(exec("/bin/sh", "sh"), func(e *event.Event) { e.ContainerID = "abc123" })}, nomatch: []event.Event{exec("/bin/sh", "sh")}},
		{name: "container id in with host", cond: "spawned_process and container.id in (host, abc)",
			match:   []event.Event{exec("/bin/sh", "sh"), with(exec("/bin/sh", "sh"), func(e *event.Event) { e.ContainerID = "abc" })},
			nomatch: []event.Event{with(exec("/bin/sh", "sh"), func(e *event.Event) { e.ContainerID = "def" })}},
		{name: "nested macros", cond: "shell_spawned and not proc.pname in (shells)",
			match:   []event.Event{with(exec("/bin/bash", "bash"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/nginx" })},
			nomatch: []event.Event{exec("/bin/bash", "bash"), with(exec("/bin/ls", "ls"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/nginx" })}},
		{name: "parentheses and or", cond: "spawned_process and (proc.name = a or (proc.name = b and user.name = root))",
			match:   []event.Event{exec("/x/a", "a"), with(exec("/x/b", "b"), func(e *event.Event) { e.User = "root" })},
			nomatch: []event.Event{exec("/x/b", "b")}},
		{name: "not binds tighter than and", cond: "spawned_process and not proc.name = a and not proc.name = b",
			match: []event.Event{exec("/x/c", "c")}, nomatch: []event.Event{exec("/x/a", "a"), exec("/x/b", "b")}},
		{name: "evt.type in with several types merged", cond: "evt.type in (unlink, unlinkat, rename) and fd.name startswith /var/log",
			events:  []string{"FILE_DELETE", "FILE_RENAME"},
			match:   []event.Event{{Type: event.FileDelete, TargetPath: "/var/log/auth.log"}, {Type: event.FileRename, TargetPath: "/var/log/x"}},
			nomatch: []event.Event{{Type: event.FileDelete, TargetPath: "/tmp/x"}, open("/bin/x", "/var/log/x", "read")}},
		{name: "evt.dir", cond: "evt.type = execve and evt.dir = < and proc.name = a",
			match: []event.Event{exec("/x/a", "a")}},
		{name: "privilege change compares the syscall", cond: "evt.type = setuid and user.name != root",
			events: []string{"PRIVILEGE_CHANGE"}, yaml: []string{"path: event/OPERATION", "values: [setuid]"},
			match:   []event.Event{{Type: event.PrivilegeChange, Operation: "setuid", User: "www"}},
			nomatch: []event.Event{{Type: event.PrivilegeChange, Operation: "setgid", User: "www"}}},
		{name: "macro alone matches every event of its type", cond: "spawned_process",
			yaml:  []string{"op: exists", "path: routing/event_type"},
			match: []event.Event{exec("/bin/ls", "ls")}, nomatch: []event.Event{open("/bin/ls", "/x", "read")}},
		{name: "numbers as ids", cond: "spawned_process and user.uid = 0 and proc.ppid in (1, 2)",
			match:   []event.Event{with(exec("/bin/ls", "ls"), func(e *event.Event) { e.UID = 0; e.PPID = 2 })},
			nomatch: []event.Event{with(exec("/bin/ls", "ls"), func(e *event.Event) { e.UID = 1000 })}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs := convertOne(t, ruleFile(tc.cond))
			var all strings.Builder
			var events []string
			for _, r := range rs {
				all.Write(r.YAML)
			}
			for _, frag := range tc.yaml {
				if !strings.Contains(all.String(), frag) {
					t.Errorf("converted YAML lacks %q:\n%s", frag, all.String())
				}
			}
			compiled := compile(t, rs)
			for _, r := range compiled {
				events = append(events, r.Events...)
			}
			if tc.events != nil && strings.Join(events, ",") != strings.Join(tc.events, ",") {
				t.Errorf("event types %v, want %v", events, tc.events)
			}
			for i := range tc.match {
				if !matches(compiled, &tc.match[i]) {
					t.Errorf("does not match event %d %+v\n%s", i, tc.match[i], all.String())
				}
			}
			for i := range tc.nomatch {
				if matches(compiled, &tc.nomatch[i]) {
					t.Errorf("matches event %d it must not %+v\n%s", i, tc.nomatch[i], all.String())
				}
			}
		})
	}
}

func TestSplitByType(t *testing.T) {
	rs := convertOne(t, ruleFile("(spawned_process and proc.name = nc) or (open_read and fd.name = /etc/shadow)"))
	if len(rs) != 2 || rs[0].Name != "test_rule_new_process" || rs[1].Name != "test_rule_file_open" {
		t.Fatalf("want two rules test_rule_new_process and test_rule_file_open, got %d: %v", len(rs), names(rs))
	}
	compiled := compile(t, rs)
	e1, e2, e3 := exec("/bin/nc", "nc"), open("/bin/cat", "/etc/shadow", "read"), open("/bin/nc", "/etc/hosts", "read")
	if !matches(compiled, &e1) || !matches(compiled, &e2) || matches(compiled, &e3) {
		t.Error("split rules do not match as the Falco rule does")
	}
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
		"output_template: proc={{ .event.FILE_PATH }} cmd={{ .event.COMMAND_LINE }} file={{ .event.TARGET.FILE_PATH }}",
		"mitre: [T1059]",
		"tags: [host, mitre_execution, T1059]",
		"source_rule: Test Rule",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("report lacks %q:\n%s", want, y)
		}
	}
	r := compile(t, rs)[0]
	if rep := r.Report(); rep == nil || rep.Severity() != "medium" || rep.Metadata["mitre"] != "T1059" {
		t.Errorf("engine reads the report as %+v", rep)
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
		{"%evt.time %container.name %user", []event.Type{event.NewProcess}, `{{ path "routing/event_time" }} <NA> %user`},
		{"(user=%user.name) g=%proc.aname[2] p=%proc.aname[0]", []event.Type{event.FileOpen}, `(user={{ path "event/USER" }}) g={{ path "event/ANCESTORS/1/FILE_NAME" }} p={{ path "event/FILE_NAME" }}`},
		{"target=%evt.arg.target", []event.Type{event.FileLink}, `target={{ path "event/LINK_TARGET" }}`},
		{"100% {{ x }}", []event.Type{event.NewProcess}, `100% {{"{{"}} x }}`},
	} {
		if got := OutputTemplate(tc.in, tc.types); got != tc.want {
			t.Errorf("OutputTemplate(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestExceptionsAppendAndDisabled(t *testing.T) {
	data := []byte(`
- list: ok_names
  items: [a]
- list: ok_names
  append: true
  items: [b]
- macro: m
  condition: spawned_process
- macro: m
  append: true
  condition: and user.name = root
- rule: R
  desc: d
  condition: m
  output: o
  priority: ERROR
  exceptions:
    - name: known
      fields: [proc.name, proc.pname]
      comps: [=, in]
      values:
        - [c, [sshd, cron]]
    - name: names
      fields: proc.name
      comps: in
      values: [ok_names]
- rule: R
  append: true
  condition: and proc.exepath startswith /
- rule: Off
  desc: d
  condition: spawned_process
  output: o
  priority: ERROR
  enabled: false
`)
	rs, skipped, err := Convert("x.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	if len(skipped) != 1 || skipped[0].Name != "Off" || !strings.Contains(skipped[0].Reason, "disabled") {
		t.Errorf("want Off skipped as disabled, got %v", skipped)
	}
	compiled := compile(t, rs)
	root := func(path, parent string) event.Event {
		return with(exec(path, "x"), func(e *event.Event) { e.User, e.ParentFilePath = "root", parent })
	}
	for _, e := range []event.Event{root("/x/z", "/sbin/init"), root("/x/c", "/sbin/init")} {
		if !matches(compiled, &e) {
			t.Errorf("should match %+v\n%s", e, rs[0].YAML)
		}
	}
	for _, e := range []event.Event{root("/x/a", "/x"), root("/x/b", "/x"), root("/x/c", "/usr/sbin/cron"), exec("/x/z", "z"), root("x/z", "/x")} {
		if matches(compiled, &e) {
			t.Errorf("should not match %+v\n%s", e, rs[0].YAML)
		}
	}
}

func TestUnsupported(t *testing.T) {
	tests := []struct{ cond, want string }{
		{"spawned_process and proc.aname[0] = sshd", `field proc.aname[0] is not supported`},
		{"spawned_process and proc.aname = sshd", `field proc.aname is not supported`},
		{"spawned_process and proc.name intersects (a)", `operator intersects is not supported (in the condition at "proc.name intersects (a)")`},
		{"spawned_process and proc.name regex 'a.*'", `operator regex is not supported`},
		{"spawned_process and tolower(proc.name) = a", `field transformer tolower(...) is not supported`},
		{"proc.name = a", `cannot determine the event type`},
		{"not spawned_process and proc.name = a", `cannot determine the event type`},
		{"evt.type = mmap and proc.name = a", `evt.type mmap has no Vigil event type`},
		{"spawned_process and open_read", `can never match`},
		{"spawned_process and evt.type != execveat", `evt.type != execveat cannot be expressed`},
		{"spawned_process and fd.name = /etc/shadow", `field fd.name has no Vigil equivalent on NEW_PROCESS events`},
		{"evt.type in (open, connect) and fd.name = /x", `field fd.name has no Vigil equivalent on NETWORK_CONNECT events`},
		{"spawned_process and undefined_macro", `unknown macro undefined_macro`},
		{"spawned_process and container.id exists", `container.id exists is always true in Falco`},
		{"spawned_process and container.id startswith ho", `also matches host processes`},
		{"spawned_process and user.uid = root", `user.uid is a number, "root" is not`},
		{"spawned_process and proc.name < 3", `operator < does not apply to the string proc.name`},
		{"outbound and fd.sip = 10.0.0.0/8", `use fd.snet`},
		{"outbound and fd.snet = nonsense", `takes network prefixes`},
		{"open_read and fd.name pmatch (/etc/*)", `pmatch with a wildcard`},
		{"spawned_process and (proc.name = a", `syntax error: unbalanced parenthesis`},
		{"spawned_process and proc.name = 'a", `syntax error: unterminated quoted string`},
		{"spawned_process and proc.name", `syntax error: field proc.name without a comparison operator`},
		{"spawned_process and and", `syntax error`},
		{"spawned_process proc.name = a", `syntax error: unexpected`},
		{"evt.type startswith exec", `evt.type startswith is not supported`},
	}
	for _, tc := range tests {
		t.Run(tc.cond, func(t *testing.T) {
			rs, skipped, err := Convert("x.yaml", ruleFile(tc.cond))
			if err != nil {
				t.Fatal(err)
			}
			if len(rs) != 0 || len(skipped) != 1 {
				t.Fatalf("want the rule skipped, got %d rules, skipped %v", len(rs), skipped)
			}
			reason := skipped[0].Reason
			if !strings.HasPrefix(reason, `x.yaml:12: rule "Test Rule": `) {
				t.Errorf("reason does not name the file, line and rule: %s", reason)
			}
			if !strings.Contains(reason, tc.want) {
				t.Errorf("reason\n %s\nwant it to contain\n %s", reason, tc.want)
			}
		})
	}
}

func TestUnsupportedInMacroNamesIt(t *testing.T) {
	data := []byte(`
- macro: bad
  condition: proc.aname[0] = x
- rule: R
  desc: d
  condition: spawned_process and bad
  output: o
  priority: ERROR
`)
	_, skipped, _ := Convert("x.yaml", data)
	if len(skipped) != 1 || !strings.Contains(skipped[0].Reason, `in the macro bad (line 2) at "proc.aname[0] = x"`) {
		t.Errorf("want the reason to name the macro, got %v", skipped)
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

func TestFileErrors(t *testing.T) {
	for data, want := range map[string]string{
		"":                       "file is empty",
		"rule: x":                "a Falco rules file is a list",
		"- foo: bar":             "unknown item",
		"- list: l\n  items: 3":  "items: want a list",
		"- [a]":                  "want a rule, macro or list item",
		"- rule: x\n  override:": "override: is not supported",
	} {
		_, skipped, err := Convert("f.yaml", []byte(data))
		msg := ""
		if err != nil {
			msg = err.Error()
		} else if len(skipped) > 0 {
			msg = skipped[0].Reason
		}
		if !strings.Contains(msg, want) {
			t.Errorf("%q: got %q, want %q", data, msg, want)
		}
	}
}

// TestSeed converts the two rules a user brings from Falco and checks that they load
// and fire on the events they describe, and on no others.
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
