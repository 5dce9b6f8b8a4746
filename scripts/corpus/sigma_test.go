package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSigmaReport(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, body string) {
		t.Helper()
		p := filepath.Join(dir, "sigma", "rules", filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	rule := func(title, logsource, detection string) string {
		return "title: " + title + "\nstatus: test\nlogsource:\n    product: linux\n" + logsource +
			"detection:\n" + detection + "level: low\n"
	}
	write("linux/process_creation/a.yml", rule("Whoami Run", "    category: process_creation\n",
		"    sel:\n        Image|endswith: '/whoami'\n    condition: sel\n"))
	write("linux/process_creation/b.yml", rule("Hash Known", "    category: process_creation\n",
		"    sel:\n        Hashes: 'x'\n    condition: sel\n"))
	write("linux/builtin/c.yml", rule("Log Words", "", "    keywords:\n        - 'segfault at'\n    condition: keywords\n"))
	write("linux/builtin/d.yml", rule("More Log Words", "", "    keywords:\n        - 'oom-killer'\n    condition: keywords\n"))
	write("linux/auditd/e.yml", rule("Path Named", "    service: auditd\n",
		"    sel:\n        type: PATH\n        name: '/etc/shadow'\n    condition: sel\n"))
	write("application/kubernetes/audit/f.yml", "title: Pod Exec\nstatus: test\nlogsource:\n    product: kubernetes\n    service: audit\n"+
		"detection:\n    sel:\n        verb: create\n        objectRef.subresource: exec\n    condition: sel\nlevel: low\n")
	write("application/kubernetes/audit/g.yml", "title: Allowed\nstatus: test\nlogsource:\n    product: kubernetes\n    service: audit\n"+
		"detection:\n    sel:\n        responseStatus.code: 'ALLOW'\n    condition: sel\nlevel: low\n")

	var b bytes.Buffer
	if err := sigmaReport(dir, &b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| category process_creation | 2 | 1 | 1 | 1 |",
		"| product linux only | 2 | 0 | 2 | 0 |",
		"| service auditd | 1 | 1 | 0 | 4 |",
		"| application/kubernetes | 2 | 1 | 1 | 1 |",
		"| **all** | **7** | **3** | **4** | **6** |",
		"1 × responseStatus.code: \"ALLOW\" is not a number\n\n- application/kubernetes/audit/g.yml\n",
		"2 × logsource names product linux only: keyword search over log text: Vigil's events carry no log messages\n\n- linux/builtin/c.yml\n- linux/builtin/d.yml\n",
		"1 × field Hashes is not supported: Vigil's process events carry no hashes\n\n- linux/process_creation/b.yml\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(out, "2 × ") > strings.Index(out, "1 × ") {
		t.Errorf("reasons are not ordered by count:\n%s", out)
	}
	if err := sigmaReport(t.TempDir(), &b); err == nil {
		t.Error("a directory without sigma/rules/linux is not an error")
	}
}
