package localrun

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

func TestReplayFiles(t *testing.T) {
	tests := []struct {
		name    string
		files   []string // made under a temporary directory
		path    string   // replayed, under that directory
		want    []string
		wantErr string
	}{
		{"a file is itself", []string{"x.parquet"}, "x.parquet", []string{"x.parquet"}, ""},
		{"a lake in key order, Parquet files only",
			[]string{"events/dt=2026-11-22/hr=11/sensor=b/02.parquet", "events/dt=2026-11-22/hr=10/sensor=b/01.parquet",
				"events/dt=2026-11-22/hr=10/sensor=a/03.parquet", "events/dt=2026-11-22/hr=10/sensor=a/notes.txt"},
			".", []string{"events/dt=2026-11-22/hr=10/sensor=a/03.parquet", "events/dt=2026-11-22/hr=10/sensor=b/01.parquet",
				"events/dt=2026-11-22/hr=11/sensor=b/02.parquet"}, ""},
		{"a directory without Parquet files", []string{"a/notes.txt"}, "a", nil, "holds no .parquet files"},
		{"nothing there", nil, "missing", nil, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, f := range tt.files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got, err := replayFiles(filepath.Join(dir, tt.path))
			if testcheck.Err(t, err, tt.wantErr) {
				return
			}
			for i := range got {
				got[i], _ = filepath.Rel(dir, got[i])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("files %v, want %v", got, tt.want)
			}
		})
	}
}

// TestReplay replays the recorded lake: the privileged docker run is detected
// with its ancestry and published once (a second replay counts it but finds it
// stored), and its heartbeat registers the sensor.
func TestReplay(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	replay := func(path string) ([]map[string]any, Summary) {
		t.Helper()
		var stdout syncBuffer
		a := newApp(t, Options{JSON: true, Data: data, Stdout: &stdout})
		sum, err := a.Replay(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		return jsonLines(t, stdout.String()), sum
	}
	dets, sum := replay(fixtureLake)
	if sum.Files != 1 || sum.Events != 122 || sum.Refused != 0 || sum.ByRule["privileged_docker_container"] != 1 || sum.Detections != len(dets) {
		t.Errorf("summary %+v, %d detections printed", sum, len(dets))
	}
	var found map[string]any
	for _, d := range dets {
		if d["rule"] == "privileged_docker_container" {
			found = d
		}
	}
	if found == nil {
		t.Fatalf("no privileged_docker_container detection printed: %v", dets)
	}
	ev := found["event"].(map[string]any)["event"].(map[string]any)
	if ev["PARENT"].(map[string]any)["FILE_PATH"] != "/usr/bin/bash" || ev["GRANDPARENT"].(map[string]any)["FILE_PATH"] != "/usr/sbin/sshd" {
		t.Errorf("ancestry lost: %v", ev)
	}

	files, _ := (&local.Lake{Dir: fixtureLake}).Files()
	dets, again := replay(filepath.Join(fixtureLake, files[0])) // one file, replayed again
	if len(dets) != 0 || again.ByRule["privileged_docker_container"] != 1 || again.Detections != sum.Detections {
		t.Errorf("second replay printed %d detections (want none: already stored), summary %+v", len(dets), again)
	}

	st := storeOf(t, data)
	docs, _, _ := st.List(ctx, api.DetectionQuery{Tag: "env:replay"})
	sensors, _ := st.Sensors(ctx, nil)
	if len(docs) != sum.Detections || len(sensors) != 1 || sensors[0].SensorID != "replay-sensor" || sensors[0].Version != "1.0.0" {
		t.Errorf("store: %d detections (want %d), sensors %+v", len(docs), sum.Detections, sensors)
	}
}

// TestReplayRefusesFiles: a file that is not Parquet is counted as refused, the
// rest replayed.
func TestReplayRefusesFiles(t *testing.T) {
	lake := t.TempDir()
	recordedLake(t, lake, fixtureTime)
	bad := filepath.Join(lake, "events", "dt=2026-11-22", "hr=09", "broken.parquet")
	if err := os.MkdirAll(filepath.Dir(bad), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("not parquet"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	sum, err := newApp(t, Options{Stderr: &stderr}).Replay(ctx, lake)
	if err != nil || sum.Files != 1 || sum.Refused != 1 || sum.Events != 122 {
		t.Errorf("summary %+v, error %v", sum, err)
	}
	testcheck.InOrder(t, "the log", stderr.String(), []string{"replay: file refused", "broken.parquet"})
}

// TestSetupErrors: Run refuses what it was given with an ErrSetup saying why,
// before it processes anything; other failures are not setup errors.
func TestSetupErrors(t *testing.T) {
	dir := t.TempDir()
	held := filepath.Join(dir, "held")
	live, err := local.OpenStore(held) // what a running vigil local holds
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	notJSON := filepath.Join(dir, "model.json")
	if err := os.WriteFile(notJSON, []byte("{"), 0o644); err != nil {
		t.Fatal(err)
	}
	aFile := filepath.Join(dir, "file")
	if err := os.WriteFile(aFile, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		o         Options
		wantErr   string
		wantSetup bool
		wantIs    error
	}{
		{"a replay path that is not there", Options{Replay: filepath.Join(dir, "nope")}, "local: --replay: stat ", true, nil},
		{"a replay directory without Parquet files", Options{Replay: dir + "/held"}, "holds no .parquet files", true, nil},
		{"a webhook that is not http(s)", Options{Replay: fixtureLake, Webhook: "ftp://hooks.example.com/x"}, `local: --webhook "ftp://hooks.example.com/x": want an http(s) URL`, true, nil},
		{"broken rules", Options{Replay: fixtureLake, LoadRules: func() (*engine.Engine, error) { return nil, errors.New("rules/x.yaml:3: unknown op") }},
			"rules/x.yaml:3: unknown op", true, nil},
		{"a directory as model", Options{Replay: fixtureLake, Model: dir}, "local: --model: read " + dir, true, nil},
		{"a model that does not decode", Options{Replay: fixtureLake, Model: notJSON}, "local: --model: " + notJSON, true, nil},
		{"a store in use", Options{Replay: fixtureLake, Data: held}, "in use by another process (resource temporarily unavailable): stop the vigil local using it, or pass --data DIR to use another store (for example --data " + filepath.Join(dir, "replay") + ")", true, local.ErrLocked},
		{"an address that cannot be listened on", Options{Replay: fixtureLake, Serve: true, Listen: "127.0.0.1:99999"}, "local: --listen 127.0.0.1:99999: ", true, nil},
		{"a store that cannot be opened", Options{Replay: fixtureLake, Data: aFile}, "local: ", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			if o.Data == "" {
				o.Data = filepath.Join(t.TempDir(), "data")
			}
			if o.LoadRules == nil {
				o.LoadRules = packRules(false)
			}
			err := Run(ctx, o)
			testcheck.Err(t, err, tt.wantErr)
			if errors.Is(err, ErrSetup) != tt.wantSetup {
				t.Errorf("errors.Is(%v, ErrSetup) = %v, want %v", err, !tt.wantSetup, tt.wantSetup)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
		})
	}
	if _, err := New(Options{Data: filepath.Join(dir, "no-rules")}); !errors.Is(err, ErrSetup) || err.Error() != "local: no rules to run" {
		t.Errorf("options without rules: %v", err)
	}
}
