package falco

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

func FuzzParseCond(f *testing.F) {
	for _, s := range []string{
		"outbound and not fd.sip in (allowed_ips) and not proc.name in (allowed_processes)",
		"spawned_process and (proc.name = a or not proc.cmdline contains 'x y')",
		"fd.name pmatch (/etc, \"/usr\") and evt.dir = <",
		"proc.aname[2] exists", "((((", "a and", "x = \"\\", "tolower(proc.name) = a",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCond(s)
		if err == nil && e == nil {
			t.Fatal("nil expression without error")
		}
	})
}

func FuzzConvert(f *testing.F) {
	f.Add(string(ruleFile("outbound and fd.sport > 1 and not proc.name in (shells)")))
	f.Add(string(ruleFile("shell_spawned or (open_read and fd.name glob '/etc/[a-z]*')")))
	f.Add("- macro: a\n  condition: a\n- rule: r\n  condition: a\n  priority: INFO\n")
	f.Fuzz(func(t *testing.T, s string) {
		rs, _, _ := Convert("f.yaml", []byte(s))
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
