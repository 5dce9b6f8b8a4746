package main

import (
	"bytes"
	"strings"
	"testing"
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
		{[]string{"rules", "validate", "testdata/falco/user_rules.yaml"}, "2 rules valid", "", 0},
		{[]string{"rules", "test", "testdata/falco/user_rules.yaml"}, "2 rules, 4 fixture checks passed", "", 0},
		{[]string{"rules", "validate", "../../internal/importer/sigma/testdata/proc_creation_lnx_base64_shell.yml"}, "1 rules valid", "", 0},
		{[]string{"rules", "validate", "../../rules/shadow_file_read.yaml"}, "1 rules valid, 28 lists", "", 0},
		{[]string{"rules", "test", "../../rules/shadow_file_read.yaml"}, "PASS shadow_file_read", "", 0},
		{[]string{"rules", "validate", "testdata/bad/bad_op.yaml"}, "", "bad_op.yaml:6: rule bad_op: unknown op", 1},
		{[]string{"rules", "validate", "rules_test.go"}, "", "not a rule file", 1},
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
