package localrun

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/collector"
)

var (
	reAPIKey = regexp.MustCompile(`API key (vk_\S+)`)
	reURL    = regexp.MustCompile(`API and dashboard on (http://\S+)`)
	reLogin  = regexp.MustCompile(`one-time link\): (\S+)`)
)

// startRun runs Run until the returned stop is called, and waits for what on
// its stderr.
func startRun(t testing.TB, o Options, what string) (stdout, stderr *syncBuffer, stop func() error) {
	t.Helper()
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	o.Stdout, o.Stderr = stdout, stderr
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		return <-done
	}
	t.Cleanup(func() { _ = stop() })
	waitFor(t, what, func() bool { return strings.Contains(stderr.String(), what) }, stderr)
	return stdout, stderr, stop
}

// TestLive runs the pipeline live (as root), execs a process the
// privileged_docker_container rule catches, and expects its detection as a JSON
// line on stdout, from the API with the key printed at start, and the events in
// the local lake after shutdown; then restarts it and finds the detection still
// stored.
func TestLive(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot run here: %v", err)
	}
	dir := t.TempDir()
	docker := filepath.Join(dir, "docker")
	copyFile(t, "/bin/true", docker)
	lake, data := filepath.Join(dir, "lake"), filepath.Join(dir, "data")
	o := Options{JSON: true, Lake: lake, Data: data, Listen: "127.0.0.1:0", SensorID: "test-sensor",
		Tags: []string{"env:test"}, BatchInterval: 100 * time.Millisecond, LoadRules: packRules(false)}

	stdout, stderr, stop := startRun(t, o, "vigil local running")
	key := reAPIKey.FindStringSubmatch(stderr.String())
	base := reURL.FindStringSubmatch(stderr.String())
	if key == nil || base == nil || !reLogin.MatchString(stderr.String()) {
		t.Fatalf("no API key, address or login link printed at start:\n%s", stderr.String())
	}

	cmd := exec.Command(docker, "run", "--privileged", "alpine")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	var d map[string]any
	waitFor(t, "the detection", func() bool {
		for _, line := range strings.Split(stdout.String(), "\n") {
			var x map[string]any
			if json.Unmarshal([]byte(line), &x) == nil && x["rule"] == "privileged_docker_container" {
				body := x["event"].(map[string]any)["event"].(map[string]any)
				if body["PROCESS_ID"] == float64(pid) {
					d = x
					return true
				}
			}
		}
		return false
	}, stderr)
	id := d["id"].(string)

	var page detectionsPage
	waitFor(t, "the detection in the API", func() bool {
		return apiGet(t, base[1], "/v1/orgs/local/detections?sensor=test-sensor", key[1], &page) == 200 && hasDetection(page, id)
	}, stderr)
	if code := apiGet(t, base[1], "/v1/orgs/local/detections", "vk_wrong", nil); code != 401 {
		t.Errorf("wrong key: %d, want 401", code)
	}
	// the edge's detection may come before the first batch, which has the heartbeat
	var sensors struct{ Sensors []api.Sensor }
	waitFor(t, "test-sensor registered by its heartbeat", func() bool {
		sensors.Sensors = nil
		apiGet(t, base[1], "/v1/orgs/local/sensors?tag=env:test", key[1], &sensors)
		return len(sensors.Sensors) > 0
	}, stderr)
	if len(sensors.Sensors) != 1 || sensors.Sensors[0].SensorID != "test-sensor" {
		t.Errorf("sensors = %+v, want test-sensor from its heartbeat", sensors)
	}
	if err := stop(); err != nil {
		t.Fatalf("Run: %v\n%s", err, stderr.String())
	}

	body := d["event"].(map[string]any)["event"].(map[string]any)
	routing := d["event"].(map[string]any)["routing"].(map[string]any)
	for k, want := range map[string]any{"FILE_PATH": docker, "COMMAND_LINE": docker + " run --privileged alpine", "USER": "root"} {
		if body[k] != want {
			t.Errorf("event/%s = %v, want %v", k, body[k], want)
		}
	}
	if d["severity"] != "medium" || d["sensor_id"] != "test-sensor" || routing["event_type"] != "NEW_PROCESS" {
		t.Errorf("detection = %v", d)
	}
	for _, k := range []string{"id", "time", "hostname"} {
		if s, _ := d[k].(string); s == "" {
			t.Errorf("detection has no %s: %v", k, d)
		}
	}

	files, err := (&local.Lake{Dir: lake}).Files()
	if err != nil || len(files) == 0 {
		t.Fatalf("no lake files (%v)", err)
	}
	found := false
	for _, f := range files {
		if !strings.HasPrefix(f, "events/dt=") || !strings.Contains(f, "/sensor=test-sensor/") {
			t.Errorf("lake key %s is not in the Hive layout", f)
		}
		raw, err := os.ReadFile(filepath.Join(lake, f))
		if err != nil {
			t.Fatal(err)
		}
		evs, err := event.Decode(nil, raw, 0)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for _, e := range evs {
			if e.PID == uint32(pid) && e.Type == event.NewProcess && e.FilePath == docker {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("the exec of pid %d is not in the lake", pid)
	}

	// restart: the detection is still stored, the key still works and is not printed again
	_, stderr2, stop2 := startRun(t, o, "vigil local running")
	base2 := reURL.FindStringSubmatch(stderr2.String())
	if base2 == nil || reAPIKey.MatchString(stderr2.String()) {
		t.Fatalf("restart printed no address, or a new key:\n%s", stderr2.String())
	}
	page = detectionsPage{}
	if code := apiGet(t, base2[1], "/v1/orgs/local/detections", key[1], &page); code != 200 || !hasDetection(page, id) {
		t.Errorf("after restart: %d, detection %s not in %v", code, id, page)
	}
	if err := stop2(); err != nil {
		t.Fatalf("Run after restart: %v\n%s", err, stderr2.String())
	}
}
