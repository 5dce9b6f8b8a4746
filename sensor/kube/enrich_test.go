package kube_test

import (
	"context"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/container"
	"github.com/vigil-sec/vigil/sensor/enrich"
	"github.com/vigil-sec/vigil/sensor/kube"
)

// TestEnrichPodContext: an event whose cgroup is a pod container's, in the
// kubelet's systemd layout, gets the pod's and the container's context from
// the kubelet's pod list, served over TLS on loopback.
func TestEnrichPodContext(t *testing.T) {
	const uid = "0a1b2c3d-1111-2222-3333-444455556666"
	const ctr = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	pods, err := os.ReadFile("testdata/pods.json")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer t0ken" {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Write(pods)
	}))
	defer srv.Close()
	dir := t.TempDir()
	ca, tok := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "token")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	os.WriteFile(tok, []byte("t0ken"), 0o600)
	client, err := kube.NewClient(kube.ClientOptions{URL: srv.URL, TokenFile: tok, CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	cache := kube.NewCache(client, kube.CacheOptions{})
	if err := cache.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}

	// a cgroup2 tree shaped like a node's
	cg := t.TempDir()
	podDir := filepath.Join(cg, "kubepods.slice", "kubepods-burstable.slice",
		"kubepods-burstable-pod"+strings.ReplaceAll(uid, "-", "_")+".slice")
	ctrDir := filepath.Join(podDir, "cri-containerd-"+ctr+".scope")
	hostDir := filepath.Join(cg, "system.slice", "sshd.service")
	for _, d := range []string{ctrDir, hostDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	res, err := container.NewResolver(container.Options{Root: cg})
	if err != nil {
		t.Fatal(err)
	}
	e, err := enrich.New(enrich.Options{ProcRoot: t.TempDir(), PasswdPath: "/nonexistent", Containers: res, Pods: cache})
	if err != nil {
		t.Fatal(err)
	}

	ev := event.Event{Type: event.NewProcess, PID: 4242, FilePath: "/usr/sbin/nginx", CgroupID: ino(t, ctrDir)}
	e.Enrich(&ev, false)
	if ev.ContainerID != ctr || ev.PodUID != uid || ev.PodName != "web-5d8f7c9b6-x2x7q" || ev.PodNamespace != "shop" ||
		ev.PodServiceAccount != "web" || ev.NodeName != "node-1" || ev.ContainerName != "nginx" || ev.ContainerImage != "nginx:1.25" ||
		strings.Join(ev.PodLabels, ",") != "app.kubernetes.io/name=web,pod-template-hash=5d8f7c9b6,tier=frontend" {
		t.Errorf("pod event: %+v", ev)
	}
	f, err := event.Lookup("event/CONTAINER/IMAGE_REPOSITORY")
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Str(&ev); got != "nginx" {
		t.Errorf("image repository %q", got)
	}

	host := event.Event{Type: event.NewProcess, PID: 4343, FilePath: "/usr/sbin/sshd", CgroupID: ino(t, hostDir)}
	e.Enrich(&host, false)
	if host.PodUID != "" || host.PodName != "" || host.ContainerName != "" || host.ContainerImage != "" {
		t.Errorf("host event got pod context: %+v", host)
	}
}

func ino(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}
