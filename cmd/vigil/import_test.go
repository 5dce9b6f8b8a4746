package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
)

// falcoBase and falcoUser are two Falco files of one set: the second uses and
// extends the first's list and macro.
const falcoBase = `- list: fetchers
  items: [curl]
- macro: fetcher_procs
  condition: proc.name in (fetchers)
`

const falcoUser = `- list: fetchers
  append: true
  items: [wget]
- rule: Fetcher Connects Out
  desc: A download tool connects out
  condition: outbound and fetcher_procs
  output: Fetcher connected (process=%proc.name dest=%fd.sip:%fd.sport)
  priority: WARNING
- rule: Uses Session Leader
  desc: d
  condition: spawned_process and proc.sname = sshd
  output: o
  priority: ERROR
- rule: Received Data
  desc: d
  condition: (evt.type in (recvfrom, recvmsg) or evt.type = accept) and fetcher_procs
  output: o
  priority: NOTICE
- rule: Off By Default
  desc: d
  condition: spawned_process and fetcher_procs
  output: o
  priority: INFO
  enabled: false
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
	base := writeFile(t, dir, "base_rules.yaml", falcoBase)
	user := writeFile(t, dir, "user_rules.yaml", falcoUser)
	out := filepath.Join(dir, "rules")
	_, stderr, err := runImport(t, "--out", out, base, user)
	if err != nil {
		t.Fatalf("a skipped rule fails the import only with --strict: %v\n%s", err, stderr)
	}
	for _, want := range []string{
		`skipped ` + user + `:9: rule "Uses Session Leader": field proc.sname is not supported`,
		`narrowed ` + user + `:14: rule "Received Data": dropped ` + "`evt.type in (recvfrom, recvmsg)`",
		`disabled ` + user + `:19: rule "Off By Default"`,
		"2 rules converted into " + out + ", 1 not converted",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	rules, err := engine.LoadDir(out)
	if err != nil || len(rules) != 2 || rules[0].Name != "fetcher_connects_out" || rules[1].Name != "received_data" {
		t.Fatalf("written rules: %v %v", rules, err)
	}
	// The appended list item reached the macro of the first file.
	data, err := os.ReadFile(filepath.Join(out, "fetcher_connects_out.yaml"))
	if err != nil || !strings.Contains(string(data), "values: [curl, wget]") {
		t.Errorf("the set's list is not used:\n%s", data)
	}
	// Existing files are kept unless --force.
	if _, _, err := runImport(t, "--out", out, base, user); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrote an existing file: %v", err)
	}
	if _, _, err := runImport(t, "--out", out, "--force", "--with-disabled", base, user); err != nil {
		t.Errorf("--force: %v", err)
	}
	if _, err := os.Stat(filepath.Join(out, "off_by_default.yaml")); err != nil {
		t.Errorf("--with-disabled did not write the disabled rule: %v", err)
	}
	if _, _, err := runImport(t, "--out", t.TempDir(), "--strict", base, user); err == nil || !strings.Contains(err.Error(), "1 rules could not be converted") {
		t.Errorf("--strict accepted a skipped rule: %v", err)
	}
	// The user's file alone lacks the macro: a load error naming the file and line.
	if _, _, err := runImport(t, "--out", t.TempDir(), user); err == nil || !strings.Contains(err.Error(), user+":1: list fetchers: append to a list that is not defined earlier in the set") {
		t.Errorf("append without the base file: %v", err)
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
