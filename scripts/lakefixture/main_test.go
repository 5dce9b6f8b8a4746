package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestApply(t *testing.T) {
	o := options{sensor: "s-fixture", host: "h-fixture", redact: redactList{"secret", "memfd:"}}
	tests := []struct {
		name string
		in   event.Event
		want event.Event
	}{
		{"identity replaced", event.Event{SensorID: "s-real", Hostname: "real", CommandLine: "ls"},
			event.Event{SensorID: "s-fixture", Hostname: "h-fixture", CommandLine: "ls"}},
		{"strings redacted", event.Event{CommandLine: "run --token secret-1", FilePath: "/memfd:x"},
			event.Event{SensorID: "s-fixture", Hostname: "h-fixture", CommandLine: "[redacted]", FilePath: "[redacted]"}},
		{"list items redacted, others kept", event.Event{AncestorCommandLines: []string{"bash", "agent --secret"}},
			event.Event{SensorID: "s-fixture", Hostname: "h-fixture", AncestorCommandLines: []string{"bash", "[redacted]"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := tc.in
			o.apply(&e)
			if e.SensorID != tc.want.SensorID || e.Hostname != tc.want.Hostname || e.CommandLine != tc.want.CommandLine ||
				e.FilePath != tc.want.FilePath || strings.Join(e.AncestorCommandLines, "|") != strings.Join(tc.want.AncestorCommandLines, "|") {
				t.Fatalf("got %+v", e)
			}
		})
	}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	lake := filepath.Join(dir, "lake", "events", "dt=2026-12-06", "hr=13", "sensor=s")
	if err := os.MkdirAll(lake, 0o755); err != nil {
		t.Fatal(err)
	}
	w := event.NewFileWriter()
	if err := w.Write([]event.Event{{SensorID: "s", Hostname: "real", Type: event.NewProcess, CommandLine: "agent --secret"}}); err != nil {
		t.Fatal(err)
	}
	data, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(lake, "a.parquet"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "fixture.parquet")
	if err := run([]string{"-o", out, "-redact", "secret", filepath.Join(dir, "lake")}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	evs, err := event.Decode(nil, b, 0)
	if err != nil || len(evs) != 1 || evs[0].CommandLine != "[redacted]" || evs[0].SensorID != "fixture-sensor" {
		t.Fatalf("fixture: %v %+v", err, evs)
	}
	for _, args := range [][]string{{filepath.Join(dir, "lake")}, {"-o", out, filepath.Join(dir, "empty")}} {
		if err := run(args); err == nil {
			t.Errorf("run(%q): no error", args)
		}
	}
}
