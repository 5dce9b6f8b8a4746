package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
		"CapabilityBoundingSet=CAP_BPF CAP_PERFMON CAP_SYS_RESOURCE CAP_SYS_ADMIN CAP_NET_ADMIN CAP_SYS_PTRACE CAP_DAC_READ_SEARCH\n",
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
