package convert

import (
	"os"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/importer/falco"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

func TestLoadFalcoSeed(t *testing.T) {
	data, err := os.ReadFile("../falco/testdata/user_rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rules, skipped, err := Load("user_rules.yaml", data)
	if err != nil || len(skipped) != 0 || len(rules) != 2 {
		t.Fatalf("Load: %v, skipped %v, %d rules", err, skipped, len(rules))
	}
	eng, err := engine.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	ev := event.Event{Type: event.FileOpen, FilePath: "/usr/bin/cat", TargetPath: "/etc/shadow", FileFlags: "read"}
	if got := eng.Eval(&ev, nil); len(got) != 1 || got[0].Name != "sensitive_file_access" {
		t.Errorf("Eval: %v", got)
	}
}

func TestLoadRefusesUnsupported(t *testing.T) {
	data := []byte("- rule: R\n  desc: d\n  condition: spawned_process and proc.sname = x\n  output: o\n  priority: INFO\n" +
		"- rule: Off\n  desc: d\n  condition: spawned_process\n  output: o\n  priority: INFO\n  enabled: false\n")
	_, _, err := Load("f.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "1 rules could not be converted") || !strings.Contains(err.Error(), "proc.sname") {
		t.Errorf("want an error naming the construct, got %v", err)
	}
	rules, skipped, err := Load("f.yaml", data[strings.Index(string(data), "- rule: Off"):])
	if err != nil || len(rules) != 0 || len(skipped) != 1 || !skipped[0].Ignored {
		t.Errorf("a disabled rule is skipped, not an error: %v %v %v", rules, skipped, err)
	}
}

func TestFile(t *testing.T) {
	sigmaRule, err := os.ReadFile("../sigma/testdata/proc_creation_lnx_crontab_removal.yml")
	if err != nil {
		t.Fatal(err)
	}
	rules, _, f, err := File("x.yml", sigmaRule, importer.Unknown)
	if err != nil || f != importer.Sigma || len(rules) != 1 {
		t.Errorf("sigma: %v %v %d", err, f, len(rules))
	}
	if _, _, _, err := File("x.yml", sigmaRule, importer.Falco); err == nil {
		t.Error("a Sigma rule converted as Falco")
	}
	dr := []byte("detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/USER\n  value: x\nresponse:\n  - action: report\n    name: x\n")
	if _, _, _, err := File("x.yaml", dr, importer.Unknown); err == nil || !strings.Contains(err.Error(), "already a Vigil D&R rule") {
		t.Errorf("D&R file: %v", err)
	}
	if _, _, _, err := File("x.txt", []byte("hello"), importer.Unknown); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("unknown file: %v", err)
	}
}

// TestFalcoSet converts two files as one set, the second extending the first.
func TestFalcoSet(t *testing.T) {
	base := []byte("- list: tools\n  items: [nc]\n- macro: tool_run\n  condition: spawned_process and proc.name in (tools)\n")
	user := []byte("- list: tools\n  append: true\n  items: [socat]\n" +
		"- rule: Tool Run\n  desc: d\n  condition: tool_run\n  output: o\n  priority: INFO\n" +
		"- rule: Bad Glob\n  desc: d\n  condition: spawned_process and proc.exepath glob '[z-a]'\n  output: o\n  priority: INFO\n")
	res, err := FalcoSet([]falco.File{{Name: "base.yaml", Data: base}, {Name: "user.yaml", Data: user}})
	if err != nil {
		t.Fatal(err)
	}
	if o := res.Outcomes[0]; o.Status != falco.Converted || !strings.Contains(string(o.Rules[0].YAML), "values: [nc, socat]") {
		t.Errorf("Tool Run: %+v", o)
	}
	if o := res.Outcomes[1]; o.Status != falco.Skipped || len(o.Rules) != 0 || !strings.Contains(o.Reason, `user.yaml:9: rule "Bad Glob": glob "[z-a]"`) {
		t.Errorf("Bad Glob: %+v", o)
	}
	if _, err := FalcoSet([]falco.File{{Name: "user.yaml", Data: user}}); err == nil || !strings.Contains(err.Error(), "user.yaml:1: list tools: append to a list that is not defined earlier in the set") {
		t.Errorf("the user's file alone: %v", err)
	}
}
