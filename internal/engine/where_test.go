package engine

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestParseWhere(t *testing.T) {
	curl := event.Event{Type: event.NewProcess, CommandLine: "/usr/bin/CURL http://x", User: "root"}
	dns := event.Event{Type: event.DNSRequest, DomainName: "evil.example.com"}
	tests := []struct {
		name, where string
		ev          event.Event
		match       bool
		err         string
	}{
		{"flow contains", `{op: contains, path: event/COMMAND_LINE, value: CURL}`, curl, true, ""},
		{"case sensitive by default", `{op: contains, path: event/COMMAND_LINE, value: curl}`, curl, false, ""},
		{"case insensitive", `{op: contains, path: event/COMMAND_LINE, value: curl, case sensitive: false}`, curl, true, ""},
		{"not", `{op: is, path: event/USER, value: root, not: true}`, curl, false, ""},
		{"event type", "event: DNS_REQUEST\nop: ends with\npath: event/DOMAIN_NAME\nvalue: .example.com", dns, true, ""},
		{"event type excludes", "event: DNS_REQUEST\nop: exists\npath: event/DOMAIN_NAME", curl, false, ""},
		{"nesting", "op: or\nrules:\n  - {op: is, path: event/USER, value: nobody}\n  - op: and\n    rules:\n      - {op: starts with, path: event/COMMAND_LINE, value: /usr}\n      - {op: is, path: routing/event_type, value: NEW_PROCESS}", curl, true, ""},
		{"unknown path", `{op: is, path: event/COMAND_LINE, value: x}`, curl, false, `--where:1: unknown path "event/COMAND_LINE": did you mean event/COMMAND_LINE?`},
		{"stateful refused", "op: is\npath: event/USER\nvalue: root\ncount: 3", curl, false, `--where:4: unknown key "count"`},
		{"path not of type", "event: DNS_REQUEST\nop: is\npath: event/EXIT_CODE\nvalue: 1", dns, false, "--where:3: path event/EXIT_CODE is not part of DNS_REQUEST events"},
		{"shared list refused", `{op: in list, path: event/USER, list: admins}`, curl, false, `unknown list "admins"`},
		{"empty", ``, curl, false, "--where:0: file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseWhere("--where", []byte(tt.where))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Match(&tt.ev); got != tt.match {
				t.Errorf("Match = %v, want %v", got, tt.match)
			}
		})
	}
}

// A condition and a rule with the same detection agree on every event.
func TestWhereAgreesWithRule(t *testing.T) {
	body := "op: and\nrules:\n  - {op: matches, path: event/COMMAND_LINE, re: 'curl .*\\|\\s*sh'}\n  - {op: in list, path: event/USER, values: [root, admin], case sensitive: false}"
	c, err := ParseWhere("where", []byte("event: NEW_PROCESS\n"+body))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse("r.yaml", []byte(detRule(event.NewProcess, "  "+strings.ReplaceAll(body, "\n", "\n  "))))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []event.Event{
		{Type: event.NewProcess, CommandLine: "curl http://x | sh", User: "ROOT"},
		{Type: event.NewProcess, CommandLine: "curl http://x | sh", User: "bob"},
		{Type: event.NewProcess, CommandLine: "wget http://x | sh", User: "root"},
		{Type: event.FileOpen, CommandLine: "curl http://x | sh", User: "root"},
	} {
		if c.Match(&e) != r.Matches(&e) {
			t.Errorf("%+v: condition %v, rule %v", e, c.Match(&e), r.Matches(&e))
		}
	}
}

func FuzzParseWhere(f *testing.F) {
	f.Add(`{op: contains, path: event/COMMAND_LINE, value: curl}`)
	f.Add("event: NEW_PROCESS\nop: or\nrules:\n  - {op: matches, path: event/FILE_PATH, re: '^/tmp/'}\n  - {op: cidr, path: event/DESTINATION/IP_ADDRESS, cidr: [10.0.0.0/8]}")
	f.Add(`{op: in list, path: event/DESTINATION/PORT, values: [22, 0x50]}`)
	f.Add(`{op: length of, path: event/ARGS, value: 3, compare: is greater than}`)
	f.Fuzz(func(t *testing.T, where string) {
		c, err := ParseWhere("--where", []byte(where))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "--where:") {
				t.Fatalf("error does not name its source: %v", err)
			}
			return
		}
		e := event.Event{Type: event.NewProcess, CommandLine: where, DestIP: "10.0.0.1"}
		c.Match(&e)
	})
}
