package falco

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

func FuzzParseCond(f *testing.F) {
	for _, s := range []string{
		"outbound and not fd.sip in (allowed_ips) and not proc.name in (allowed_processes)",
		"spawned_process and (proc.name = a or not proc.cmdline contains 'x y')",
		"fd.name pmatch (/etc, \"/usr\") and evt.dir = <",
		"proc.aname[2] exists", "((((", "a and", "x = \"\\", "tolower(proc.name) = a",
		"proc.name = val(proc.pname)", `proc.args contains "\ " or proc.args endswith \`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := parseCond(s)
		if err == nil && e == nil {
			t.Fatal("nil expression without error")
		}
		if err == nil {
			if pos, end := e.span(); pos < 0 || end > len(s) || pos > end {
				t.Fatalf("span %d..%d outside the condition of %d bytes", pos, end, len(s))
			}
		}
	})
}

// checkConverted fails on a converted rule the engine does not load or an outcome
// without what its status promises.
func checkConverted(t *testing.T, res *Result) {
	t.Helper()
	for _, o := range res.Outcomes {
		switch o.Status {
		case Skipped:
			if o.Reason == "" || len(o.Rules) > 0 {
				t.Fatalf("skipped outcome %+v", o)
			}
			continue
		case Narrowed:
			if len(o.Notes) == 0 {
				t.Fatalf("narrowed outcome without notes %+v", o)
			}
		}
		if len(o.Rules) == 0 {
			t.Fatalf("converted outcome without rules %+v", o)
		}
		for _, r := range o.Rules {
			if r.Name == "" || len(r.YAML) == 0 {
				t.Fatalf("empty converted rule %+v", r)
			}
			if _, err := engine.Parse(r.FileName(), r.YAML); err != nil {
				t.Fatalf("converted rule refused by the engine: %v\n%s", err, r.YAML)
			}
		}
	}
}

func FuzzConvert(f *testing.F) {
	f.Add("- macro: a\n  condition: a\n- rule: r\n  condition: a\n  priority: INFO\n")
	f.Add("- rule: r\n  condition: spawned_process and proc.aname in (a, b) and proc.args = ''\n  priority: INFO\n")
	f.Add("- rule: r\n  condition: evt.type in (connect, recvfrom) and fd.typechar = 4\n  priority: INFO\n")
	f.Add("- rule: r\n  condition: (open_read or open_write) and fd.directory pmatch (/etc)\n  priority: INFO\n" +
		"  exceptions:\n    - name: x\n      fields: [proc.name, fd.name]\n      comps: [=, startswith]\n      values: [[a, /etc/b]]\n")
	if data, err := os.ReadFile("testdata/user_rules.yaml"); err == nil {
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := ConvertSet([]File{{Name: "f.yaml", Data: []byte(s)}})
		if err != nil {
			return
		}
		checkConverted(t, res)
	})
}

// FuzzConvertSet converts two files as one set: the second may append to,
// override and use the first's items.
func FuzzConvertSet(f *testing.F) {
	prelude, err := os.ReadFile("testdata/prelude.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(prelude), "- list: shells\n  append: true\n  items: [ksh]\n- rule: r\n  condition: shell_spawned and proc.pname in (shells)\n  priority: INFO\n")
	f.Add(string(prelude), "- macro: shell_procs\n  condition: and proc.pname exists\n  override:\n    condition: append\n- rule: r\n  condition: shell_spawned\n  priority: INFO\n")
	f.Add(string(prelude), "- rule: r\n  condition: reads_file and fd.name in (secrets)\n  priority: INFO\n- rule: r\n  enabled: false\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		res, err := ConvertSet([]File{{Name: "a.yaml", Data: []byte(a)}, {Name: "b.yaml", Data: []byte(b)}})
		if err != nil {
			if !strings.HasPrefix(err.Error(), "a.yaml") && !strings.HasPrefix(err.Error(), "b.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkConverted(t, res)
	})
}
