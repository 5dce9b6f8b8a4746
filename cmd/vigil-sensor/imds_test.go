package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/vigil-sec/vigil/sensor/config"
	"github.com/vigil-sec/vigil/sensor/identity"
)

// loopbackIMDS is an IMDSv2 service on loopback that counts every request; the
// SDK and the sensor find it through AWS_EC2_METADATA_SERVICE_ENDPOINT.
func loopbackIMDS(t *testing.T) *atomic.Int64 {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		switch {
		case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
			w.Header().Set("X-aws-ec2-metadata-token-ttl-seconds", "21600")
			_, _ = w.Write([]byte("token"))
		case r.Header.Get("X-aws-ec2-metadata-token") != "token":
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case r.URL.Path == "/latest/dynamic/instance-identity/document":
			_, _ = w.Write([]byte(`{"accountId":"123456789012","availabilityZone":"us-east-1a","instanceId":"i-0abc123def4567890",
				"instanceType":"m6i.large","region":"us-east-1"}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "")
	return &n
}

func withSys(t *testing.T, name string) {
	t.Helper()
	old := sysDir
	sysDir = filepath.Join("testdata", "sys", name)
	t.Cleanup(func() { sysDir = old })
}

// TestCheckIMDS: --check prints imds.enabled with its source, what DMI said and
// whether the metadata service was asked; off EC2 in auto it gets no request.
func TestCheckIMDS(t *testing.T) {
	tests := []struct {
		name     string
		sys      string
		yaml     string
		args     []string
		want     []string
		requests bool
	}{
		{"auto off EC2", "qemu-kvm", "", nil,
			[]string{"auto", "(default)", `not EC2`, `(DMI sys_vendor "QEMU")`, "not queried"}, false},
		{"auto on EC2", "nitro", "", nil,
			[]string{"auto", `EC2`, `(DMI sys_vendor "Amazon EC2", board_asset_tag "i-0abc123def4567890")`, "queried", "instance_id:i-0abc123def4567890"}, true},
		{"forced off EC2", "qemu-kvm", "imds: true\n", nil,
			[]string{"true", "sensor.yaml:3)", "not EC2", "queried", "instance_id:i-0abc123def4567890"}, true},
		{"off on EC2", "nitro", "", []string{"--imds=false"},
			[]string{"false", "(flag --imds)", "not queried"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := loopbackIMDS(t)
			withSys(t, tc.sys)
			path := filepath.Join(t.TempDir(), "sensor.yaml")
			_ = os.WriteFile(path, []byte("sensor_id: web-1\nstream: vigil-events\n"+tc.yaml), 0o600)
			var out, errb bytes.Buffer
			if code := run(context.Background(), append([]string{"--config", path, "--check"}, tc.args...), env(nil), &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s", code, errb.String())
			}
			var lines []string
			for l := range strings.Lines(out.String()) {
				if strings.Contains(l, "imds.enabled") || strings.Contains(l, "DMI") || strings.Contains(l, "instance metadata") || strings.HasPrefix(l, "tags") {
					lines = append(lines, l)
				}
			}
			got := strings.Join(lines, "")
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("--check lacks %q:\n%s", w, got)
				}
			}
			if (n.Load() > 0) != tc.requests {
				t.Errorf("%d requests reached the metadata service; want any: %v", n.Load(), tc.requests)
			}
			if !strings.Contains(errb.String(), "identity") {
				t.Errorf("the log does not say why IMDS was or was not asked:\n%s", errb.String())
			}
		})
	}
}

// TestSDKOffIMDS: with no credentials anywhere else, the SDK's default chain ends
// with the instance role from IMDS; off EC2 it must fail without asking.
func TestSDKOffIMDS(t *testing.T) {
	dir := t.TempDir()
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_ENDPOINT_URL"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	t.Setenv("AWS_REGION", "us-east-1")
	tests := []struct {
		name  string
		ec2   bool
		imds  config.IMDSMode
		asked bool
	}{
		{"not EC2, auto", false, config.IMDSAuto, false},
		{"not EC2, false", false, config.IMDSFalse, false},
		{"not EC2, forced", false, config.IMDSTrue, true},
		{"EC2, auto", true, config.IMDSAuto, true},
		{"EC2, imds false: the instance role still works", true, config.IMDSFalse, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := loopbackIMDS(t)
			c := config.Default()
			c.IMDS = tc.imds
			awsCfg, err := awsConfig(context.Background(), c, identity.Identity{EC2: tc.ec2})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := awsCfg.Credentials.Retrieve(context.Background()); err == nil {
				t.Fatal("credentials from nowhere")
			}
			if (n.Load() > 0) != tc.asked {
				t.Fatalf("%d requests reached the metadata service; want any: %v", n.Load(), tc.asked)
			}
		})
	}
}
