package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

const falcoFile = `- list: allowed_processes
  items: [curl]
- rule: Unexpected Network Connection
  desc: Detect unexpected outbound connections
  condition: outbound and not proc.name in (allowed_processes)
  output: Unexpected network connection (process=%proc.name dest=%fd.sip:%fd.sport)
  priority: WARNING
- rule: Uses Unknown Field
  desc: d
  condition: spawned_process and proc.aname = sshd
  output: o
  priority: ERROR
`

const sigmaFile = `title: Crontab Removal
status: test
logsource:
    product: linux
    category: process_creation
detection:
    selection:
        Image|endswith: '/crontab'
        CommandLine|contains: ' -r'
    condition: selection
level: medium
`

const sigmaSkipped = `title: Ngrok
logsource:
    product: linux
    category: network_connection
detection:
    selection:
        DestinationHostname|endswith: '.ngrok.io'
    condition: selection
level: high
`

func runImport(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	root := newRoot()
	var out, errb bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errb)
	root.SetArgs(append([]string{"rules", "import"}, args...))
	err = root.Execute()
	return out.String(), errb.String(), err
}

func writeFile(t *testing.T, dir, name, data string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestImportFalco(t *testing.T) {
	dir := t.TempDir()
	in := writeFile(t, dir, "falco_rules.yaml", falcoFile)
	out := filepath.Join(dir, "rules")
	_, stderr, err := runImport(t, "--from", "falco", "--out", out, in)
	if err == nil || exitCode(err) != 1 || !strings.Contains(err.Error(), "1 rules could not be converted") {
		t.Errorf("want failure for the unsupported rule, got %v", err)
	}
	if !strings.Contains(stderr, `rule "Uses Unknown Field": field proc.aname is not supported`) {
		t.Errorf("stderr does not name the rule and the construct:\n%s", stderr)
	}
	rules, err := engine.LoadDir(out)
	if err != nil || len(rules) != 1 || rules[0].Name != "unexpected_network_connection" {
		t.Fatalf("written rules: %v %v", rules, err)
	}
	// Existing files are kept unless --force.
	if _, _, err := runImport(t, "--out", out, in); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrote an existing file: %v", err)
	}
	if _, _, err := runImport(t, "--out", out, "--force", in); err == nil || strings.Contains(err.Error(), "--force") {
		t.Errorf("--force: %v", err)
	}
}

func TestImportSigmaPrints(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "a.yml", sigmaFile)
	b := writeFile(t, dir, "b.yml", sigmaSkipped)
	stdout, stderr, err := runImport(t, a, b)
	if err != nil {
		t.Fatalf("sigma import: %v\n%s", err, stderr)
	}
	if !strings.Contains(stdout, "name: crontab_removal") || !strings.Contains(stderr, "field DestinationHostname is not supported") ||
		!strings.Contains(stderr, "1 rules converted") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	}
	if _, err := engine.Parse("crontab_removal.yaml", []byte(stdout)); err != nil {
		t.Errorf("printed rule does not load: %v", err)
	}
	if _, _, err := runImport(t, "--strict", a, b); err == nil {
		t.Error("--strict accepted a skipped Sigma rule")
	}
}

func TestImportUsage(t *testing.T) {
	dir := t.TempDir()
	txt := writeFile(t, dir, "notes.txt", "hello")
	if _, _, err := runImport(t, "--from", "splunk", txt); exitCode(err) != 2 {
		t.Errorf("--from splunk: %v", err)
	}
	if _, _, err := runImport(t, filepath.Join(dir, "missing.yaml")); exitCode(err) != 2 {
		t.Errorf("missing file: %v", err)
	}
	if _, _, err := runImport(t, txt); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Errorf("unknown format: %v", err)
	}
}
