package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/rules"
)

var update = flag.Bool("update", false, "rewrite testdata/rule-pack.md and docs/rule-pack.md from the current output")

// TestGolden renders testdata/rules (stateful rules, suppression, a rule without
// metadata, text that needs escaping) and compares it with testdata/rule-pack.md.
func TestGolden(t *testing.T) {
	out := filepath.Join(t.TempDir(), "page.md")
	if err := run([]string{"-rules", "testdata/rules", "-o", out}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	compare(t, "testdata/rule-pack.md", got)
}

// TestCommittedPage fails when docs/rule-pack.md no longer matches the built-in pack.
func TestCommittedPage(t *testing.T) {
	var got bytes.Buffer
	if err := run(nil, &got); err != nil {
		t.Fatal(err)
	}
	compare(t, "../../docs/rule-pack.md", got.Bytes())
}

// TestEveryRuleListed checks the page names every rule of the pack exactly once, in a
// table row.
func TestEveryRuleListed(t *testing.T) {
	rs, err := rules.Load()
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := run(nil, &page); err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if n := strings.Count(page.String(), "| [`"+r.Name+"`]("); n != 1 {
			t.Errorf("rule %s is listed %d times", r.Name, n)
		}
	}
}

func TestHelpers(t *testing.T) {
	if got := mitreLinks([]string{"T1059.004", "T1046"}); got != "[T1059.004](https://attack.mitre.org/techniques/T1059/004/), [T1046](https://attack.mitre.org/techniques/T1046/)" {
		t.Errorf("mitreLinks = %s", got)
	}
	for d, want := range map[time.Duration]string{time.Hour: "1h", 10 * time.Minute: "10m", 90 * time.Second: "90s", 1500 * time.Millisecond: "1.5s"} {
		if got := duration(d); got != want {
			t.Errorf("duration(%v) = %s, want %s", d, got, want)
		}
	}
	if got := suppressionKeys([]string{"{{ .routing.sensor_id }}", "{{ .event.DESTINATION.IP_ADDRESS }}", "{{ printf \"%s\" .event.USER }}"}); got != "`routing/sensor_id`, `event/DESTINATION/IP_ADDRESS`, `{{ printf \"%s\" .event.USER }}`" {
		t.Errorf("suppressionKeys = %s", got)
	}
	if got := title("command_and_control"); got != "Command and control" {
		t.Errorf("title = %s", got)
	}
	if got := cell("a | b <c> *d*\nnext"); got != `a \| b &lt;c&gt; \*d\* next` {
		t.Errorf("cell = %s", got)
	}
}

func TestBadArguments(t *testing.T) {
	if err := run([]string{"-rules", "testdata/no-such-dir"}, &bytes.Buffer{}); err == nil {
		t.Error("a missing rules directory was accepted")
	}
	if err := run([]string{"extra"}, &bytes.Buffer{}); err == nil {
		t.Error("a stray argument was accepted")
	}
}

func compare(t *testing.T, golden string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./scripts/rulesdoc -update, or go generate ./rules)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is out of date: regenerate it with `go generate ./rules` (for the pack) or `go test ./scripts/rulesdoc -update`\n--- got\n%s", golden, got)
	}
}
