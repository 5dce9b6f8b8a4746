package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/testcheck"
	"github.com/vigil-sec/vigil/rules"
)

// TestRulesFileFormats: validate and test take single files in each format, told
// apart by content, with fixtures under testdata/ beside the file.
func TestRulesFileFormats(t *testing.T) {
	tests := []struct {
		args     []string
		wantOut  string
		wantErr  string
		exitCode int
	}{
		{[]string{"rules", "validate", "--no-builtin", "testdata/falco/user_rules.yaml"}, "2 rules valid", "", 0},
		{[]string{"rules", "test", "--no-builtin", "testdata/falco/user_rules.yaml"}, "2 rules, 4 fixture checks passed", "", 0},
		{[]string{"rules", "validate", "--no-builtin", "../../internal/importer/sigma/testdata/proc_creation_lnx_base64_shell.yml"}, "1 rules valid", "", 0},
		{[]string{"rules", "validate", "--no-builtin", "../../rules/shadow_file_read.yaml"}, "1 rules valid, 32 lists", "", 0},
		{[]string{"rules", "test", "--no-builtin", "../../rules/shadow_file_read.yaml"}, "PASS shadow_file_read", "", 0},
		{[]string{"rules", "validate", "../../rules/shadow_file_read.yaml"}, "", "rule shadow_file_read is defined twice: here and at builtin/shadow_file_read.yaml:4", 1},
		{[]string{"rules", "validate", "testdata/bad/bad_op.yaml"}, "", "bad_op.yaml:6: rule bad_op: unknown op", 1},
		{[]string{"rules", "validate", "rules_test.go"}, "", "invalid YAML: yaml: line", 1},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			root := newRoot()
			var out, errOut bytes.Buffer
			root.SetOut(&out)
			root.SetErr(&errOut)
			root.SetArgs(tc.args)
			err := root.Execute()
			if code := exitCode(err); code != tc.exitCode {
				t.Fatalf("exit code %d (%v), want %d", code, err, tc.exitCode)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}

// TestRulesSources: validate and test take several sources (the built-in pack
// unless --no-builtin, a directory mixing Vigil, Falco and Sigma files, a tuning
// file) as one rule set, and report every error of every broken file.
func TestRulesSources(t *testing.T) {
	pack, err := engine.LoadPack(rules.FS, ".")
	if err != nil {
		t.Fatal(err)
	}
	n := len(pack.Rules)
	team, tuningFile, broken := "testdata/sources/team", "testdata/sources/tuning.yaml", "testdata/sources/broken"
	tests := []struct {
		name     string
		args     []string
		wantOut  []string // in order
		wantErr  []string
		exitCode int
	}{
		{
			name: "validate the pack, a team's tree and a tuning file",
			args: []string{"rules", "validate", team, tuningFile},
			wantOut: []string{
				fmt.Sprintf("builtin: %d rules (vigil), 1 lists file", n),
				"testdata/sources/team: 3 rules (1 vigil, 1 falco, 1 sigma)",
				"testdata/sources/tuning.yaml: 1 tuning file",
				"tuning testdata/sources/tuning.yaml:3: rule network_scanner_executed: disabled",
				`tuning testdata/sources/tuning.yaml:7: rule binary_executed_from_tmp: exception ci_workspace: event/FILE_PATH starts with "/tmp/ci-workspace/" and event/USER is "runner"`,
				"tuning testdata/sources/tuning.yaml:12: rule python_reads_aws_credentials: severity medium → high",
				fmt.Sprintf("%d rules valid (1 disabled by tuning)", n+3-1),
			},
		},
		{
			name: "test them: the team's fixtures run, the pack's on the tuned rules, the disabled rule's not",
			args: []string{"rules", "test", team, tuningFile},
			wantOut: []string{
				"PASS binary_executed_from_tmp", "PASS outbound_to_miner_port", "PASS python_reads_aws_credentials", "PASS shell_from_tmp",
				fmt.Sprintf("%d rules, %d fixture checks passed; 1 disabled by tuning", n+3-1, 2*(n+3-1)),
			},
		},
		{
			name:     "without the pack the team's rule misses the pack's list, and the tuning selects nothing",
			args:     []string{"rules", "validate", "--no-builtin", team, tuningFile},
			wantOut:  []string{"testdata/sources/team: 2 rules (1 falco, 1 sigma)"},
			wantErr:  []string{`testdata/sources/team/vigil/shell_from_tmp.yaml:8: rule shell_from_tmp: unknown list "shells"`},
			exitCode: 1,
		},
		{
			name:    "fixtures are looked for within each source",
			args:    []string{"rules", "test", "--no-builtin", team + "/falco", team + "/sigma"},
			wantOut: []string{"0 rules, 0 fixture checks passed; 2 rules without fixtures"},
		},
		{
			name: "every error of every broken file in one run",
			args: []string{"rules", "validate", "--no-builtin", broken},
			wantErr: []string{
				"testdata/sources/broken/bad_yaml.yaml:5: invalid YAML: yaml: line 5:",
				"testdata/sources/broken/half_sigma.yml:1: not a rule file: a Sigma rule needs title:, logsource: and detection:",
				`testdata/sources/broken/typo_path.yaml:4: rule typo_path: unknown path "event/COMANDLINE": did you mean event/COMMAND_LINE?`,
				`testdata/sources/broken/tuning.yaml:3: tuning entry: unknown key "enabeld": did you mean enabled?`,
			},
			exitCode: 1,
		},
		{
			name: "the broken files stop test too",
			args: []string{"rules", "test", broken},
			wantErr: []string{"testdata/sources/broken/bad_yaml.yaml:5:", "testdata/sources/broken/half_sigma.yml:1:",
				"testdata/sources/broken/typo_path.yaml:4:", "testdata/sources/broken/tuning.yaml:3:"},
			exitCode: 1,
		},
		{
			name:     "a warning fails --strict",
			args:     []string{"rules", "validate", "--strict", "--no-builtin", tuningFile, team + "/falco"},
			wantErr:  []string{"3 warnings (--strict)"},
			exitCode: 1,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runVigil(tc.args...)
			if code := exitCode(err); code != tc.exitCode {
				t.Fatalf("exit code %d (%v), want %d\nstdout:\n%s", code, err, tc.exitCode, out)
			}
			if len(tc.wantErr) > 0 {
				testcheck.ErrorLines(t, err, tc.wantErr)
			}
			testcheck.InOrder(t, "output", out, tc.wantOut)
		})
	}
}
