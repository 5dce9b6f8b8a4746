package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/health"
)

// syncBuffer is a bytes.Buffer the sensor's logger and the test share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestHealthProbes runs the sensor for real (eBPF, a local lake) with
// health.listen on loopback: /livez and /healthz answer 200 once the capture
// runs, and the port is closed after the sensor stopped.
func TestHealthProbes(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "sensor.yaml")
	conf := "sensor_id: probe-1\nlocal_dir: " + filepath.Join(dir, "lake") + "\nimds: {enabled: false}\nhealth:\n  listen: " + addr + "\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	exited := make(chan int, 1)
	go func() { exited <- run(ctx, []string{"--config", path}, env(nil), &out, &errb) }()

	client := &http.Client{Timeout: 2 * time.Second}
	probe := func(p string) (int, health.Report, error) {
		resp, err := client.Get("http://" + addr + p)
		if err != nil {
			return 0, health.Report{}, err
		}
		defer resp.Body.Close()
		var r health.Report
		err = json.NewDecoder(resp.Body).Decode(&r)
		return resp.StatusCode, r, err
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		code, r, err := probe("/livez")
		if err == nil && code == http.StatusOK {
			break
		}
		if err == nil && (code != http.StatusServiceUnavailable || r.Capture != health.CaptureStarting) {
			t.Fatalf("/livez while starting: %d %+v", code, r)
		}
		select {
		case c := <-exited:
			t.Fatalf("the sensor exited %d: %s", c, errb.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("/livez never answered 200 (last: %d %v): %s", code, err, errb.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	code, r, err := probe("/healthz")
	if err != nil || code != http.StatusOK || !r.Healthy || r.Capture != health.CaptureRunning {
		t.Fatalf("/healthz: %d %+v %v", code, r, err)
	}
	if !strings.Contains(errb.String(), "health probes") {
		t.Errorf("the log does not say where the probes listen:\n%s", errb.String())
	}
	cancel()
	select {
	case c := <-exited:
		if c != 0 {
			t.Fatalf("exit %d: %s", c, errb.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("the sensor did not stop")
	}
	if _, _, err := probe("/livez"); err == nil {
		t.Fatal("the probes still answer after the sensor stopped")
	}
}

// TestHealthListenTaken: a health.listen address already taken fails the
// start with exit 2, naming the setting.
func TestHealthListenTaken(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	path := filepath.Join(t.TempDir(), "sensor.yaml")
	conf := "sensor_id: probe-1\nlocal_dir: " + t.TempDir() + "\nimds: {enabled: false}\nhealth:\n  listen: " + ln.Addr().String() + "\n"
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"--config", path}, env(nil), &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), path+":5: health.listen: listen tcp") {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
}
