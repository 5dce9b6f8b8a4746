package engine

import (
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestLoadPack(t *testing.T) {
	pack, err := LoadPackDir("testdata/pack")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range pack.Rules {
		names = append(names, r.Name)
	}
	if want := "refused shadow_copy shell_in_tmp web_shell web_shell_no_parent"; strings.Join(names, " ") != want {
		t.Fatalf("rules = %v, want %s", names, want)
	}
	if len(pack.Library.Lists()) != 2 || len(pack.Library.Macros()) != 2 {
		t.Fatalf("library: %d lists, %d macros", len(pack.Library.Lists()), len(pack.Library.Macros()))
	}
	var ws []string
	for _, w := range pack.Warnings {
		ws = append(ws, w.String())
	}
	want := []string{
		"testdata/pack/shell_in_tmp.yaml:2: warning: rule shell_in_tmp: shadowed: same event types and detection as rule shadow_copy (testdata/pack/shadow_copy.yaml)",
		"testdata/pack/web_shell_no_parent.yaml:2: warning: rule web_shell_no_parent: shadowed: same event types and detection as rule web_shell (testdata/pack/web_shell.yaml)",
		"testdata/pack/shadow_copy.yaml:3: warning: rule shadow_copy: no fixtures (want testdata/shadow_copy/match.yaml and nomatch.yaml)",
		"testdata/pack/lists.yaml:4: warning: list unused_list is not used by any rule",
		"testdata/pack/lists.yaml:10: warning: macro unused_macro is not used by any rule",
	}
	if !sameSet(ws, want) {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(ws, "\n"), strings.Join(want, "\n"))
	}
	// Load and LoadDir give the same rules
	rs, err := Load(os.DirFS("testdata/pack"), ".")
	if err != nil || len(rs) != len(pack.Rules) {
		t.Fatalf("Load = %d rules, %v", len(rs), err)
	}
	if _, err := New(rs); err != nil {
		t.Fatal(err)
	}
}

// TestShadowedChildEvents checks rules that differ only in the event types of
// their with child: or with descendant: node do not shadow each other, and that
// event: X and events: [X] there are the same.
func TestShadowedChildEvents(t *testing.T) {
	pack, err := LoadPackDir("testdata/shadow")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, w := range pack.Warnings {
		if shadowed, ok := strings.CutPrefix(w.Msg, "shadowed: same event types and detection as rule "); ok {
			got[w.Rule] = shadowed[:strings.IndexByte(shadowed, ' ')]
		}
	}
	tests := []struct {
		rule, shadowedBy string // "" for not shadowed
	}{
		{"child_connect", ""},
		{"child_connect_list", "child_connect"},
		{"child_process", ""},
		{"descendant_dns", ""},
		{"descendant_dns_copy", "descendant_dns"},
		{"descendant_file", ""},
	}
	if len(pack.Rules) != len(tests) {
		t.Fatalf("%d rules, want %d", len(pack.Rules), len(tests))
	}
	for _, tc := range tests {
		if got[tc.rule] != tc.shadowedBy {
			t.Errorf("rule %s shadowed by %q, want %q", tc.rule, got[tc.rule], tc.shadowedBy)
		}
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		if m[x]--; m[x] < 0 {
			return false
		}
	}
	return true
}

func TestLoadReportsEveryError(t *testing.T) {
	_, err := LoadDir("testdata/invalid")
	if err == nil {
		t.Fatal("loaded testdata/invalid")
	}
	// every rule file fails on its own, each error on its own line (lists_as_rule is
	// a valid lists file in a directory)
	files, _ := os.ReadDir("testdata/invalid")
	for _, f := range files {
		if f.Name() != "lists_as_rule.yaml" && !strings.Contains(err.Error(), "\ntestdata/invalid/"+f.Name()+":") {
			t.Errorf("no error line for %s", f.Name())
		}
	}
}

