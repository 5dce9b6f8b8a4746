package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestCheckPrintsSettledConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	_ = os.WriteFile(path, []byte("sensor_id: web-1\nstream: vigil-events\ntags: {env: prod}\nimds: {enabled: false}\n"), 0o600)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--config", path, "--check", "--tag", "env:prod", "--tag", "deployment:d-1"},
		env(map[string]string{"VIGIL_ROLL_INTERVAL": "1m"}), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	for _, want := range []string{"web-1", "(config)", "env:prod,deployment:d-1", "vigil-events", "1m0s", "(environment VIGIL_ROLL_INTERVAL)", path + ":2"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--check output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestBadConfigExits2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	_ = os.WriteFile(path, []byte("stream: s\nspool:\n  max_bytes: lots\n"), 0o600)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--config", path}, env(nil), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), path+":3: spool.max_bytes") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--config", filepath.Join(t.TempDir(), "absent.yaml")}, env(nil), &out, &errb); code != 2 {
		t.Fatalf("a missing --config file: exit %d", code)
	}
	errb.Reset()
	if code := run(context.Background(), []string{"--config", "/nonexistent/default/sensor.yaml", "--imds=false"}, env(nil), &out, &errb); code != 2 {
		t.Fatalf("exit %d", code)
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, env(nil), &out, &out); code != 0 || strings.TrimSpace(out.String()) != "dev" {
		t.Fatalf("exit %d: %q", code, out.String())
	}
}
