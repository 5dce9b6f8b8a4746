package sigma

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

func FuzzParseCondition(f *testing.F) {
	for _, s := range []string{"selection", "1 of selection* and not filter", "all of them", "(a or b) and not (c)",
		"sel | count() > 3", "((((", "not not a", "2 of them"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCondition(s, []string{"a", "b", "c", "sel", "selection", "selection_x", "filter", "_x"})
		if (e == nil) != (err != nil) {
			t.Fatalf("%q: expression %#v with error %v; want exactly one of them", s, e, err)
		}
	})
}

func FuzzConvert(f *testing.F) {
	f.Add(doc("process_creation", "  sel:\n    Image|endswith: /sh\n    CommandLine|contains|all: [a, b]\n  condition: sel"))
	f.Add(doc("network_connection", "  sel:\n    Initiated: 'true'\n    DestinationPort: [1, 2]\n    DestinationIp|cidr: 10.0.0.0/8\n  f:\n    Image: '*x?y*'\n  condition: sel and not f"))
	f.Add(doc("file_event", "  sel:\n    - TargetFilename: null\n    - User|re|i: x\n  condition: 1 of them"))
	f.Add(doc("auditd", "  sel:\n    type: EXECVE\n    a0: x\n  kw:\n    '|all': [a, b]\n  p:\n    type: PATH\n    nametype: CREATE\n    name|startswith: /etc/\n  condition: (sel and kw) or p"))
	f.Add(doc("auditd", "  sel:\n    type: SYSCALL\n    SYSCALL: [setuid, mount, clone]\n    comm: 'a*'\n    auid: unset\n  t:\n    type: TTY\n  condition: sel or not t"))
	f.Add(doc("auditd", "  sel:\n    key: k\n    a1: '0'\n  condition: sel") + "logsource_definition: x\n")
	f.Add(doc("process_creation", "  sel:\n    LogonId: 0x100000000\n    ParentUser: x\n    CurrentDirectory: /\n  condition: sel"))
	f.Fuzz(func(t *testing.T, s string) {
		rs, _, _ := Convert("f.yml", []byte(s))
		for _, r := range rs {
			if r.Name == "" || len(r.YAML) == 0 {
				t.Fatalf("empty converted rule %+v", r)
			}
			if _, err := engine.Parse(r.FileName(), r.YAML); err != nil {
				t.Fatalf("converted rule refused by the engine: %v\n%s", err, r.YAML)
			}
		}
	})
}
