package agent

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// TestPackageOwnership runs the real sensor with package ownership on, over a
// dpkg database that lists /bin/true's real path, and runs /bin/true and a copy
// of it: the first NEW_PROCESS names the package, the copy's says no package
// owns it. Without a database the heartbeat lists the capability missing.
func TestPackageOwnership(t *testing.T) {
	if err := collector.Supported(); err != nil {
		t.Skipf("the sensor cannot capture here: %v", err)
	}
	truePath, err := filepath.EvalSymlinks("/bin/true")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	info := filepath.Join(root, "var/lib/dpkg/info")
	if err := os.MkdirAll(info, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(info, "truthy:amd64.list"), []byte("/.\n"+truePath+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(truePath)
	if err != nil {
		t.Fatal(err)
	}
	dropped := filepath.Join(t.TempDir(), "dropped")
	if err := os.WriteFile(dropped, data, 0o755); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name        string
		root        string
		wantMissing bool
	}{
		{"dpkg", root, false},
		{"no database", t.TempDir(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stream := local.NewStream(4096)
			_, stop := startSensor(t, Options{SensorID: "pkg-test", Stream: stream, BatchInterval: 50 * time.Millisecond,
				HeartbeatEvery: 100 * time.Millisecond, PackageOwnership: true, PackageRoot: tc.root})
			pids := map[uint32]string{}
			for _, p := range []string{truePath, dropped} {
				cmd := exec.Command(p)
				if err := cmd.Run(); err != nil {
					t.Fatal(err)
				}
				pids[uint32(cmd.Process.Pid)] = p
			}
			time.Sleep(400 * time.Millisecond)
			stop()
			stream.Close()
			got := map[string]*event.Event{}
			missing := false
			for rec := range stream.Records() {
				evs, err := event.DecodeRecord(nil, rec.Data, 0)
				if err != nil {
					t.Fatal(err)
				}
				for i := range evs {
					e := &evs[i]
					switch {
					case e.Type == event.SensorHeartbeat:
						missing = missing || slices.Contains(e.MissingCapabilities, MissingPackageOwnership)
					case e.Type == event.NewProcess && pids[e.PID] != "":
						got[pids[e.PID]] = e
					}
				}
			}
			if missing != tc.wantMissing {
				t.Errorf("heartbeat lists %s missing: %v, want %v", MissingPackageOwnership, missing, tc.wantMissing)
			}
			for _, p := range []string{truePath, dropped} {
				if got[p] == nil {
					t.Fatalf("no NEW_PROCESS for %s", p)
				}
			}
			wantPkg, wantUnpackaged := "truthy", uint32(0)
			if tc.wantMissing {
				wantPkg = ""
			}
			if e := got[truePath]; e.ExePackage != wantPkg || e.ExeUnpackaged != wantUnpackaged {
				t.Errorf("%s: package %q, unpackaged %d; want %q, %d", truePath, e.ExePackage, e.ExeUnpackaged, wantPkg, wantUnpackaged)
			}
			if tc.wantMissing {
				wantUnpackaged = 0
			} else {
				wantUnpackaged = 1
			}
			if e := got[dropped]; e.ExePackage != "" || e.ExeUnpackaged != wantUnpackaged {
				t.Errorf("%s: package %q, unpackaged %d; want none, %d", dropped, e.ExePackage, e.ExeUnpackaged, wantUnpackaged)
			}
		})
	}
}
