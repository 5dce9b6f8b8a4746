package agent

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// printGODEBUGEnv makes the test binary print the GODEBUG it runs with, after
// TestMain's WithRuntimeSettings, and exit.
const printGODEBUGEnv = "VIGIL_AGENT_PRINT_GODEBUG"

func TestWithRuntimeSettings(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		godebug []string // the GODEBUG entries of the environment
		want    string
	}{
		{"unset", nil, "madvdontneed=0"},
		{"empty", []string{"GODEBUG="}, "madvdontneed=0"},
		{"others kept", []string{"GODEBUG=gctrace=0,x509sha1=1"}, "gctrace=0,x509sha1=1,madvdontneed=0"},
		{"set by the user", []string{"GODEBUG=madvdontneed=1"}, "madvdontneed=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(self, "-test.run=^$")
			for _, kv := range os.Environ() {
				if !strings.HasPrefix(kv, "GODEBUG=") {
					cmd.Env = append(cmd.Env, kv)
				}
			}
			cmd.Env = append(cmd.Env, printGODEBUGEnv+"=1")
			cmd.Env = append(cmd.Env, tc.godebug...)
			out, err := cmd.Output()
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != tc.want {
				t.Errorf("GODEBUG = %q, want %q", out, tc.want)
			}
		})
	}
}
