package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/localrun"
)

// recordedLake is a build host's recording: a heartbeat, 120 make runs and a
// privileged docker run, in one lake file (internal/localrun's TestLakeFixture
// keeps it).
const recordedLake = "../../internal/localrun/testdata/lake"

// TestLocalReplayCLI replays the recorded lake from the command line: with
// --json each new detection and then the summary as JSON lines on stdout; a
// second replay on the same store prints no detection (they are stored) and the
// summary as text.
func TestLocalReplayCLI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	out, err := runVigil("local", "--replay", recordedLake, "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var last struct{ Replay localrun.Summary }
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatalf("last line %q: %v", lines[len(lines)-1], err)
	}
	sum := last.Replay
	if sum.Files != 1 || sum.Events != 122 || sum.ByRule["privileged_docker_container"] != 1 || sum.Detections != len(lines)-1 {
		t.Errorf("summary %+v after %d detection lines", sum, len(lines)-1)
	}
	for _, line := range lines[:len(lines)-1] {
		var d struct{ ID, Rule string }
		if err := json.Unmarshal([]byte(line), &d); err != nil || d.ID == "" || sum.ByRule[d.Rule] == 0 {
			t.Errorf("detection line %q (%v): want one of a rule the summary counts", line, err)
		}
	}

	out, err = runVigil("local", "--replay", recordedLake, "--data", data)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "replay: 1 files, 122 events, ") || !strings.Contains(out, "       1  privileged_docker_container\n") || strings.Contains(out, "{") {
		t.Errorf("the second replay printed:\n%s", out)
	}
}

// TestLocalUsageErrors: what vigil local cannot run with exits 2 with the reason.
func TestLocalUsageErrors(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"no replay there", []string{"--replay", "testdata/nope"}, "local: --replay: stat testdata/nope"},
		{"a replay without Parquet files", []string{"--replay", "testdata/bad"}, "local: --replay: testdata/bad holds no .parquet files"},
		{"a webhook that is not http(s)", []string{"--replay", recordedLake, "--webhook", "ftp://x"}, `local: --webhook "ftp://x": want an http(s) URL`},
		{"a directory as model", []string{"--replay", recordedLake, "--model", recordedLake}, "local: --model: read " + recordedLake},
		{"no rules", []string{"--replay", recordedLake, "--no-builtin"}, "no rules: --no-builtin leaves out the built-in pack"},
		{"a broken rule file", []string{"--replay", recordedLake, "--rules", "testdata/bad"}, "testdata/bad/bad_op.yaml:6: rule bad_op: unknown op"},
		{"an address that cannot be listened on", []string{"--replay", recordedLake, "--serve", "--listen", "127.0.0.1:99999"}, "local: --listen 127.0.0.1:99999"},
		{"a bad flag value", []string{"--replay", recordedLake, "--batch-interval", "soon"}, `invalid argument "soon" for "--batch-interval"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"local", "--data", filepath.Join(t.TempDir(), "data")}, tt.args...)
			_, err := runVigil(args...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("exit code %d, error %v; want 2 and %q", exitCode(err), err, tt.wantErr)
			}
		})
	}
}

// TestLocalNotRoot runs the binary as an unprivileged user: one line saying why
// and how, exit code 2.
func TestLocalNotRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} { // the unprivileged user must reach the binary
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bin := filepath.Join(dir, "vigil")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "local")
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 2 {
		t.Fatalf("exit = %v, want code 2; stderr: %s", err, stderr.String())
	}
	msg := strings.TrimSpace(stderr.String())
	if strings.Count(msg, "\n") != 0 || !strings.Contains(msg, "root") || !strings.Contains(msg, "sudo") {
		t.Errorf("message %q: want one line saying why (root) and how (sudo)", msg)
	}
}

func TestRulesCommands(t *testing.T) {
	tests := []struct {
		args     []string
		wantErr  string
		wantOut  string
		exitCode int
	}{
		{[]string{"rules", "test"}, "", "fixture checks passed", 0},
		{[]string{"rules", "validate"}, "", "rules valid", 0},
		{[]string{"rules", "validate", "testdata/bad"}, "testdata/bad/bad_op.yaml:6: rule bad_op: unknown op", "", 1},
		{[]string{"rules", "test", "--no-builtin", "testdata/failing"}, "1 of 1 rules failed (1 of 2 fixture checks failed)", "FAIL always_root", 1},
		{[]string{"rules", "test", "no/such/dir"}, "not a directory", "", 2},
		{[]string{"rules", "test", "--no-builtin"}, "no rules", "", 2},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			root := newRoot()
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(tc.args)
			err := root.Execute()
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if code := exitCode(err); code != tc.exitCode {
				t.Errorf("exit code %d, want %d", code, tc.exitCode)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Errorf("output %q lacks %q", out.String(), tc.wantOut)
			}
		})
	}
}
