package kube

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

const (
	webUID   = "0a1b2c3d-1111-2222-3333-444455556666"
	nginxID  = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	proxyUID = "5e6f7a8b-aaaa-bbbb-cccc-ddddeeeeffff"
	token    = "sa-token-for-tests"
)

// kubelet is a loopback HTTPS server answering GET /pods as the kubelet
// does, with the PodList in body, to requests bearing the token (401
// otherwise).
type kubelet struct {
	srv     *httptest.Server
	body    atomic.Pointer[[]byte]
	hits    atomic.Int64
	caFile  string
	tokFile string
}

func newKubelet(t *testing.T, fixture string) *kubelet {
	t.Helper()
	k := &kubelet{}
	k.serve(t, fixture)
	k.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		if r.Method != http.MethodGet || r.URL.Path != "/pods" {
			http.NotFound(w, r)
			return
		}
		k.hits.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Write(*k.body.Load())
	}))
	t.Cleanup(k.srv.Close)
	dir := t.TempDir()
	k.caFile = filepath.Join(dir, "ca.crt")
	k.tokFile = filepath.Join(dir, "token")
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.srv.Certificate().Raw})
	if err := os.WriteFile(k.caFile, ca, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(k.tokFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return k
}

// serve makes the server answer with a fixture from testdata.
func (k *kubelet) serve(t *testing.T, fixture string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", fixture))
	if err != nil {
		t.Fatal(err)
	}
	k.body.Store(&data)
}

func (k *kubelet) client(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient(ClientOptions{URL: k.srv.URL, TokenFile: k.tokFile, CAFile: k.caFile})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientPods(t *testing.T) {
	k := newKubelet(t, "pods.json")
	pods, err := k.client(t).Pods(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pods) != 3 {
		t.Fatalf("%d pods, want 3", len(pods))
	}
	web := pods[0]
	if web.UID != webUID || web.Name != "web-5d8f7c9b6-x2x7q" || web.Namespace != "shop" ||
		web.ServiceAccount != "web" || web.Node != "node-1" {
		t.Errorf("web pod = %+v", web)
	}
	if got := strings.Join(web.Labels, ","); got != "app.kubernetes.io/name=web,pod-template-hash=5d8f7c9b6,tier=frontend" {
		t.Errorf("labels = %s", got)
	}
	want := map[string]Container{
		nginxID: {Name: "nginx", Image: "nginx:1.25", ImageID: "docker.io/library/nginx@sha256:bb22"},
		"2222222222222222222222222222222222222222222222222222222222222222": {Name: "metrics",
			Image:   "ghcr.io/org/exporter@sha256:4c7e5b3f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7",
			ImageID: "ghcr.io/org/exporter@sha256:4c7e5b3f0e1d2c3b4a5968778695a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7"},
		"1111111111111111111111111111111111111111111111111111111111111111": {Name: "migrate",
			Image: "registry.local:5000/shop/migrate:2.1", ImageID: "registry.local:5000/shop/migrate@sha256:aa11"},
	}
	if len(web.Containers) != len(want) {
		t.Errorf("containers = %+v", web.Containers)
	}
	for id, c := range want {
		if web.Containers[id] != c {
			t.Errorf("container %s = %+v, want %+v", id[:8], web.Containers[id], c)
		}
	}
	if c := pods[1].Containers["4444444444444444444444444444444444444444444444444444444444444444"]; c.Name != "kube-proxy" {
		t.Errorf("cri-o container = %+v", c)
	}
	if len(pods[2].Containers) != 0 || len(pods[2].Labels) != 0 {
		t.Errorf("pending pod = %+v", pods[2])
	}
	if k.hits.Load() != 1 {
		t.Errorf("%d lists served", k.hits.Load())
	}
}

// TestClientRefused: a wrong token (401), a CA the server's certificate
// does not chain to, and bad options are errors saying so.
func TestClientRefused(t *testing.T) {
	k := newKubelet(t, "pods.json")
	if err := os.WriteFile(k.tokFile, []byte("stolen"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := k.client(t).Pods(context.Background()); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("wrong token: %v, want 401", err)
	}
	// httptest's servers share one certificate: make another CA
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "other cluster CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	otherCA := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(otherCA, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(k.tokFile, []byte(token), 0o600)
	c, err := NewClient(ClientOptions{URL: k.srv.URL, TokenFile: k.tokFile, CAFile: otherCA})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Pods(context.Background()); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("foreign CA: %v, want a certificate error", err)
	}
	if k.hits.Load() != 0 {
		t.Errorf("%d lists served to refused clients", k.hits.Load())
	}
	notPEM := filepath.Join(t.TempDir(), "ca.crt")
	os.WriteFile(notPEM, []byte("not a certificate"), 0o600)
	for _, o := range []ClientOptions{
		{URL: "ftp://node-1:10250", CAFile: k.caFile},
		{URL: "node-1:10250", CAFile: k.caFile},
		{URL: k.srv.URL, CAFile: filepath.Join(t.TempDir(), "missing")},
		{URL: k.srv.URL, CAFile: notPEM},
	} {
		if _, err := NewClient(o); err == nil {
			t.Errorf("NewClient(%+v) accepted", o)
		}
	}
}

// TestClientReadOnlyPort: over http no token is sent.
func TestClientReadOnlyPort(t *testing.T) {
	data, err := os.ReadFile("testdata/pods.json")
	if err != nil {
		t.Fatal(err)
	}
	var auth atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth.Store(r.Header.Get("Authorization"))
		w.Write(data)
	}))
	defer srv.Close()
	tok := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tok, []byte(token), 0o600)
	c, err := NewClient(ClientOptions{URL: srv.URL, TokenFile: tok})
	if err != nil {
		t.Fatal(err)
	}
	pods, err := c.Pods(context.Background())
	if err != nil || len(pods) != 3 {
		t.Fatalf("%d pods, %v", len(pods), err)
	}
	if a := auth.Load(); a != "" {
		t.Errorf("token sent in the clear: %q", a)
	}
}

