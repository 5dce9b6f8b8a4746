package engine

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// testLib is a library with a list of shells, a list of ports and two macros.
const testLib = `
lists:
  shells: [sh, bash, Zsh]
  ports: [22, 3389]
  prod_tags: ["env:prod"]
macros:
  is_shell:
    op: in list
    path: event/FILE_NAME
    list: shells
  shell_as_root:
    op: and
    rules:
      - macro: is_shell
      - op: is
        path: event/USER
        value: root
`

func mustLib(t testing.TB) *Library {
	t.Helper()
	lib := NewLibrary()
	if err := lib.Add("lists.yaml", []byte(testLib)); err != nil {
		t.Fatal(err)
	}
	if err := lib.Validate(); err != nil {
		t.Fatal(err)
	}
	return lib
}

// detRule builds a rule file from a detection body (indented two spaces) for the
// given event type.
func detRule(typ, body string) string {
	return "detection:\n  event: " + typ + "\n" + body + "\nresponse:\n  - action: report\n    name: r\n"
}

func TestOperators(t *testing.T) {
	proc := event.Event{Type: event.NewProcess, SensorID: "s1", Tags: []string{"env:prod", "team:web"},
		PID: 10, PPID: 1, User: "root", FilePath: "/usr/bin/bash", CommandLine: "bash -c 'curl http://x | sh'",
		ParentFilePath: "/usr/sbin/nginx"}
	conn := event.Event{Type: event.NetworkConnect, SensorID: "s1", PID: 10, DestIP: "10.1.2.3", DestPort: 22, Protocol: "tcp"}
	conn6 := event.Event{Type: event.NetworkConnect, DestIP: "fd00::1", DestPort: 443}
	connMapped := event.Event{Type: event.NetworkConnect, DestIP: "::ffff:192.168.1.5"}
	connBad := event.Event{Type: event.NetworkConnect, DestIP: "not-an-ip"}
	tests := []struct {
		name  string
		body  string
		ev    event.Event
		match bool
	}{
		// is
		{"is", "  op: is\n  path: event/FILE_PATH\n  value: /usr/bin/bash", proc, true},
		{"is no", "  op: is\n  path: event/FILE_PATH\n  value: /bin/bash", proc, false},
		{"is case", "  op: is\n  path: event/USER\n  value: ROOT", proc, false},
		{"is case insensitive", "  op: is\n  case sensitive: false\n  path: event/USER\n  value: ROOT", proc, true},
		{"is number", "  op: is\n  path: event/PROCESS_ID\n  value: 10", proc, true},
		{"is number hex", "  op: is\n  path: event/PROCESS_ID\n  value: 0xa", proc, true},
		{"is number no", "  op: is\n  path: event/PROCESS_ID\n  value: 11", proc, false},
		{"is list item", "  op: is\n  path: routing/tags\n  value: team:web", proc, true},
		{"is list no", "  op: is\n  path: routing/tags\n  value: team", proc, false},
		{"is empty", "  op: is\n  path: event/CONTAINER_ID\n  value: ''", proc, true},
		{"is derived name", "  op: is\n  path: event/PARENT/FILE_NAME\n  value: nginx", proc, true},
		// contains, starts with, ends with
		{"contains", "  op: contains\n  path: event/COMMAND_LINE\n  value: '| sh'", proc, true},
		{"contains no", "  op: contains\n  path: event/COMMAND_LINE\n  value: wget", proc, false},
		{"contains fold", "  op: contains\n  case sensitive: false\n  path: event/COMMAND_LINE\n  value: CURL HTTP", proc, true},
		{"contains fold no", "  op: contains\n  case sensitive: false\n  path: event/COMMAND_LINE\n  value: WGET", proc, false},
		{"contains list", "  op: contains\n  path: routing/tags\n  value: prod", proc, true},
		{"starts with", "  op: starts with\n  path: event/FILE_PATH\n  value: /usr/", proc, true},
		{"starts with no", "  op: starts with\n  path: event/FILE_PATH\n  value: /tmp/", proc, false},
		{"starts with fold", "  op: starts with\n  case sensitive: false\n  path: event/FILE_PATH\n  value: /USR/BIN", proc, true},
		{"starts with longer", "  op: starts with\n  path: event/USER\n  value: rootkit", proc, false},
		{"starts with list", "  op: starts with\n  path: routing/tags\n  value: 'team:'", proc, true},
		{"ends with", "  op: ends with\n  path: event/FILE_PATH\n  value: /bash", proc, true},
		{"ends with no", "  op: ends with\n  path: event/FILE_PATH\n  value: /sh", proc, false},
		{"ends with fold", "  op: ends with\n  case sensitive: false\n  path: event/FILE_PATH\n  value: /BASH", proc, true},
		// matches
		{"matches", "  op: matches\n  path: event/COMMAND_LINE\n  re: 'curl .*\\|\\s*(ba)?sh'", proc, true},
		{"matches no", "  op: matches\n  path: event/COMMAND_LINE\n  re: '^wget'", proc, false},
		{"matches anchored", "  op: matches\n  path: event/FILE_PATH\n  re: '^/usr/bin/[a-z]+$'", proc, true},
		{"matches fold", "  op: matches\n  case sensitive: false\n  path: event/COMMAND_LINE\n  re: 'CURL'", proc, true},
		{"matches case", "  op: matches\n  path: event/COMMAND_LINE\n  re: 'CURL'", proc, false},
		{"matches list", "  op: matches\n  path: routing/tags\n  re: '^env:(prod|staging)$'", proc, true},
		// exists
		{"exists string", "  op: exists\n  path: event/PARENT/FILE_PATH", proc, true},
		{"exists string empty", "  op: exists\n  path: event/GRANDPARENT/FILE_PATH", proc, false},
		{"exists number", "  op: exists\n  path: event/PARENT_PROCESS_ID", proc, true},
		{"exists number zero", "  op: exists\n  path: event/USER_ID", proc, false},
		{"exists list", "  op: exists\n  path: routing/tags", proc, true},
		{"exists list empty", "  op: exists\n  path: routing/tags", conn, false},
		// is greater than, is lower than
		{"greater", "  op: is greater than\n  path: event/PROCESS_ID\n  value: 9", proc, true},
		{"greater equal", "  op: is greater than\n  path: event/PROCESS_ID\n  value: 10", proc, false},
		{"lower", "  op: is lower than\n  path: event/PROCESS_ID\n  value: 11", proc, true},
		{"lower equal", "  op: is lower than\n  path: event/PROCESS_ID\n  value: 10", proc, false},
		{"lower negative", "  op: is lower than\n  path: event/USER_ID\n  value: -1", proc, false},
		// length of
		{"length is", "  op: length of\n  path: event/USER\n  value: 4", proc, true},
		{"length is no", "  op: length of\n  path: event/USER\n  value: 5", proc, false},
		{"length greater", "  op: length of\n  path: event/COMMAND_LINE\n  compare: is greater than\n  value: 20", proc, true},
		{"length lower", "  op: length of\n  path: event/COMMAND_LINE\n  compare: is lower than\n  value: 20", proc, false},
		{"length list", "  op: length of\n  path: routing/tags\n  value: 2", proc, true},
		// cidr
		{"cidr v4", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 10.0.0.0/8", conn, true},
		{"cidr v4 no", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 192.168.0.0/16", conn, false},
		{"cidr v6", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 'fd00::/8'", conn6, true},
		{"cidr v6 vs v4", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 10.0.0.0/8", conn6, false},
		{"cidr list", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: [192.168.0.0/16, 'fd00::/8']", conn6, true},
		{"cidr v4-mapped", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 192.168.0.0/16", connMapped, true},
		{"cidr not an ip", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 0.0.0.0/0", connBad, false},
		{"cidr unmasked", "  op: cidr\n  path: event/DESTINATION/IP_ADDRESS\n  cidr: 10.9.9.9/8", conn, true},
		// in list
		{"in list values", "  op: in list\n  path: event/FILE_NAME\n  values: [sh, bash]", proc, true},
		{"in list values no", "  op: in list\n  path: event/FILE_NAME\n  values: [sh, zsh]", proc, false},
		{"in list shared", "  op: in list\n  path: event/FILE_NAME\n  list: shells", proc, true},
		{"in list case", "  op: in list\n  path: event/FILE_NAME\n  values: [BASH]", proc, false},
		{"in list fold", "  op: in list\n  case sensitive: false\n  path: event/FILE_NAME\n  values: [BASH]", proc, true},
		{"in list fold shared", "  op: in list\n  case sensitive: false\n  path: event/PARENT/FILE_NAME\n  values: [NGINX, Apache2]", proc, true},
		{"in list numbers", "  op: in list\n  path: event/DESTINATION/PORT\n  values: [22, 23]", conn, true},
		{"in list shared numbers", "  op: in list\n  path: event/DESTINATION/PORT\n  list: ports", conn, true},
		{"in list numbers no", "  op: in list\n  path: event/DESTINATION/PORT\n  list: ports", conn6, false},
		{"in list tags", "  op: in list\n  path: routing/tags\n  list: prod_tags", proc, true},
		// is tagged
		{"is tagged", "  op: is tagged\n  tag: env:prod", proc, true},
		{"is tagged no", "  op: is tagged\n  tag: env:dev", proc, false},
		{"is tagged fold", "  op: is tagged\n  case sensitive: false\n  tag: ENV:PROD", proc, true},
		// and, or, not
		{"and", "  op: and\n  rules:\n    - op: is\n      path: event/USER\n      value: root\n    - op: ends with\n      path: event/FILE_PATH\n      value: bash", proc, true},
		{"and one fails", "  op: and\n  rules:\n    - op: is\n      path: event/USER\n      value: root\n    - op: ends with\n      path: event/FILE_PATH\n      value: zsh", proc, false},
		{"or", "  op: or\n  rules:\n    - op: is\n      path: event/USER\n      value: bob\n    - op: is\n      path: event/USER\n      value: root", proc, true},
		{"or none", "  op: or\n  rules:\n    - op: is\n      path: event/USER\n      value: bob\n    - op: is\n      path: event/USER\n      value: eve", proc, false},
		{"not leaf", "  op: is\n  not: true\n  path: event/USER\n  value: bob", proc, true},
		{"not and", "  op: and\n  not: true\n  rules:\n    - op: is\n      path: event/USER\n      value: root\n    - op: exists\n      path: event/PARENT/FILE_PATH", proc, false},
		{"not or", "  op: or\n  not: true\n  rules:\n    - op: is\n      path: event/USER\n      value: bob\n    - op: is tagged\n      tag: env:dev", proc, true},
		{"not false", "  op: is\n  not: false\n  path: event/USER\n  value: root", proc, true},
		{"nested", "  op: and\n  rules:\n    - op: or\n      rules:\n        - op: is\n          path: event/USER\n          value: bob\n        - op: and\n          rules:\n            - op: is\n              path: event/USER\n              value: root\n            - op: is tagged\n              tag: env:prod\n    - op: exists\n      path: event/COMMAND_LINE", proc, true},
		{"case inherited", "  op: and\n  case sensitive: false\n  rules:\n    - op: is\n      path: event/USER\n      value: ROOT\n    - op: contains\n      path: event/COMMAND_LINE\n      value: CURL", proc, true},
		{"case overridden", "  op: and\n  case sensitive: false\n  rules:\n    - op: is\n      path: event/USER\n      value: ROOT\n    - op: contains\n      case sensitive: true\n      path: event/COMMAND_LINE\n      value: CURL", proc, false},
		// macros
		{"macro", "  macro: is_shell", proc, true},
		{"macro not", "  macro: is_shell\n  not: true", proc, false},
		{"macro nested", "  op: and\n  rules:\n    - macro: shell_as_root\n    - op: is tagged\n      tag: env:prod", proc, true},
		{"macro in or", "  op: or\n  rules:\n    - macro: shell_as_root\n      not: true\n    - op: is\n      path: event/USER\n      value: bob", proc, false},
	}
	lib := mustLib(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseWith(strings.ReplaceAll(tc.name, " ", "_")+".yaml", []byte(detRule(tc.ev.Type, tc.body)), lib)
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Matches(&tc.ev); got != tc.match {
				t.Fatalf("Matches = %v, want %v", got, tc.match)
			}
			eng, err := New([]*Rule{r})
			if err != nil {
				t.Fatal(err)
			}
			if got := len(eng.Eval(&tc.ev, nil)) == 1; got != tc.match {
				t.Fatalf("Eval matched = %v, want %v", got, tc.match)
			}
			ms, err := eng.Process(t.Context(), &tc.ev, nil, fixtureEpoch, nil)
			if err != nil || (len(ms) == 1) != tc.match {
				t.Fatalf("Process = %d matches, %v; want match=%v", len(ms), err, tc.match)
			}
		})
	}
}

func TestIndexFold(t *testing.T) {
	for _, tc := range []struct {
		s, sub string
		want   int
	}{
		{"Hello World", "world", 6}, {"Hello World", "WORLD", 6}, {"abc", "", 0}, {"abc", "abcd", -1},
		{"xxAbC", "abc", 2}, {"ÄBC abc", "äbc", 0}, {"no", "yes", -1}, {"a_b", "_B", 1},
	} {
		if got := indexFold(tc.s, tc.sub); got != tc.want {
			t.Errorf("indexFold(%q, %q) = %d, want %d", tc.s, tc.sub, got, tc.want)
		}
	}
}

func TestInListFoldLong(t *testing.T) {
	long := strings.Repeat("A", 200)
	r, err := Parse("x.yaml", []byte(detRule(event.NewProcess, "  op: in list\n  case sensitive: false\n  path: event/COMMAND_LINE\n  values: ['"+strings.ToLower(long)+"', 'ÉTÉ']")))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{long, "été", "Été"} {
		if !r.Matches(&event.Event{Type: event.NewProcess, CommandLine: s}) {
			t.Errorf("%q does not match", s)
		}
	}
	if r.Matches(&event.Event{Type: event.NewProcess, CommandLine: "ete"}) {
		t.Error("ete matches")
	}
}
