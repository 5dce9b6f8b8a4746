package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/version"
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

// TestCheckPrintsFilePrefixes: --check tells the collector's defaults (the
// setting left out) from no file events (an empty list in the file).
func TestCheckPrintsFilePrefixes(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"", "(the collector's defaults)"},
		{"file_path_prefixes: []\n", "(none: no file events)"},
		{"file_path_prefixes: [/etc/, /root/]\n", "/etc/,/root/"},
	} {
		path := filepath.Join(t.TempDir(), "sensor.yaml")
		_ = os.WriteFile(path, []byte("sensor_id: web-1\nstream: s\nimds: {enabled: false}\n"+tc.yaml), 0o600)
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--config", path, "--check"}, env(nil), &out, &errb); code != 0 {
			t.Fatalf("%q: exit %d: %s", tc.yaml, code, errb.String())
		}
		var line string
		for l := range strings.Lines(out.String()) {
			if strings.Contains(l, "file_path_prefixes") {
				line = l
			}
		}
		if !strings.Contains(line, tc.want) {
			t.Errorf("%q: --check printed %q, want %q", tc.yaml, line, tc.want)
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
	defer func(v string) { version.Version = v }(version.Version)
	version.Version = "v1.2.3-4-gabcdef0" // what make build stamps
	var out bytes.Buffer
	if code := run(context.Background(), []string{"--version"}, env(nil), &out, &out); code != 0 || out.String() != "vigil-sensor v1.2.3-4-gabcdef0\n" {
		t.Fatalf("exit %d: %q", code, out.String())
	}
}

// TestCheckReadsAPIKey: with response tasks on, --check (the unit's
// ExecStartPre) fails on a key file the sensor could not read at start.
func TestCheckReadsAPIKey(t *testing.T) {
	dir := t.TempDir()
	keyFile, emptyFile, unreadable := filepath.Join(dir, "api-key"), filepath.Join(dir, "empty"), filepath.Join(dir, "is-a-dir")
	_ = os.WriteFile(keyFile, []byte("vk_sensor\n"), 0o600)
	_ = os.WriteFile(emptyFile, []byte(" \n"), 0o600)
	_ = os.Mkdir(unreadable, 0o700)
	tests := []struct {
		name     string
		respond  string // the respond section of sensor.yaml
		wantCode int
		want     string // in stdout for 0, else in stderr
	}{
		{"key readable", "  api_url: https://api.example.com\n  api_key_file: " + keyFile + "\n", 0, keyFile},
		{"key file missing", "  api_url: https://api.example.com\n  api_key_file: " + filepath.Join(dir, "absent") + "\n", 2,
			":6: respond.api_key_file: open " + filepath.Join(dir, "absent") + ": no such file or directory"},
		{"key file empty", "  api_url: https://api.example.com\n  api_key_file: " + emptyFile + "\n", 2,
			"respond.api_key_file: " + emptyFile + " is empty"},
		{"key file unreadable", "  api_url: https://api.example.com\n  api_key_file: " + unreadable + "\n", 2,
			"respond.api_key_file: read " + unreadable},
		{"tasks off: the key is not read", "  api_key_file: " + filepath.Join(dir, "absent") + "\n", 0, "respond.api_key_file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sensor.yaml")
			_ = os.WriteFile(path, []byte("sensor_id: web-1\nstream: vigil-events\nimds: {enabled: false}\nrespond:\n"+tc.respond+
				"  backend: [kinesis.us-east-1.amazonaws.com]\n"), 0o600)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"--config", path, "--check"}, env(nil), &out, &errb)
			got := out.String()
			if tc.wantCode != 0 {
				got = errb.String()
			}
			if code != tc.wantCode || !strings.Contains(got, tc.want) {
				t.Fatalf("exit %d, want %d and %q:\n%s%s", code, tc.wantCode, tc.want, out.String(), errb.String())
			}
		})
	}
}

// TestCheckLoadsEdgeRules: with rules.edge, --check reads the rule set and
// prints the rules settings; a broken rule file fails it, naming the file.
func TestCheckLoadsEdgeRules(t *testing.T) {
	dir := t.TempDir()
	good, broken := filepath.Join(dir, "good"), filepath.Join(dir, "broken")
	for d, rule := range map[string]string{
		good:   "detection:\n  event: NEW_PROCESS\n  op: is\n  path: event/FILE_NAME\n  value: xmrig\nresponse:\n  - action: kill\n    edge: true\n",
		broken: "detection:\n  event: NEW_PROCESS\n  op: sometimes\nresponse:\n  - action: report\n    name: x\n",
	} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "site_rule.yaml"), []byte(rule), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name     string
		rules    string // the rules section of sensor.yaml
		wantCode int
		want     []string // in stdout for 0, else in stderr
	}{
		{"pack and a source", "rules: {edge: true, sources: [" + good + "]}\n", 0,
			[]string{"rules.edge           true", "rules.sources        " + good, "read_delay           20ms", "(default with rules.edge)"}},
		{"broken source", "rules: {edge: true, sources: [" + broken + "]}\n", 2,
			[]string{filepath.Join(broken, "site_rule.yaml") + ":3", "sometimes"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sensor.yaml")
			_ = os.WriteFile(path, []byte("sensor_id: web-1\nstream: s\nimds: {enabled: false}\n"+tc.rules), 0o600)
			var out, errb bytes.Buffer
			code := run(context.Background(), []string{"--config", path, "--check"}, env(nil), &out, &errb)
			got := out.String()
			if code != 0 {
				got = errb.String()
			}
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.wantCode, out.String(), errb.String())
			}
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("output lacks %q:\n%s", w, got)
				}
			}
		})
	}
}

// TestKubernetesNeedsItsFiles: kubernetes.enabled true without the CA, or
// without a node name or URL, stops the sensor before it starts, saying why.
func TestKubernetesNeedsItsFiles(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ yaml, node, want string }{
		{"kubernetes:\n  enabled: true\n  ca_file: " + filepath.Join(dir, "none.crt") + "\n", "node-1", "kubelet CA"},
		{"kubernetes: true\n", "", "NODE_NAME"},
	} {
		path := filepath.Join(dir, "sensor.yaml")
		_ = os.WriteFile(path, []byte("local_dir: "+dir+"\nimds: false\n"+tc.yaml), 0o600)
		var out, errb bytes.Buffer
		code := run(context.Background(), []string{"--config", path}, env(map[string]string{"NODE_NAME": tc.node}), &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.want) {
			t.Errorf("%q: exit %d: %s", tc.yaml, code, errb.String())
		}
	}
}