func TestParsePodListErrors(t *testing.T) {
	tests := []struct{ name, data, want string }{
		{"not json", `{`, "pod list"},
		{"not a pod list", `{"kind":"Pod"}`, `kind "Pod"`},
		{"no uid", `{"kind":"PodList","items":[{"metadata":{"name":"a","namespace":"n"}}]}`, "items[0] (n/a): metadata.uid"},
		{"bad container id", `{"kind":"PodList","items":[{"metadata":{"uid":"u"},"status":{"containerStatuses":[{"name":"c","containerID":"abc"}]}}]}`,
			"status.containerStatuses[0].containerID"},
		{"labels not a map", `{"kind":"PodList","items":[{"metadata":{"uid":"u","labels":["a"]}}]}`, "labels"},
	}
	for _, tt := range tests {
		_, err := ParsePodList([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}

func FuzzParsePodList(f *testing.F) {
	data, err := os.ReadFile("testdata/pods.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte(`{"kind":"PodList","items":[{"metadata":{"uid":"u"}}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		pods, err := ParsePodList(data)
		if err != nil {
			return
		}
		for _, p := range pods {
			if p.UID == "" {
				t.Fatalf("pod without UID accepted: %+v", p)
			}
			for id := range p.Containers {
				if id == "" || strings.Contains(id, "://") {
					t.Fatalf("container id %q", id)
				}
			}
		}
	})
}

func TestCacheFill(t *testing.T) {
	k := newKubelet(t, "pods.json")
	c := NewCache(k.client(t), CacheOptions{})
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	c.Fill(&ev, webUID, nginxID)
	want := event.Event{PodUID: webUID, PodName: "web-5d8f7c9b6-x2x7q", PodNamespace: "shop",
		PodServiceAccount: "web", NodeName: "node-1", ContainerName: "nginx", ContainerImage: "nginx:1.25"}
	got := ev
	got.PodLabels = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("filled\n got %+v\nwant %+v", got, want)
	}
	if len(ev.PodLabels) != 3 {
		t.Errorf("labels %v", ev.PodLabels)
	}
	// a container of a known pod not listed yet: the pod's fields
	ev = event.Event{}
	c.Fill(&ev, proxyUID, "5555555555555555555555555555555555555555555555555555555555555555")
	if ev.PodName != "kube-proxy-7xk2p" || ev.ContainerName != "" {
		t.Errorf("unlisted container: %+v", ev)
	}
	// an unknown pod: its UID only
	ev = event.Event{}
	c.Fill(&ev, "77777777-0000-0000-0000-000000000000", nginxID)
	if ev.PodUID != "77777777-0000-0000-0000-000000000000" || ev.PodName != "" || ev.ContainerName != "" {
		t.Errorf("unknown pod: %+v", ev)
	}
	// not in a pod: nothing
	ev = event.Event{}
	c.Fill(&ev, "", nginxID)
	if ev.PodUID != "" || ev.ContainerName != "" {
		t.Errorf("host or plain container: %+v", ev)
	}
}

// TestCacheRefreshOnUnknownPod: an event of an unknown pod makes Run list
// again, and the pod's next events carry its context; requests within
// MinInterval of a list wait for it.
func TestCacheRefreshOnUnknownPod(t *testing.T) {
	k := newKubelet(t, "pods.json")
	c := NewCache(k.client(t), CacheOptions{MinInterval: 20 * time.Millisecond, Resync: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	waitFor(t, func() bool { return c.Stats().Lists >= 1 })

	k.serve(t, "pods_new.json")
	const newUID = "c0ffee00-1234-5678-9abc-def012345678"
	const newCtr = "6666666666666666666666666666666666666666666666666666666666666666"
	var ev event.Event
	waitFor(t, func() bool {
		ev = event.Event{}
		c.Fill(&ev, newUID, newCtr)
		return ev.PodName != ""
	})
	if ev.PodName != "api-0" || ev.ContainerName != "api" || ev.ContainerImage != "registry.local:5000/shop/api:3.2" {
		t.Errorf("new pod: %+v", ev)
	}
	// pods no longer listed are kept within the bound
	ev = event.Event{}
	c.Fill(&ev, webUID, nginxID)
	if ev.ContainerName != "nginx" {
		t.Errorf("pod gone from the list: %+v", ev)
	}
}

// TestCacheRateLimit: however many events of unknown pods, no second list
// before MinInterval.
func TestCacheRateLimit(t *testing.T) {
	k := newKubelet(t, "pods.json")
	c := NewCache(k.client(t), CacheOptions{MinInterval: time.Hour, Resync: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { c.Run(ctx) })
	waitFor(t, func() bool { return c.Stats().Lists >= 1 })
	for range 1000 {
		var ev event.Event
		c.Fill(&ev, "77777777-0000-0000-0000-000000000000", "")
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	wg.Wait()
	if n := k.hits.Load(); n != 1 {
		t.Errorf("%d lists, want 1 within MinInterval", n)
	}
}

// TestCacheBound: the cache keeps at most MaxPods, dropping the pods absent
// from the latest list first.
func TestCacheBound(t *testing.T) {
	k := newKubelet(t, "pods.json")
	c := NewCache(k.client(t), CacheOptions{MaxPods: 3})
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.serve(t, "pods_new.json")
	if err := c.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c.Stats().Pods; n != 3 {
		t.Fatalf("%d pods kept, want 3", n)
	}
	var ev event.Event
	c.Fill(&ev, "c0ffee00-1234-5678-9abc-def012345678", "")
	if ev.PodName != "api-0" {
		t.Errorf("listed pod dropped: %+v", ev)
	}
	c2 := NewCache(k.client(t), CacheOptions{MaxPods: 1})
	if err := c2.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := c2.Stats().Pods; n != 1 {
		t.Errorf("%d pods kept, want 1", n)
	}
}

func TestEnabled(t *testing.T) {
	dir := t.TempDir()
	tok, ca := filepath.Join(dir, "token"), filepath.Join(dir, "ca.crt")
	os.WriteFile(tok, []byte("t"), 0o600)
	os.WriteFile(ca, []byte("c"), 0o600)
	tests := []struct {
		mode, tok, ca, node string
		want                bool
	}{
		{"auto", tok, ca, "node-1", true},
		{"", tok, ca, "node-1", true},
		{"auto", tok, ca, "", false},
		{"auto", filepath.Join(dir, "none"), ca, "node-1", false},
		{"false", tok, ca, "node-1", false},
		{"true", "", "", "", true},
	}
	for _, tt := range tests {
		if got := Enabled(tt.mode, tt.tok, tt.ca, tt.node); got != tt.want {
			t.Errorf("Enabled(%q, %s, %s, %q) = %v", tt.mode, tt.tok, tt.ca, tt.node, got)
		}
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met in 10s")
}
