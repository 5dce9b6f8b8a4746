package convert

import (
	"os"
	"strings"
	"testing"

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
	data := []byte("- rule: R\n  desc: d\n  condition: spawned_process and proc.aname = x\n  output: o\n  priority: INFO\n" +
		"- rule: Off\n  desc: d\n  condition: spawned_process\n  output: o\n  priority: INFO\n  enabled: false\n")
	_, _, err := Load("f.yaml", data)
	if err == nil || !strings.Contains(err.Error(), "1 rules could not be converted") || !strings.Contains(err.Error(), "proc.aname") {
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
