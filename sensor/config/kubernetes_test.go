package config

import (
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestKubernetes(t *testing.T) {
	c, err := Load(filepath.Join("testdata", "kubernetes.yaml"), env(nil), flag.NewFlagSet("s", flag.ContinueOnError))
	if err != nil {
		t.Fatal(err)
	}
	if c.Kubernetes != IMDSTrue || c.KubeletURL != "http://127.0.0.1:10255" || c.KubeTokenFile != "/run/secrets/token" ||
		c.KubeCAFile != "/run/secrets/ca.crt" || c.KubeMaxPods != 300 || c.KubeListInterval != 30*time.Second {
		t.Errorf("kubernetes settings: %+v", c)
	}
	d := Default()
	if d.Kubernetes != IMDSAuto || d.KubeletURL != "" || d.KubeMaxPods != 1024 ||
		d.KubeTokenFile != "/var/run/secrets/kubernetes.io/serviceaccount/token" {
		t.Errorf("defaults: %+v", d)
	}
	for body, want := range map[string]string{
		"stream: s\nkubernetes:\n  kubelet_url: node-1:10250\n": "sensor.yaml:3: kubernetes.kubelet_url",
		"stream: s\nkubernetes:\n  max_pods: 0\n":               "sensor.yaml:3: kubernetes.max_pods",
		"stream: s\nkubernetes: maybe\n":                        "sensor.yaml:2: kubernetes",
	} {
		_, err := Load(write(t, body), env(nil), flag.NewFlagSet("s", flag.ContinueOnError))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want an error naming %s", body, err, want)
		}
	}
}
