package importer

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	tests := map[string]Format{
		"- rule: x\n  condition: a\n- list: l\n  items: []\n":                Falco,
		"- required_engine_version: 10\n- macro: m\n  condition: x\n":        Falco,
		"title: t\nlogsource: {product: linux}\ndetection: {condition: s}\n": Sigma,
		"action: global\ntitle: t\n":                                         Sigma,
		"detection:\n  event: NEW_PROCESS\nresponse: []\n":                   DR,
		"lists:\n  a: [b]\n":                                                 DR,
		"- a\n- b\n":                                                         Unknown,
		"- rule: x\n- other: y\n":                                            Unknown,
		"just text":                                                          Unknown,
		"":                                                                   Unknown,
		"detection: {}\n":                                                    Unknown,
		"title: t\ndetection: {}\n":                                          Unknown,
		"{":                                                                  Unknown,
		"title: t\nlogsource: {}\ndetection: {}\nresponse: []\n":                     Sigma,
		"- rule: Unexpected\n  condition: outbound\n  output: x\n  priority: INFO\n": Falco,
	}
	for in, want := range tests {
		if got := Sniff([]byte(in)); got != want {
			t.Errorf("Sniff(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"falco": Falco, "Sigma": Sigma, "dr": DR} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("splunk"); err == nil {
		t.Error("ParseFormat accepted splunk")
	}
}

func TestSnakeName(t *testing.T) {
	for in, want := range map[string]string{
		"Unexpected Network Connection": "unexpected_network_connection",
		"Read sensitive file (shadow)":  "read_sensitive_file_shadow",
		"  --Weird__name!! ":            "weird_name",
		"Übergrößen":                    "bergr_en",
		"../../etc/passwd":              "etc_passwd",
		"":                              "rule",
		"***":                           "rule",
	} {
		if got := SnakeName(in); got != want {
			t.Errorf("SnakeName(%q) = %q, want %q", in, got, want)
		}
	}
	if got := SnakeName(strings.Repeat("ab ", 100)); len(got) > 100 {
		t.Errorf("SnakeName too long: %d", len(got))
	}
}

func TestNames(t *testing.T) {
	n := Names{}
	got := []string{n.Unique("a"), n.Unique("a"), n.Unique("a_2"), n.Unique("a")}
	if strings.Join(got, ",") != "a,a_2,a_2_2,a_3" {
		t.Errorf("Unique: %v", got)
	}
}

func TestGlobRegexp(t *testing.T) {
	for in, want := range map[string]string{
		"/tmp/*":    `/tmp/.*`,
		"a?c":       `a.c`,
		"[!ab]x":    `[^ab]x`,
		"a.b+c":     `a\.b\+c`,
		`C:\x`:      `C:\\x`,
		"[]]":       `[\]]`,
		"(x)|{y}^$": `\(x\)\|\{y\}\^\$`,
	} {
		got, err := GlobRegexp(in, false)
		if err != nil || got != want {
			t.Errorf("GlobRegexp(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if got, _ := GlobRegexp(`a\*b`, true); got != `a\*b` {
		t.Errorf("escaped star: %q", got)
	}
	if _, err := GlobRegexp("[abc", false); err == nil {
		t.Error("unterminated class accepted")
	}
}

func TestSimplify(t *testing.T) {
	leaf := func(v string) *Node { return Leaf(OpIs, "event/USER", v) }
	tests := []struct {
		in   *Node
		want string
	}{
		{And(leaf("a"), True()), "is a"},
		{And(leaf("a"), False()), "false"},
		{Or(leaf("a"), True()), "true"},
		{Or(leaf("a"), False(), leaf("b")), "or(is a,is b)"},
		{And(And(leaf("a"), leaf("b")), leaf("c")), "and(is a,is b,is c)"},
		{And(Negate(And(leaf("a"), leaf("b"))), leaf("c")), "and(not and(is a,is b),is c)"},
		{Negate(And(leaf("a"), True())), "not is a"},
		{Negate(Or(False(), False())), "true"},
		{Negate(True()), "false"},
		{And(), "true"},
		{Or(), "false"},
	}
	for _, tc := range tests {
		if got := show(Simplify(tc.in)); got != tc.want {
			t.Errorf("Simplify = %s, want %s", got, tc.want)
		}
	}
}

func show(n *Node) string {
	s := ""
	if n.Not {
		s = "not "
	}
	switch {
	case n.Op == opTrue || n.Op == opFalse:
		if n.IsTrue() {
			return "true"
		}
		return "false"
	case n.Op == OpAnd || n.Op == OpOr:
		var parts []string
		for _, c := range n.Rules {
			parts = append(parts, show(c))
		}
		return s + n.Op + "(" + strings.Join(parts, ",") + ")"
	}
	return s + n.Op + " " + n.Value.(string)
}

func TestMarshal(t *testing.T) {
	d := &Doc{
		Comment:   "line one\nline two",
		Events:    []string{"NETWORK_CONNECT", "NETWORK_ACCEPT"},
		Detection: And(Leaf(OpIs, "event/DESTINATION/PORT", int64(22)), &Node{Op: OpInList, Path: "event/USER", Values: []any{"0", "yes"}, Fold: true, Not: true}),
		Report:    Report{Name: "r", Metadata: []KV{{"severity", "low"}, {"mitre", []string{"T1"}}}},
	}
	y, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `# line one
# line two
detection:
  events: [NETWORK_CONNECT, NETWORK_ACCEPT]
  op: and
  rules:
    - op: is
      path: event/DESTINATION/PORT
      value: 22
    - op: in list
      path: event/USER
      values: ["0", yes]
      case sensitive: false
      not: true
response:
  - action: report
    name: r
    metadata:
      severity: low
      mitre: [T1]
`
	if string(y) != want {
		t.Errorf("Marshal:\n%s\nwant:\n%s", y, want)
	}
	if _, err := (&Doc{Events: []string{"X"}, Detection: False()}).Marshal(); err == nil {
		t.Error("a detection that never matches was printed")
	}
	y, _ = (&Doc{Events: []string{"X"}, Detection: True(), Report: Report{Name: "r"}}).Marshal()
	if !strings.Contains(string(y), "op: exists\n  path: routing/event_type") {
		t.Errorf("always-true detection:\n%s", y)
	}
}
