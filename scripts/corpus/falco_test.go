package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFalcoReport runs the Falco report on a corpus directory of small files
// written for it, laid out as Falco's: three syscall files, the second and third
// using the first's lists and macros, and an audit-log file.
func TestFalcoReport(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"falco_rules.yaml": `- required_engine_version: 0.40.0
- list: tools
  items: [nc]
- macro: tool_run
  condition: evt.type = execve and proc.name in (tools)
- rule: Tool Run
  desc: d
  condition: tool_run
  output: o
  priority: INFO
  tags: [maturity_stable]
- rule: Tool Reads Raw Path
  desc: d
  condition: evt.type = openat and fd.nameraw = /etc/passwd
  output: o
  priority: INFO
  tags: [maturity_stable]
`,
		"falco-incubating_rules.yaml": `- list: tools
  append: true
  items: [socat]
- rule: Tool Receives
  desc: d
  condition: (evt.type = recvfrom or evt.type = accept) and tool_run or (evt.type = accept and proc.name in (tools))
  output: o
  priority: INFO
  tags: [maturity_incubating]
`,
		"falco-sandbox_rules.yaml": `- list: later
  items: []
- rule: Waits For Its List
  desc: d
  condition: evt.type = execve and proc.name in (later)
  output: o
  priority: INFO
  enabled: false
`,
		"k8s_audit_rules.yaml": `- rule: Audit
  desc: d
  condition: ka.verb = create
  output: o
  priority: INFO
  source: k8s_audit
- rule: Audit Configmap
  desc: d
  condition: ka.req.configmap.obj contains password
  output: o
  priority: INFO
  source: k8s_audit
`,
	}
	if err := os.Mkdir(filepath.Join(dir, "falco"), 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, "falco", name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := os.CreateTemp(t.TempDir(), "report")
	if err != nil {
		t.Fatal(err)
	}
	if err := falcoReport(dir, out); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(out.Name())
	if err != nil {
		t.Fatal(err)
	}
	report := string(data)
	for _, want := range []string{
		"| falco_rules.yaml | 2 | 1 | 0 | 1 (0) | 0 (0) |",
		"| falco-incubating_rules.yaml | 1 | 0 | 1 | 0 (0) | 0 (0) |",
		"| falco-sandbox_rules.yaml | 1 | 0 | 0 | 1 (1) | 1 (0) |",
		"| all three | 4 | 1 | 1 | 2 (1) | 1 (0) |",
		"falco_rules.yaml requires Falco engine 0.40.0; plugins: .",
		"Stable rules (maturity_stable): 1 of 2 convert (0 of them narrowed).",
		"All rules of the three files: 2 of 4 convert (50.0 %); of the 3 that can match in Falco, 66.7 %.",
		"k8s_audit_rules.yaml, loaded alone: 1 of 2 rules convert (50.0 %); of the 2 that can match in Falco, 50.0 %.",
		"converted 1, narrowed 0, skipped 1 (0 never match in Falco either).",
		`- skipped k8s_audit_rules.yaml:7: rule "Audit Configmap": field ka.req.configmap.obj is not supported`,
		"- falco_rules.yaml:12: rule \"Tool Reads Raw Path\": `fd.nameraw = /etc/passwd` (the condition): Vigil keeps the path as the process gave it only when it holds \"..\"",
		`- falco-sandbox_rules.yaml:3: rule "Waits For Its List": condition can never match, in Falco either`,
		"- falco-incubating_rules.yaml:4: rule \"Tool Receives\": dropped `evt.type = recvfrom` (the condition): it holds only on recvfrom, which the sensor does not report\n",
		"the list is empty",
	} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
}
