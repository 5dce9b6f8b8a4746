package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/sensor/config"
)

// TestInstallScripts checks the bootstrap scripts parse (bash -n), are
// shellcheck-clean where shellcheck is installed, and that the systemd unit keeps
// its hardening.
func TestInstallScripts(t *testing.T) {
	scripts := []string{"../../scripts/install-sensor.sh", "../../scripts/user-data.sh"}
	for _, s := range scripts {
		if out, err := exec.Command("bash", "-n", s).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
	if sc, err := exec.LookPath("shellcheck"); err == nil {
		if out, err := exec.Command(sc, scripts...).CombinedOutput(); err != nil {
			t.Errorf("shellcheck: %v\n%s", err, out)
		}
	} else {
		t.Log("shellcheck not installed: only bash -n ran")
	}
	unit, err := os.ReadFile(filepath.Join("..", "..", "scripts", "vigil-sensor.service"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Restart=always",
		"CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH CAP_KILL\n",
		"ProtectSystem=strict", "ReadWritePaths=/var/lib/vigil", "NoNewPrivileges=yes",
		"ExecStart=/usr/local/bin/vigil-sensor --config /etc/vigil/sensor.yaml",
	} {
		if !strings.Contains(string(unit), want) {
			t.Errorf("the unit lacks %q", want)
		}
	}
	if sa, err := exec.LookPath("systemd-analyze"); err == nil {
		tmp := filepath.Join(t.TempDir(), "vigil-sensor.service")
		_ = os.WriteFile(tmp, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/vigil-sensor", "/bin/true")), 0o644)
		if out, err := exec.Command(sa, "verify", tmp).CombinedOutput(); err != nil {
			t.Errorf("systemd-analyze verify: %v\n%s", err, out)
		}
	}
}

// userData runs script (bash) after sourcing scripts/user-data.sh, which then
// defines its functions without running, with the settings in vars.
func userData(t *testing.T, vars map[string]string, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("bash", append([]string{"-c", "source ../../scripts/user-data.sh; " + script, "user-data"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
	return string(out)
}

// TestUserDataConfig: the sensor.yaml user-data writes is one the sensor takes,
// with the response settings when VIGIL_API_URL is set and without them otherwise.
func TestUserDataConfig(t *testing.T) {
	tests := []struct {
		name        string
		vars        map[string]string
		wantURL     string
		wantOrg     string
		wantBackend []string
		wantBell    string
	}{
		{"response tasks off", map[string]string{"VIGIL_LAKE_BUCKET": "lake-1", "VIGIL_TASK_BELL_TABLE": "bells"}, "", "default", nil, ""},
		{"backend from the region", map[string]string{"VIGIL_LAKE_BUCKET": "lake-1", "VIGIL_API_URL": "https://abc.execute-api.eu-west-1.amazonaws.com", "VIGIL_ORG": "acme"},
			"https://abc.execute-api.eu-west-1.amazonaws.com", "acme",
			[]string{"https://abc.execute-api.eu-west-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", "lake-1.s3.eu-west-1.amazonaws.com"}, ""},
		{"backend given", map[string]string{"VIGIL_LAKE_BUCKET": "lake-1", "VIGIL_API_URL": "https://vigil.example.com/", "VIGIL_RESPOND_BACKEND": "vigil.example.com, 10.0.0.0/16"},
			"https://vigil.example.com/", "default", []string{"vigil.example.com", "10.0.0.0/16"}, ""},
		{"task bells", map[string]string{"VIGIL_LAKE_BUCKET": "lake-1", "VIGIL_API_URL": "https://abc.execute-api.eu-west-1.amazonaws.com", "VIGIL_TASK_BELL_TABLE": "Vigil-TaskBellsTable6C260415-1X2Y"},
			"https://abc.execute-api.eu-west-1.amazonaws.com", "default",
			[]string{"https://abc.execute-api.eu-west-1.amazonaws.com", "kinesis.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com", "lake-1.s3.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com"},
			"Vigil-TaskBellsTable6C260415-1X2Y"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sensor.yaml")
			userData(t, tc.vars, `write_config "$1" "$(respond_backend eu-west-1)"`, path)
			cfg, err := config.Load(path, env(nil), nil)
			if err != nil {
				raw, _ := os.ReadFile(path)
				t.Fatalf("%v\n%s", err, raw)
			}
			if cfg.Stream != "vigil-events" || cfg.LakeBucket != "lake-1" || strings.Join(cfg.Tags, ",") != "env:prod,deployment:default" {
				t.Errorf("shipping settings %+v", cfg)
			}
			if cfg.IMDS != config.IMDSTrue {
				t.Errorf("imds.enabled %q: user-data runs on EC2 and asks IMDSv2 whatever DMI says", cfg.IMDS)
			}
			if cfg.RespondAPIURL != tc.wantURL || cfg.RespondOrg != tc.wantOrg || strings.Join(cfg.RespondBackend, " ") != strings.Join(tc.wantBackend, " ") {
				t.Errorf("respond: api_url %q org %q backend %q", cfg.RespondAPIURL, cfg.RespondOrg, cfg.RespondBackend)
			}
			if cfg.RespondBellTable != tc.wantBell {
				t.Errorf("respond.task_bell_table %q, want %q", cfg.RespondBellTable, tc.wantBell)
			}
			if tc.wantURL != "" && cfg.RespondKeyFile != "/etc/vigil/api-key" {
				t.Errorf("respond.api_key_file %q", cfg.RespondKeyFile)
			}
		})
	}
}

// TestUserDataFetchesAPIKey: the key is read from SSM (an aws stand-in here) into
// a file only root can read.
func TestUserDataFetchesAPIKey(t *testing.T) {
	bin := t.TempDir()
	aws := "#!/bin/sh\n" +
		`[ "$1 $2 $3 $4 $5" = "ssm get-parameter --name /vigil/sensor-key --with-decryption" ] || { echo "unexpected: $*" >&2; exit 254; }` + "\n" +
		"echo vk_from_ssm\n"
	if err := os.WriteFile(filepath.Join(bin, "aws"), []byte(aws), 0o755); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "etc", "api-key")
	path := bin + ":" + os.Getenv("PATH")
	t.Setenv("PATH", path)
	userData(t, map[string]string{"VIGIL_API_KEY_PARAMETER": "/vigil/sensor-key"}, `fetch_api_key "$1"`, dest)
	raw, err := os.ReadFile(dest)
	if err != nil || strings.TrimSpace(string(raw)) != "vk_from_ssm" {
		t.Fatalf("key file %q: %v", raw, err)
	}
	if fi, _ := os.Stat(dest); fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %v, want 0600", fi.Mode())
	}
	cmd := exec.Command("bash", "-c", `source ../../scripts/user-data.sh; fetch_api_key "$1"`, "user-data", dest)
	cmd.Env = []string{"PATH=" + path, "VIGIL_API_KEY_PARAMETER=/vigil/other"}
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "could not read SSM parameter /vigil/other") {
		t.Errorf("a parameter that cannot be read: %v\n%s", err, out)
	}
	if raw, _ := os.ReadFile(dest); strings.TrimSpace(string(raw)) != "vk_from_ssm" {
		t.Errorf("a failed read replaced the key: %q", raw)
	}
}
