package main

import (
	"encoding/json"
	"testing"

	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestRulesExplain runs `vigil rules explain` on the event files of
// testdata/explain: the tree, and exit 0 when the rule fired, 1 when it did not,
// 2 on bad input with its file, line and field.
func TestRulesExplain(t *testing.T) {
	const dir = "testdata/explain/"
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut []string // in order
		wantErr string
	}{
		{
			name: "fired",
			args: []string{"privileged_docker_container", "--event", dir + "privileged.json"},
			wantOut: []string{
				"rule privileged_docker_container matched NEW_PROCESS event",
				"✓ and",
				`  ✓ event/FILE_NAME in list container_clis ["docker", "podman", "nerdctl", "ctr"]: actual "docker"`,
				`  ✓ event/USER is "root": actual "root"`,
				`  ✓ event/COMMAND_LINE matches /\s--privileged(=true)?(\s|$)/: actual "docker run --privileged alpine"`,
			},
		},
		{
			name:    "did not fire: the failing condition and its value",
			args:    []string{"privileged_docker_container", "--event", dir + "not_privileged.json"},
			code:    1,
			wantOut: []string{"did not match", "✗ and", `✓ event/USER is "root"`, `✗ event/COMMAND_LINE matches /\s--privileged(=true)?(\s|$)/: actual "docker ps"`},
			wantErr: "rule privileged_docker_container did not fire on the event",
		},
		{
			name: "with child: the events in order, the parent shown",
			args: []string{"web_shell_runs_network_tool", "--event", dir + "web_shell_chain.yaml"},
			wantOut: []string{"matched", "with child within 10m0s", "parent process:", "P1 ", `event/PARENT/FILE_PATH: "/usr/sbin/nginx"`,
				"detection (on the parent process):", "✓ and", `actual "nginx"`, "child (this event):", `actual "curl"`},
		},
		{
			name:    "with child: the child alone does not fire it",
			args:    []string{"web_shell_runs_network_tool", "--event", dir + "privileged.json"},
			code:    1,
			wantOut: []string{"did not match", "child (this event):", "note: with child"},
		},
		{
			name: "a rule of --rules, without the pack",
			args: []string{"always_root", "--no-builtin", "--rules", "testdata/failing", "--event", dir + "privileged.json"},
			wantOut: []string{
				"rule always_root matched NEW_PROCESS event",
				`✓ event/USER is "root": actual "root"`,
			},
		},
		{name: "a field of the wrong type", args: []string{"privileged_docker_container", "--event", dir + "bad_field.json"}, code: 2,
			wantErr: "testdata/explain/bad_field.json:5: event 0: event/PROCESS_ID: want a number, got string"},
		{name: "a misspelt path", args: []string{"privileged_docker_container", "--event", dir + "unknown_path.json"}, code: 2,
			wantErr: `testdata/explain/unknown_path.json:4: event 0: unknown path "event/COMAND_LINE": did you mean event/COMMAND_LINE?`},
		{name: "bad JSON", args: []string{"privileged_docker_container", "--event", dir + "bad_syntax.json"}, code: 2,
			wantErr: "testdata/explain/bad_syntax.json:3: not valid JSON"},
		{name: "no such file", args: []string{"privileged_docker_container", "--event", dir + "nope.json"}, code: 2,
			wantErr: "read event:"},
		{name: "no such rule", args: []string{"nope", "--event", dir + "privileged.json"}, code: 2,
			wantErr: `rule "nope" is not in the rule set`},
		{name: "no event", args: []string{"privileged_docker_container"}, code: 2, wantErr: "--event FILE is required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, append([]string{"rules", "explain"}, tc.args...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, stderr)
			}
			testcheck.InOrder(t, "output", out, tc.wantOut)
			if tc.wantErr != "" {
				testcheck.InOrder(t, "stderr", stderr, []string{tc.wantErr})
			}
		})
	}
	out, _, code := runCLI(t, "rules", "explain", "privileged_docker_container", "--json", "--event", dir+"not_privileged.json")
	var x struct {
		Matched   bool
		Detection struct{ Rules []struct{ Matched bool } }
	}
	if code != 1 || json.Unmarshal([]byte(out), &x) != nil || x.Matched || len(x.Detection.Rules) != 3 || x.Detection.Rules[2].Matched {
		t.Errorf("--json: exit %d\n%s", code, out)
	}
}

// TestRulesTestSaysWhy checks that a failing fixture says which conditions
// decided it, with the event's values.
func TestRulesTestSaysWhy(t *testing.T) {
	out, _, code := runCLI(t, "rules", "test", "--no-builtin", "testdata/failing")
	if code != 1 {
		t.Fatalf("exit %d\n%s", code, out)
	}
	testcheck.InOrder(t, "output", out, []string{
		"FAIL always_root",
		"FAIL always_root nomatch.yaml[0]: event should not match and did",
		`because ✓ event/USER is "root": actual "root"`,
		"rule always_root matched NEW_PROCESS event",
		`✓ event/USER is "root": actual "root"`,
	})
}
