package config

import (
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func write(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sensor.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const full = `# the sensor
sensor_id: web-1
tags:
  env: prod
  deployment: d-42
stream: vigil-events
lake_bucket: vigil-lake
region: eu-west-1
spool:
  dir: /var/lib/vigil/spool
  max_bytes: 2GiB
batch_interval: 500ms
roll_interval: 2m
roll_bytes: 32MiB
file_path_prefixes: [/etc/, /root/.ssh/]
statsd: 127.0.0.1:8125
ring_buffer: 64MiB
read_delay: 500ms
process:
  ancestry_depth: 12
  environment: [LD_PRELOAD, "MY_*"]
  package_ownership: true
imds:
  enabled: false
  instance_tags: true
`

func TestLayers(t *testing.T) {
	path := write(t, full)
	fs := flag.NewFlagSet("vigil-sensor", flag.ContinueOnError)
	c := Default()
	c.Flags(fs)
	if err := fs.Parse([]string{"--stream", "from-flag", "--tag", "team:sec", "--tag", "tier:web"}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(path, env(map[string]string{"VIGIL_REGION": "us-east-2", "VIGIL_SPOOL_MAX_BYTES": "3GiB", "VIGIL_STREAM": "from-env"}), fs)
	if err != nil {
		t.Fatal(err)
	}
	if got.SensorID != "web-1" || got.LakeBucket != "vigil-lake" || got.BatchInterval != 500*time.Millisecond ||
		got.RollInterval != 2*time.Minute || got.RollBytes != 32<<20 || got.Statsd != "127.0.0.1:8125" ||
		got.IMDS != IMDSFalse || !got.IMDSInstanceTags || got.SpoolDir != "/var/lib/vigil/spool" {
		t.Fatalf("file values: %+v", got)
	}
	if got.Region != "us-east-2" || got.SpoolMaxBytes != 3<<30 {
		t.Fatalf("env did not override: %+v", got)
	}
	if got.Stream != "from-flag" || !slices.Equal(got.Tags, []string{"team:sec", "tier:web"}) {
		t.Fatalf("flags did not override: stream %q tags %v", got.Stream, got.Tags)
	}
	if !slices.Equal(got.FilePathPrefixes, []string{"/etc/", "/root/.ssh/"}) {
		t.Fatalf("prefixes %v", got.FilePathPrefixes)
	}
	if got.AncestryDepth != 12 || !slices.Equal(got.Environment, []string{"LD_PRELOAD", "MY_*"}) || !got.PackageOwnership {
		t.Fatalf("process: depth %d environment %v package ownership %v", got.AncestryDepth, got.Environment, got.PackageOwnership)
	}
	if got.RingBuffer != 64<<20 || got.ReadDelay != 500*time.Millisecond {
		t.Fatalf("ring buffer %d, read delay %v", got.RingBuffer, got.ReadDelay)
	}
	if got.Source("stream") != "flag --stream" || got.Source("region") != "environment VIGIL_REGION" ||
		got.Source("roll_bytes") != path+":14" || got.Source("grace") != "default" {
		t.Fatalf("sources: %s %s %s %s", got.Source("stream"), got.Source("region"), got.Source("roll_bytes"), got.Source("grace"))
	}
}

func TestTagsAsList(t *testing.T) {
	c := Default()
	if err := c.Parse("x.yaml", []byte("tags: [env:prod, deployment:d-1]\nstream: s\n")); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Tags, []string{"env:prod", "deployment:d-1"}) {
		t.Fatalf("tags %v", c.Tags)
	}
}

func TestErrorsNameWhere(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		want       string
	}{
		{"unknown field", "stream: s\nstrem: x\n", nil, `sensor.yaml:2: unknown field "strem"`},
		{"unknown nested field", "stream: s\nspool:\n  dri: /x\n", nil, `sensor.yaml:3: unknown field "spool.dri" (known: dir, max_bytes)`},
		{"bad size", "stream: s\nspool:\n  max_bytes: lots\n", nil, `sensor.yaml:3: spool.max_bytes: "lots" is not a size`},
		{"bad duration", "stream: s\nbatch_interval: soon\n", nil, `sensor.yaml:2: batch_interval: "soon" is not a positive duration`},
		{"bad bool", "stream: s\ns3_path_style: maybe\n", nil, `sensor.yaml:2: s3_path_style: "maybe" is not true or false`},
		{"bad imds.enabled", "stream: s\nimds:\n  enabled: maybe\n", nil, `sensor.yaml:3: imds.enabled: "maybe" is not auto, true or false`},
		{"bad imds", "stream: s\nimds: maybe\n", nil, `sensor.yaml:2: imds: "maybe" is not auto, true or false`},
		{"imds list", "stream: s\nimds: [auto]\n", nil, `sensor.yaml:2: imds: want a single value`},
		{"bad imds env", "stream: s\n", map[string]string{"VIGIL_IMDS_ENABLED": "sometimes"}, `environment VIGIL_IMDS_ENABLED (imds.enabled): "sometimes" is not auto, true or false`},
		{"bad tag", "stream: s\ntags: [prod]\n", nil, `sensor.yaml:2: tags: tag "prod" is not K:V`},
		{"relative prefix", "stream: s\nfile_path_prefixes: [etc/]\n", nil, `sensor.yaml:2: file_path_prefixes: "etc/" is not an absolute path prefix`},
		{"ring buffer not a power of two", "stream: s\nring_buffer: 10MiB\n", nil, `sensor.yaml:2: ring_buffer: "10MiB" is not a power of two from 64KiB to 1GiB`},
		{"ring buffer too small", "stream: s\nring_buffer: 4KiB\n", nil, `sensor.yaml:2: ring_buffer: "4KiB" is not a power of two from 64KiB to 1GiB`},
		{"ancestry too deep", "stream: s\nprocess:\n  ancestry_depth: 65\n", nil, `sensor.yaml:3: process.ancestry_depth: "65" is not a number from 0 to 64`},
		{"bad variable", "stream: s\nprocess:\n  environment: [A=B]\n", nil, `sensor.yaml:3: process.environment: "A=B" is not a variable name`},
		{"bad read delay", "stream: s\nread_delay: 0s\n", nil, `sensor.yaml:2: read_delay: "0s" is not a positive duration`},
		{"list for scalar", "stream: [a, b]\n", nil, `sensor.yaml:1: stream: want a single value`},
		{"not a mapping", "- stream\n", nil, `sensor.yaml:1: the configuration must be a mapping`},
		{"yaml syntax", "stream: s\n  bad: indent\n", nil, `sensor.yaml: yaml: line 2`},
		{"nowhere to ship", "sensor_id: x\n", nil, "nowhere to ship"},
		{"roll too long", "stream: s\nroll_interval: 2h\n", nil, `sensor.yaml:2: roll_interval: 2h0m0s is longer than an hour`},
		{"spool smaller than a file", "stream: s\nspool:\n  max_bytes: 10MiB\n", nil, `sensor.yaml:3: spool.max_bytes: 10485760 bytes cannot hold one lake file`},
		{"env", "stream: s\n", map[string]string{"VIGIL_BATCH_INTERVAL": "-1s"}, `environment VIGIL_BATCH_INTERVAL (batch_interval): "-1s" is not a positive duration`},
		{"respond url", "stream: s\nrespond:\n  api_url: ftp://x\n  backend: [a]\n", nil, `sensor.yaml:3: respond.api_url: "ftp://x" is not an http(s) URL`},
		{"respond without backend", "stream: s\nrespond:\n  api_url: https://api\n", nil, `respond.backend: empty: an isolated host would lose the backend`},
		{"poll under a second", "stream: s\nrespond:\n  poll_interval: 500ms\n", nil, `sensor.yaml:3: respond.poll_interval: "500ms" is not a duration of at least 1s`},
		{"poll not a duration", "stream: s\nrespond:\n  poll_interval: often\n", nil, `sensor.yaml:3: respond.poll_interval: "often" is not a duration of at least 1s`},
		{"poll env", "stream: s\n", map[string]string{"VIGIL_RESPOND_POLL_INTERVAL": "0s"}, `environment VIGIL_RESPOND_POLL_INTERVAL (respond.poll_interval): "0s" is not a duration of at least 1s`},
		{"bell without api", "stream: s\nrespond:\n  task_bell_table: vigil-bells\n", nil, `sensor.yaml:3: respond.task_bell_table: set, but respond.api_url is empty`},
		{"bell not a table", "stream: s\nrespond:\n  api_url: https://api\n  backend: [a]\n  task_bell_table: \"a b\"\n", nil, `sensor.yaml:5: respond.task_bell_table: "a b" is not a DynamoDB table name`},
		{"full poll not a duration", "stream: s\nrespond:\n  full_poll_interval: hourly\n", nil, `sensor.yaml:3: respond.full_poll_interval: "hourly" is not a duration of at least 1s`},
		{"full poll under poll", "stream: s\nrespond:\n  api_url: https://api\n  backend: [a]\n  poll_interval: 1m\n  full_poll_interval: 30s\n", nil, `sensor.yaml:6: respond.full_poll_interval: 30s is shorter than respond.poll_interval (1m0s)`},
		{"rules without edge", "stream: s\nrules:\n  sources: [/etc/vigil/rules]\n", nil, `sensor.yaml:3: rules.sources: set, but rules.edge is not true`},
		{"enforce without edge", "stream: s\nrules:\n  enforce: true\n", nil, `sensor.yaml:3: rules.enforce: set, but rules.edge is not true`},
		{"empty rule set", "stream: s\nrules:\n  edge: true\n  builtin: false\n", nil, `sensor.yaml:4: rules.builtin: false, and no rules.sources`},
		{"enforce without backend", "stream: s\nrules: {edge: true, enforce: true}\n", nil, `respond.backend: empty: an edge isolate would cut the host off`},
		{"bad edge", "stream: s\nrules:\n  edge: often\n", nil, `sensor.yaml:3: rules.edge: "often" is not true or false`},
		{"health listen without port", "stream: s\nhealth:\n  listen: 127.0.0.1\n", nil, `sensor.yaml:3: health.listen: "127.0.0.1" is not host:port`},
		{"health listen bad port", "stream: s\nhealth:\n  listen: \":http\"\n", nil, `sensor.yaml:3: health.listen: ":http": port "http" is not a number`},
		{"health port out of range", "stream: s\n", map[string]string{"VIGIL_HEALTH_LISTEN": "127.0.0.1:70000"}, `environment VIGIL_HEALTH_LISTEN (health.listen): "127.0.0.1:70000": port "70000"`},
		{"health threshold", "stream: s\nhealth:\n  failure_threshold: 0s\n", nil, `sensor.yaml:3: health.failure_threshold: "0s" is not a positive duration`},
		{"two lakes", "lake_bucket: b\n", map[string]string{"VIGIL_LOCAL_DIR": "/tmp/l"}, `environment VIGIL_LOCAL_DIR: local_dir: local_dir and lake_bucket (`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load(write(t, tc.yaml), env(tc.env), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

// TestHealth: the health probes are off by default; the section sets the
// address and the threshold.
func TestHealth(t *testing.T) {
	c, err := Load(write(t, "stream: s\n"), env(nil), nil)
	if err != nil || c.HealthListen != "" || c.HealthFailureThreshold != 5*time.Minute {
		t.Fatalf("defaults: %q %v (%v)", c.HealthListen, c.HealthFailureThreshold, err)
	}
	c, err = Load(write(t, "stream: s\nhealth:\n  listen: 127.0.0.1:9808\n  failure_threshold: 2m\n"), env(nil), nil)
	if err != nil || c.HealthListen != "127.0.0.1:9808" || c.HealthFailureThreshold != 2*time.Minute || !strings.HasSuffix(c.Source("health.listen"), ":3") {
		t.Fatalf("file: %q %v %s (%v)", c.HealthListen, c.HealthFailureThreshold, c.Source("health.listen"), err)
	}
	c, err = Load(write(t, "stream: s\n"), env(map[string]string{"VIGIL_HEALTH_LISTEN": ":9808"}), nil)
	if err != nil || c.HealthListen != ":9808" {
		t.Fatalf("env: %q (%v)", c.HealthListen, err)
	}
}

// TestEdgeRules: the rules section, and read_delay's default with rules.edge.
func TestEdgeRules(t *testing.T) {
	tests := []struct {
		name, yaml  string
		env         map[string]string
		edge        bool
		sources     []string
		builtin     bool
		enforce     bool
		readDelay   time.Duration
		delaySource string
	}{
		{"off", "stream: s\n", nil, false, nil, true, false, 250 * time.Millisecond, "default"},
		{"edge", "stream: s\nrules: {edge: true}\n", nil, true, nil, true, false, EdgeReadDelay, "default with rules.edge"},
		{"edge keeps a read delay given", "stream: s\nread_delay: 5ms\nrules: {edge: true}\n", nil, true, nil, true, false, 5 * time.Millisecond, "sensor.yaml:2"},
		{"sources without the pack", "stream: s\nrules:\n  edge: true\n  builtin: false\n  sources: [/etc/vigil/rules, /etc/vigil/tuning.yaml]\n", nil,
			true, []string{"/etc/vigil/rules", "/etc/vigil/tuning.yaml"}, false, false, EdgeReadDelay, "default with rules.edge"},
		{"enforced from the environment", "stream: s\nrespond: {backend: [kinesis.eu-west-1.amazonaws.com]}\n",
			map[string]string{"VIGIL_RULES_EDGE": "true", "VIGIL_RULES_ENFORCE": "true", "VIGIL_RULES_SOURCES": "/a,/b"},
			true, []string{"/a", "/b"}, true, true, EdgeReadDelay, "default with rules.edge"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Load(write(t, tc.yaml), env(tc.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if c.EdgeRules != tc.edge || !slices.Equal(c.RuleSources, tc.sources) || c.BuiltinRules != tc.builtin || c.EnforceEdge != tc.enforce {
				t.Errorf("rules: edge %v sources %v builtin %v enforce %v", c.EdgeRules, c.RuleSources, c.BuiltinRules, c.EnforceEdge)
			}
			if c.ReadDelay != tc.readDelay || !strings.HasSuffix(c.Source("read_delay"), tc.delaySource) {
				t.Errorf("read_delay %v (%s), want %v (%s)", c.ReadDelay, c.Source("read_delay"), tc.readDelay, tc.delaySource)
			}
		})
	}
}

func TestFlagErrors(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	c := Default()
	c.Flags(fs)
	_ = fs.Parse([]string{"--roll-bytes", "12 bananas", "--stream", "s"})
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"), env(nil), fs)
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Fatalf("a missing explicit file: %v", err)
	}
	err = c.ApplyFlags(fs)
	if err == nil || !strings.Contains(err.Error(), `flag --roll-bytes (roll_bytes): "12 bananas" is not a size`) {
		t.Fatalf("err = %v", err)
	}
}

// TestRespondPollInterval: 30 s unless the file, the environment or the flag
// says otherwise (each overriding the one before); a bad flag names the key.
func TestRespondPollInterval(t *testing.T) {
	tests := []struct {
		name, yaml string
		env        map[string]string
		flags      []string
		want       time.Duration
		source     string
	}{
		{"default", "stream: s\n", nil, nil, 30 * time.Second, "default"},
		{"file", "stream: s\nrespond:\n  poll_interval: 5s\n", nil, nil, 5 * time.Second, ":3"},
		{"environment", "stream: s\nrespond:\n  poll_interval: 5s\n", map[string]string{"VIGIL_RESPOND_POLL_INTERVAL": "1m"}, nil,
			time.Minute, "environment VIGIL_RESPOND_POLL_INTERVAL"},
		{"flag", "stream: s\n", map[string]string{"VIGIL_RESPOND_POLL_INTERVAL": "1m"}, []string{"--respond-poll-interval", "1s"},
			time.Second, "flag --respond-poll-interval"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("vigil-sensor", flag.ContinueOnError)
			c := Default()
			c.Flags(fs)
			if err := fs.Parse(tc.flags); err != nil {
				t.Fatal(err)
			}
			got, err := Load(write(t, tc.yaml), env(tc.env), fs)
			if err != nil {
				t.Fatal(err)
			}
			if got.RespondPollInterval != tc.want || !strings.HasSuffix(got.Source("respond.poll_interval"), tc.source) {
				t.Errorf("poll interval %v from %s, want %v from …%s", got.RespondPollInterval, got.Source("respond.poll_interval"), tc.want, tc.source)
			}
		})
	}
	fs := flag.NewFlagSet("vigil-sensor", flag.ContinueOnError)
	c := Default()
	c.Flags(fs)
	if err := fs.Parse([]string{"--respond-poll-interval", "100ms"}); err != nil {
		t.Fatal(err)
	}
	err := c.ApplyFlags(fs)
	if err == nil || !strings.Contains(err.Error(), `flag --respond-poll-interval (respond.poll_interval): "100ms" is not a duration of at least 1s`) {
		t.Fatalf("err = %v", err)
	}
}

// TestShippingDefaults: a lake file every 15 minutes, tasks every 30 s.
func TestShippingDefaults(t *testing.T) {
	c := Default()
	if c.RollInterval != 15*time.Minute || c.RespondPollInterval != 30*time.Second || c.BatchInterval != time.Second {
		t.Errorf("roll_interval %v, respond.poll_interval %v, batch_interval %v; want 15m, 30s, 1s",
			c.RollInterval, c.RespondPollInterval, c.BatchInterval)
	}
}

func TestDefaultPathMayBeAbsent(t *testing.T) {
	c := Default()
	if err := c.LoadFile(filepath.Join(t.TempDir(), "absent.yaml"), false); err != nil {
		t.Fatal(err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "512MiB": 512 << 20, "2GiB": 2 << 30, "64MB": 64e6, "10 KiB": 10 << 10} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "1PB", "MiB", "99999999999GiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) succeeded", in)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(full))
	f.Add([]byte("tags: {a: [1]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := Default()
		_ = c.Parse("fuzz.yaml", data)
		_ = c.Validate()
	})
}

// TestFilePathPrefixesEmpty: an explicit empty list turns file events off (an
// empty, non-nil list for the collector); an absent or null field keeps the
// collector's defaults (nil).
func TestFilePathPrefixesEmpty(t *testing.T) {
	tests := []struct {
		file    string
		want    []string
		wantNil bool
	}{
		{"prefixes-absent.yaml", nil, true},
		{"prefixes-null.yaml", nil, true},
		{"prefixes-empty.yaml", []string{}, false},
		{"prefixes-list.yaml", []string{"/etc/", "/root/.ssh/"}, false},
	}
	for _, tc := range tests {
		got, err := Load(filepath.Join("testdata", tc.file), env(nil), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if (got.FilePathPrefixes == nil) != tc.wantNil || !slices.Equal(got.FilePathPrefixes, tc.want) {
			t.Errorf("%s: prefixes %#v, want %#v", tc.file, got.FilePathPrefixes, tc.want)
		}
	}
}

// TestIMDSMode: imds.enabled is auto (the default: DMI decides), true (always) or
// false (never), in the section or as imds: VALUE on its own, from the file, the
// environment or a flag.
func TestIMDSMode(t *testing.T) {
	tests := []struct {
		file   string
		env    map[string]string
		flags  []string
		want   IMDSMode
		source string // "FILE:LINE" is the file's line
	}{
		{"imds-absent.yaml", nil, nil, IMDSAuto, "default"},
		{"imds-auto.yaml", nil, nil, IMDSAuto, "FILE:2"},
		{"imds-true.yaml", nil, nil, IMDSTrue, "FILE:2"},
		{"imds-false.yaml", nil, nil, IMDSFalse, "FILE:2"},
		{"imds-enabled-true.yaml", nil, nil, IMDSTrue, "FILE:3"},
		{"imds-enabled-false.yaml", nil, nil, IMDSFalse, "FILE:3"},
		{"imds-enabled-auto.yaml", nil, nil, IMDSAuto, "FILE:3"},
		{"imds-false.yaml", map[string]string{"VIGIL_IMDS_ENABLED": "auto"}, nil, IMDSAuto, "environment VIGIL_IMDS_ENABLED"},
		{"imds-absent.yaml", map[string]string{"VIGIL_IMDS_ENABLED": "1"}, nil, IMDSTrue, "environment VIGIL_IMDS_ENABLED"},
		{"imds-false.yaml", nil, []string{"--imds"}, IMDSTrue, "flag --imds"},
		{"imds-true.yaml", nil, []string{"--imds=auto"}, IMDSAuto, "flag --imds"},
		{"imds-absent.yaml", map[string]string{"VIGIL_IMDS_ENABLED": "true"}, []string{"--imds=false"}, IMDSFalse, "flag --imds"},
	}
	for _, tc := range tests {
		path := filepath.Join("testdata", tc.file)
		fs := flag.NewFlagSet("vigil-sensor", flag.ContinueOnError)
		c := Default()
		c.Flags(fs)
		if err := fs.Parse(tc.flags); err != nil {
			t.Fatal(err)
		}
		got, err := Load(path, env(tc.env), fs)
		if err != nil {
			t.Fatalf("%s %v %v: %v", tc.file, tc.env, tc.flags, err)
		}
		source := strings.Replace(tc.source, "FILE", path, 1)
		if got.IMDS != tc.want || got.Source("imds.enabled") != source {
			t.Errorf("%s %v %v: imds.enabled %q from %s, want %q from %s", tc.file, tc.env, tc.flags,
				got.IMDS, got.Source("imds.enabled"), tc.want, source)
		}
	}
}

func TestParseIMDSMode(t *testing.T) {
	for in, want := range map[string]IMDSMode{"auto": IMDSAuto, "AUTO": IMDSAuto, "true": IMDSTrue, "True": IMDSTrue,
		"1": IMDSTrue, "false": IMDSFalse, "0": IMDSFalse, " false ": IMDSFalse} {
		if got, err := ParseIMDSMode(in); err != nil || got != want {
			t.Errorf("ParseIMDSMode(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "maybe", "yes", "on", "automatic"} {
		if _, err := ParseIMDSMode(in); err == nil || !strings.Contains(err.Error(), "is not auto, true or false") {
			t.Errorf("ParseIMDSMode(%q): %v", in, err)
		}
	}
}

// TestRespondBell: the bell table by name or ARN, from the file or the
// environment, and the full poll interval's default.
func TestRespondBell(t *testing.T) {
	const base = "stream: s\nrespond:\n  api_url: https://api\n  backend: [a]\n"
	tests := []struct {
		name, yaml string
		env        map[string]string
		table      string
		full       time.Duration
	}{
		{"no bell", base, nil, "", time.Hour},
		{"name", base + "  task_bell_table: vigil-TaskBellsTable-1AB2\n", nil, "vigil-TaskBellsTable-1AB2", time.Hour},
		{"arn", base + "  task_bell_table: arn:aws:dynamodb:eu-west-1:123456789012:table/bells\n  full_poll_interval: 15m\n", nil,
			"arn:aws:dynamodb:eu-west-1:123456789012:table/bells", 15 * time.Minute},
		{"environment", base, map[string]string{"VIGIL_RESPOND_TASK_BELL_TABLE": "bells", "VIGIL_RESPOND_FULL_POLL_INTERVAL": "2h"}, "bells", 2 * time.Hour},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Load(write(t, tc.yaml), env(tc.env), nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.RespondBellTable != tc.table || got.RespondFullPoll != tc.full {
				t.Errorf("bell %q, full poll %v; want %q, %v", got.RespondBellTable, got.RespondFullPoll, tc.table, tc.full)
			}
		})
	}
}
