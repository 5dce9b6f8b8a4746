package localrun

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

var update = flag.Bool("update", false, "rewrite testdata/lake from recordedEvents")

// fixtureTime is when the privileged docker run of testdata/lake happens.
var fixtureTime = time.Date(2026, 11, 22, 10, 30, 0, 0, time.UTC)

// recordedEvents is what a build host's sensor records: a heartbeat, a burst of
// ordinary process events over ten minutes, and a privileged docker run (with its
// parent and grandparent) at the given time. Event ids are numbered, so the
// detections of a recording are the same every time.
func recordedEvents(at time.Time) []event.Event {
	evs := []event.Event{{Type: event.SensorHeartbeat, TimeNanos: at.Add(-10 * time.Minute).UnixNano(), SensorVersion: "1.0.0", UptimeSeconds: 3600}}
	for i := range 120 {
		ts := at.Add(-10*time.Minute + time.Duration(i)*5*time.Second)
		evs = append(evs, event.Event{Type: event.NewProcess, TimeNanos: ts.UnixNano(), PID: uint32(2000 + i), PPID: 1000, User: "dev",
			FilePath: "/usr/bin/make", CommandLine: "make test", ParentFilePath: "/bin/bash", ParentCommandLine: "-bash"})
	}
	evs = append(evs, event.Event{Type: event.NewProcess, TimeNanos: at.UnixNano(), PID: 4242, PPID: 4200, UID: 0, User: "root",
		FilePath: "/usr/bin/docker", CommandLine: "docker run --privileged -v /:/host alpine sh",
		ParentFilePath: "/usr/bin/bash", ParentCommandLine: "bash -i",
		GrandparentPath: "/usr/sbin/sshd", GrandparentCmd: "sshd: admin@pts/0"})
	for i := range evs {
		evs[i].SensorID, evs[i].Hostname, evs[i].Tags = "replay-sensor", "build-host", []string{"env:replay"}
		evs[i].ID = fmt.Sprintf("rec-%d-%04d", at.Unix(), i)
	}
	return evs
}

// recordedLake writes recordedEvents(at) into the lake dir the way the sensor's
// shipper does.
func recordedLake(t *testing.T, dir string, at time.Time) {
	t.Helper()
	ship := shipper.New(shipper.Options{SensorID: "replay-sensor", Lake: &local.Lake{Dir: dir}})
	evs := recordedEvents(at)
	for i := range evs {
		ship.Add(&evs[i])
	}
	if err := ship.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestLakeFixture checks that testdata/lake (which the tests of cmd/vigil replay
// too) holds recordedEvents(fixtureTime) in one lake file; -update rewrites it.
func TestLakeFixture(t *testing.T) {
	if *update {
		if err := os.RemoveAll(fixtureLake); err != nil {
			t.Fatal(err)
		}
		recordedLake(t, fixtureLake, fixtureTime)
	}
	files, err := (&local.Lake{Dir: fixtureLake}).Files()
	if err != nil || len(files) != 1 {
		t.Fatalf("lake files %v (%v), want one: go test -run TestLakeFixture -update rewrites them", files, err)
	}
	raw, err := os.ReadFile(filepath.Join(fixtureLake, files[0]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := event.Decode(nil, raw, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := recordedEvents(fixtureTime)
	if len(got) != len(want) {
		t.Fatalf("%s holds %d events, recordedEvents %d: go test -run TestLakeFixture -update rewrites it", files[0], len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID || !reflect.DeepEqual(got[i].Tree(), want[i].Tree()) {
			t.Fatalf("%s: event %d is\n%+v\nnot recordedEvents'\n%+v\ngo test -run TestLakeFixture -update rewrites it", files[0], i, got[i], want[i])
		}
	}
}
