package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
)

func writeLake(t *testing.T) (dir string, file string) {
	t.Helper()
	dir = t.TempDir()
	lake := &local.Lake{Dir: dir}
	at := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	batches := [][]event.Event{
		{{SensorID: "s-1", Type: event.NewProcess, TimeNanos: at.UnixNano(), ID: event.NewID(at), PID: 42, User: "root",
			FilePath: "/usr/bin/curl", CommandLine: "curl http://x"}},
		{{SensorID: "s-1", Type: event.NetworkConnect, TimeNanos: at.Add(time.Hour).UnixNano(), ID: event.NewID(at), PID: 42,
			Protocol: "tcp", DestIP: "10.0.0.1", DestPort: 443},
			{SensorID: "s-1", Type: event.SensorHeartbeat, TimeNanos: at.Add(time.Hour).UnixNano(), ID: event.NewID(at), SensorVersion: "1.0"}},
	}
	for i, b := range batches {
		data, err := event.NewEncoder().Encode(b)
		if err != nil {
			t.Fatal(err)
		}
		key := event.LakeKey("s-1", time.Unix(0, b[0].TimeNanos), event.NewID(at))
		if err := lake.Put(context.Background(), key, data); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			file = filepath.Join(dir, filepath.FromSlash(key))
		}
	}
	return dir, file
}

func TestEventsTable(t *testing.T) {
	dir, _ := writeLake(t)
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetArgs([]string{"events", dir})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "TIME") {
		t.Fatalf("table:\n%s", out.String())
	}
	for i, want := range []string{"NEW_PROCESS", "NETWORK_CONNECT", "SENSOR_HEARTBEAT"} {
		if !strings.Contains(lines[i+1], want) {
			t.Errorf("line %d %q lacks %s (lake order: by hour)", i+1, lines[i+1], want)
		}
	}
	if !strings.Contains(out.String(), "-> 10.0.0.1:443") || !strings.Contains(out.String(), "cmd=curl http://x") {
		t.Errorf("details missing:\n%s", out.String())
	}
}

func TestEventsJSON(t *testing.T) {
	_, file := writeLake(t)
	var out bytes.Buffer
	root := newRoot()
	root.SetOut(&out)
	root.SetArgs([]string{"events", "--json", file})
	if err := root.Execute(); err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &tree); err != nil {
		t.Fatalf("not one JSON line: %v\n%s", err, out.String())
	}
	ev, err := event.FromTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Type != event.NewProcess || ev.FilePath != "/usr/bin/curl" || ev.PID != 42 {
		t.Fatalf("round trip: %+v", ev)
	}
}

func TestEventsBadInput(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "x.parquet")
	_ = os.WriteFile(bad, []byte("not parquet"), 0o600)
	for _, args := range [][]string{{"events", bad}, {"events", filepath.Join(dir, "absent")}, {"events", t.TempDir()}} {
		root := newRoot()
		root.SetOut(&bytes.Buffer{})
		root.SetArgs(args)
		if err := root.Execute(); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