func TestRunFixtures(t *testing.T) {
	rs, err := LoadDir("testdata/pack")
	if err != nil {
		t.Fatal(err)
	}
	results := RunFixtures(os.DirFS("testdata/pack"), ".", rs)
	got := map[string]string{}
	for _, r := range results {
		got[r.Rule+" "+r.File[strings.LastIndex(r.File, "/")+1:]] = r.String()
	}
	want := map[string]string{
		"refused match.yaml":               "ok   refused match.yaml (3 events)",
		"refused nomatch.yaml":             "ok   refused nomatch.yaml (4 events)",
		"shell_in_tmp match.yaml":          "ok   shell_in_tmp match.yaml (2 events)",
		"shell_in_tmp nomatch.yaml":        "ok   shell_in_tmp nomatch.yaml (2 events)",
		"web_shell match.yaml":             "ok   web_shell match.yaml (2 events)",
		"web_shell nomatch.yaml":           "ok   web_shell nomatch.yaml (3 events)",
		"web_shell_no_parent match.yaml":   "FAIL web_shell_no_parent match.yaml[0]: the last event should produce a detection and did not",
		"web_shell_no_parent nomatch.yaml": "ok   web_shell_no_parent nomatch.yaml (3 events)",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n got %q\nwant %q", k, got[k], w)
		}
	}
	if g := got["shadow_copy match.yaml"]; !strings.HasPrefix(g, "FAIL shadow_copy match.yaml: missing fixture") {
		t.Errorf("shadow_copy: %q", g)
	}
}

// TestReadFixtureMissing checks a missing fixture's error names it and wraps
// fs.ErrNotExist (shadow_copy in testdata/pack has no fixtures).
func TestReadFixtureMissing(t *testing.T) {
	_, err := ReadFixture(os.DirFS("testdata/pack"), "testdata/shadow_copy/match.yaml", event.NewProcess)
	const want = "missing fixture testdata/shadow_copy/match.yaml: every rule needs match.yaml and nomatch.yaml"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("err = %v, want it to wrap fs.ErrNotExist", err)
	}
}

func TestFixtureStatelessEveryEvent(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/testdata/r", 0o755)
	os.WriteFile(dir+"/r.yaml", []byte(detRule("NEW_PROCESS", "  op: is\n  path: event/USER\n  value: root")), 0o644)
	os.WriteFile(dir+"/testdata/r/match.yaml", []byte("- event: {USER: root}\n- event: {USER: alice}\n- event: {USER: root}\n"), 0o644)
	os.WriteFile(dir+"/testdata/r/nomatch.yaml", []byte("- event: {USER: alice}\n- event: {USER: root}\n"), 0o644)
	rs, err := LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := RunFixtures(os.DirFS(dir), ".", rs)
	if len(res) != 2 || res[0].Pass() || res[0].Index != 1 || res[1].Pass() || res[1].Index != 1 {
		t.Fatalf("results: %v", res)
	}
	if !strings.Contains(res[0].String(), "match.yaml[1]: event should match and did not") ||
		!strings.Contains(res[1].String(), "nomatch.yaml[1]: event should not match and did") {
		t.Fatalf("results: %v", res)
	}
}

