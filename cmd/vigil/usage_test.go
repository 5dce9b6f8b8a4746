package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// buildCLI builds cmd/vigil into a temporary directory for GOOS/GOARCH (the
// host's when empty), stamped with the version, and returns the binary's path.
// Modules come from the local cache only: a test sends nothing off the machine.
func buildCLI(t *testing.T, goos, goarch, version string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary: skipped with -short")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("the go command is not on PATH")
	}
	name := "vigil"
	if goos == "windows" {
		name += ".exe"
	}
	bin := filepath.Join(t.TempDir(), name)
	args := []string{"build", "-o", bin}
	if version != "" {
		args = append(args, "-ldflags", "-X github.com/vigil-sec/vigil/internal/version.Version="+version)
	}
	cmd := exec.Command(gobin, append(args, ".")...)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	if goos != "" {
		cmd.Env = append(cmd.Env, "GOOS="+goos, "GOARCH="+goarch)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		if bytes.Contains(out, []byte("GOPROXY=off")) {
			t.Skipf("a module %s/%s needs is not in the module cache (go mod download fetches it):\n%s", goos, goarch, out)
		}
		t.Fatalf("go build %s/%s: %v\n%s", goos, goarch, err, out)
	}
	return bin
}

// TestExitCodes runs the real binary: usage mistakes exit 2 at every level of
// the command tree, asking for help or the version exits 0.
func TestExitCodes(t *testing.T) {
	bin := buildCLI(t, "", "", "v1.2.3-4-gabcdef0")
	t.Setenv("VIGIL_API_URL", "")
	t.Setenv("VIGIL_API_KEY", "")
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{"unknown command", []string{"detectons"}, 2, "", `unknown command "detectons" for "vigil": did you mean detections?`},
		{"unknown subcommand", []string{"detections", "lst"}, 2, "", `unknown command "lst" for "vigil detections": did you mean get or list?`},
		{"unknown subcommand, two levels down", []string{"local", "keys", "lst"}, 2, "", `unknown command "lst" for "vigil local keys": did you mean list?`},
		{"unknown subcommand of a command that runs", []string{"local", "kyes"}, 2, "", "did you mean keys?"},
		{"unknown subcommand, no near name", []string{"task", "reboot", "s1"}, 2, "", `unknown command "reboot" for "vigil task" (see vigil task --help)`},
		{"unknown flag", []string{"sensors", "list", "--bogus"}, 2, "", "unknown flag: --bogus"},
		{"unknown flag at the top", []string{"--bogus"}, 2, "", "unknown flag: --bogus"},
		{"unknown shorthand flag", []string{"gate", "-z"}, 2, "", "unknown shorthand flag: 'z'"},
		{"extra argument", []string{"detections", "list", "extra"}, 2, "", `unknown command "extra" for "vigil detections list"`},
		{"extra argument to gate", []string{"gate", "--tag", "deployment:1", "now"}, 2, "", "(see vigil gate --help)"},
		{"extra argument to version", []string{"version", "now"}, 2, "", `unknown command "now" for "vigil version"`},
		{"missing argument", []string{"keys", "revoke"}, 2, "", "accepts 1 arg(s), received 0"},
		{"missing argument, own message", []string{"task", "isolate"}, 2, "", "task isolate: give exactly one sensor id"},
		{"--version", []string{"--version"}, 0, "vigil v1.2.3-4-gabcdef0\n", ""},
		{"-v", []string{"-v"}, 0, "vigil v1.2.3-4-gabcdef0\n", ""},
		{"version", []string{"version"}, 0, "vigil v1.2.3-4-gabcdef0\n", ""},
		{"help", []string{"help"}, 0, "Available Commands:", ""},
		{"--help", []string{"--help"}, 0, "Available Commands:", ""},
		{"no command", nil, 0, "Available Commands:", ""},
		{"help of a command", []string{"help", "gate"}, 0, "--allow-unmonitored", ""},
		{"help of an unknown command", []string{"help", "detections", "lst"}, 2, "", `unknown command "lst" for "vigil detections": did you mean get or list?`},
		{"--help of a subcommand", []string{"detections", "list", "--help"}, 0, "--severity", ""},
		{"a command group alone", []string{"detections"}, 0, "Available Commands:", ""},
		{"missing configuration", []string{"sensors", "list"}, 2, "", "VIGIL_API_URL is not set"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, tc.args...)
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			err := cmd.Run()
			code := 0
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tc.wantCode || !strings.Contains(stdout.String(), tc.wantStdout) || !strings.Contains(stderr.String(), tc.wantStderr) {
				t.Fatalf("vigil %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(tc.args, " "), code, tc.wantCode, stdout.String(), stderr.String())
			}
			if tc.wantCode != 0 && stdout.Len() != 0 {
				t.Errorf("a usage error printed to stdout:\n%s", stdout.String())
			}
		})
	}
}

// TestEveryCommandChecksArgs: every command that runs says which arguments it
// takes, so extra ones are refused (exit 2) rather than ignored.
func TestEveryCommandChecksArgs(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Runnable() && c.Args == nil {
			t.Errorf("%s has no Args validator (cobra.NoArgs, ExactArgs…)", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(newRoot())
}

// TestCrossBuild: the CLI builds for macOS and Windows, where every command but
// vigil local (which needs the Linux sensor) works.
func TestCrossBuild(t *testing.T) {
	for _, target := range [][2]string{{"darwin", "arm64"}, {"windows", "amd64"}} {
		t.Run(target[0]+"/"+target[1], func(t *testing.T) {
			t.Parallel()
			buildCLI(t, target[0], target[1], "")
		})
	}
}
