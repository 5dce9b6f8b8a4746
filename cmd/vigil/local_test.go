package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/collector"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLocalDetectsExec runs the embedded pipeline, execs a process the
// privileged_docker_container rule catches, and expects its detection as a JSON line
// on stdout and the events in the local lake after shutdown.
func TestLocalDetectsExec(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker")
	copyFile(t, "/bin/true", docker)
	lake := filepath.Join(dir, "lake")

	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- runLocal(ctx, localOptions{json: true, lake: lake, sensorID: "test-sensor", tags: []string{"env:test"}, batch: 100 * time.Millisecond}, &stdout, &stderr)
	}()
	waitFor(t, "the sensor to start", func() bool { return strings.Contains(stderr.String(), "vigil local running") }, &stderr)

	cmd := exec.Command(docker, "run", "--privileged", "alpine")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	var d map[string]any
	waitFor(t, "the detection", func() bool {
		for _, line := range strings.Split(stdout.String(), "\n") {
			var x map[string]any
			if json.Unmarshal([]byte(line), &x) == nil && x["rule"] == "privileged_docker_container" {
				body := x["event"].(map[string]any)["event"].(map[string]any)
				if body["PROCESS_ID"] == float64(pid) {
					d = x
					return true
				}
			}
		}
		return false
	}, &stderr)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("runLocal: %v\n%s", err, stderr.String())
	}

	body := d["event"].(map[string]any)["event"].(map[string]any)
	routing := d["event"].(map[string]any)["routing"].(map[string]any)
	for k, want := range map[string]any{"FILE_PATH": docker, "COMMAND_LINE": docker + " run --privileged alpine", "USER": "root"} {
		if body[k] != want {
			t.Errorf("event/%s = %v, want %v", k, body[k], want)
		}
	}
	if d["severity"] != "medium" || d["sensor_id"] != "test-sensor" || routing["event_type"] != "NEW_PROCESS" {
		t.Errorf("detection = %v", d)
	}
	for _, k := range []string{"id", "time", "hostname"} {
		if s, _ := d[k].(string); s == "" {
			t.Errorf("detection has no %s: %v", k, d)
		}
	}

	files, err := (&local.Lake{Dir: lake}).Files()
	if err != nil || len(files) == 0 {
		t.Fatalf("no lake files (%v)", err)
	}
	found := false
	for _, f := range files {
		if !strings.HasPrefix(f, "events/dt=") || !strings.Contains(f, "/sensor=test-sensor/") {
			t.Errorf("lake key %s is not in the Hive layout", f)
		}
		data, err := os.ReadFile(filepath.Join(lake, f))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := event.Decode(nil, data, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range evs {
			if e.PID == uint32(pid) && e.Type == event.NewProcess && e.FilePath == docker {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the exec of pid %d is not in the lake", pid)
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
		{[]string{"rules", "test", "testdata/failing"}, "1 of 2 fixture checks failed", "FAIL always_root", 1},
		{[]string{"rules", "test", "no/such/dir"}, "not a directory", "", 2},
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

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, what string, cond func() bool, log *syncBuffer) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; log:\n%s", what, log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