func TestActions(t *testing.T) {
	src := detRule("NEW_PROCESS", "  op: exists\n  path: event/USER") + `  - action: task
    command: netstat
    args: [-a, -n]
    investigation: true
  - action: isolate
    condition: severity >= high
  - action: rejoin
  - action: kill
    descendants: true
  - action: snapshot
    max_bytes: 1073741824
  - action: snapshot
  - action: notify
    webhook: "{{ slack_webhook }}"
    body: "{{ .Name }} on {{ .Hostname }}"
  - action: notify
    webhook: https://hooks.example.com/x
  - action: add tag
    tag: quarantined
    ttl: 7d
  - action: remove tag
    tag: trusted
    suppression:
      max_count: 3
      period: 30m
`
	src = strings.Replace(src, "    name: r\n", `    name: suspicious shell
    metadata:
      severity: high
      category: execution
      mitre: [T1059.004, T1105]
      maturity: stable
      description: A shell.
      owner: secops
`, 1)
	r, err := Parse("acts.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	rep := r.Report()
	if rep == nil || rep.Name != "suspicious shell" || rep.Severity() != "high" || rep.Metadata["category"] != "execution" ||
		!reflect.DeepEqual(rep.MITRE, []string{"T1059.004", "T1105"}) || rep.Metadata["mitre"] != "T1059.004,T1105" ||
		rep.Metadata["maturity"] != "stable" || rep.Metadata["owner"] != "secops" || rep.Metadata["description"] != "A shell." {
		t.Fatalf("report = %+v", rep)
	}
	a := r.Response
	if len(a) != 11 {
		t.Fatalf("%d actions", len(a))
	}
	check := func(i int, verb string, ok bool) {
		t.Helper()
		if a[i].Action != verb || !ok {
			t.Errorf("action %d = %+v", i, a[i])
		}
		if a[i].Line == 0 {
			t.Errorf("action %d has no line", i)
		}
	}
	check(1, ActTask, a[1].Command == "netstat" && reflect.DeepEqual(a[1].Args, []string{"-a", "-n"}) && a[1].Investigation)
	check(2, ActIsolate, a[2].Condition != nil && a[2].Condition.Op == ">=" && a[2].Condition.Level == "high" &&
		a[2].Condition.Holds("critical") && a[2].Condition.Holds("high") && !a[2].Condition.Holds("medium"))
	check(3, ActRejoin, true)
	check(4, ActKill, a[4].Descendants)
	check(5, ActSnapshot, a[5].Command == DefaultSnapshotCommand && a[5].MaxBytes == 1<<30)
	check(6, ActSnapshot, a[6].Command == DefaultSnapshotCommand && a[6].MaxBytes == 0)
	secret, isSecret := a[7].WebhookSecret()
	body, err := a[7].RenderBody(map[string]string{"Name": "x", "Hostname": "web-1"})
	check(7, ActNotify, isSecret && secret == "slack_webhook" && err == nil && body == "x on web-1")
	_, isSecret = a[8].WebhookSecret()
	body, _ = a[8].RenderBody(nil)
	check(8, ActNotify, !isSecret && a[8].Webhook == "https://hooks.example.com/x" && body == "")
	check(9, ActAddTag, a[9].Tag == "quarantined" && a[9].TTL == 7*24*time.Hour)
	check(10, ActRemoveTag, a[10].Tag == "trusted" && a[10].Suppression != nil && a[10].Suppression.MaxCount == 3 &&
		a[10].Suppression.Period == 30*time.Minute && reflect.DeepEqual(a[10].Suppression.Keys, []string{"{{ .routing.sensor_id }}"}))
	// condition: every operator
	for _, tc := range []struct {
		cond string
		sev  string
		want bool
	}{
		{"severity > medium", "high", true}, {"severity > medium", "medium", false},
		{"severity <= low", "info", true}, {"severity < low", "low", false},
		{"severity == critical", "critical", true}, {"severity != critical", "critical", false},
	} {
		src := detRule("NEW_PROCESS", "  op: exists\n  path: event/USER") + "  - action: isolate\n    condition: " + tc.cond + "\n"
		r, err := Parse("c.yaml", []byte(src))
		if err != nil {
			t.Fatal(err)
		}
		if got := r.Response[1].Condition.Holds(tc.sev); got != tc.want {
			t.Errorf("%s with %s = %v", tc.cond, tc.sev, got)
		}
	}
}

func TestConditionFiltersActions(t *testing.T) {
	src := strings.Replace(detRule("NEW_PROCESS", "  op: exists\n  path: event/USER"), "    name: r\n",
		"    name: r\n    metadata: {severity: medium}\n", 1) +
		"  - action: isolate\n    condition: severity >= high\n  - action: kill\n    condition: severity >= medium\n"
	eng := engineOf(t, map[string]string{"c": src})
	ev := exec("s1", 1, 0, "/bin/sh")
	ev.User = "root"
	ms, err := eng.Process(t.Context(), &ev, nil, fixtureEpoch, nil)
	if err != nil || len(ms) != 1 {
		t.Fatalf("%d matches, %v", len(ms), err)
	}
	var verbs []string
	for _, a := range ms[0].Actions {
		verbs = append(verbs, a.Action)
	}
	if join(verbs) != "report kill" {
		t.Fatalf("actions = %v, want report kill", verbs)
	}
}
