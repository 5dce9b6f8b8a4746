package respond

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/task"
)

// TestStateRoundTrips: what save writes, a new Runner loads back.
func TestStateRoundTrips(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	path := filepath.Join(t.TempDir(), "state", "respond.json")
	r := &Runner{StatePath: path, Now: func() time.Time { return now }}
	if err := r.load(); err != nil {
		t.Fatal(err)
	}
	r.state.Tasks["t-1"] = &taskRecord{Action: "kill", Status: task.Done, Result: `{"pid":12}`, Started: now, Ended: now.Add(time.Second), Reported: true}
	r.state.Tasks["t-2"] = &taskRecord{Action: "snapshot", Status: task.Running, Started: now}
	r.state.Isolation = isolationRecord{Isolated: true, TaskID: "t-0", Since: now, Entries: []string{"api.example.com"},
		Allow: []netip.Prefix{netip.MustParsePrefix("192.0.2.1/32")}}
	if err := r.save(); err != nil {
		t.Fatal(err)
	}
	again := &Runner{StatePath: path}
	if err := again.load(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(again.state, r.state) {
		t.Fatalf("loaded %+v, saved %+v", again.state, r.state)
	}
}

// failingFile is a state file whose Write, Sync or Close fails.
type failingFile struct {
	*os.File
	failWrite, failSync, failClose bool
}

var errDisk = errors.New("no space left on device")

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWrite {
		n, _ := f.File.Write(p[:len(p)/2])
		return n, errDisk
	}
	return f.File.Write(p)
}

func (f *failingFile) Sync() error {
	if f.failSync {
		return errDisk
	}
	return f.File.Sync()
}

func (f *failingFile) Close() error {
	err := f.File.Close()
	if f.failClose {
		return errDisk
	}
	return err
}

// TestSaveErrors: a state file that cannot be written whole is an error, and the
// previous state file stays in place, never replaced by a short one.
func TestSaveErrors(t *testing.T) {
	tests := []struct {
		name string
		file failingFile
	}{
		{"write", failingFile{failWrite: true}},
		{"sync", failingFile{failSync: true}},
		{"close", failingFile{failClose: true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "respond.json")
			r := &Runner{StatePath: path}
			if err := r.load(); err != nil {
				t.Fatal(err)
			}
			r.state.Tasks["t-1"] = &taskRecord{Action: "kill", Status: task.Done, Started: time.Now()}
			if err := r.save(); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}

			orig := createTemp
			t.Cleanup(func() { createTemp = orig })
			createTemp = func(dir, pattern string) (tempFile, error) {
				f, err := os.CreateTemp(dir, pattern)
				if err != nil {
					return nil, err
				}
				ff := tc.file
				ff.File = f
				return &ff, nil
			}
			r.state.Tasks["t-2"] = &taskRecord{Action: "snapshot", Status: task.Running, Started: time.Now()}
			err = r.save()
			if !errors.Is(err, errDisk) {
				t.Fatalf("save = %v, want the %s error", err, tc.name)
			}
			if after, _ := os.ReadFile(path); string(after) != string(before) {
				t.Fatalf("the state file changed after a failed save:\n%s\nwas\n%s", after, before)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != 1 {
				t.Fatalf("left in the directory: %v", ents)
			}
		})
	}
}

// brokenStore is a TaskStore whose calls fail.
type brokenStore struct{}

var errStore = errors.New("table unreachable")

func (brokenStore) ForSensor(context.Context, string, time.Time) ([]task.Task, error) {
	return nil, errStore
}

func (brokenStore) Update(context.Context, string, task.Status, string, time.Time) (task.Task, error) {
	return task.Task{}, errStore
}

// TestStoreSourceErrorsSayWhat: a store's errors come back wrapped, naming the
// sensor or the task.
func TestStoreSourceErrorsSayWhat(t *testing.T) {
	ss := &StoreSource{Store: brokenStore{}, SensorID: "s-9"}
	_, err := ss.Pending(context.Background())
	if !errors.Is(err, errStore) || !strings.Contains(err.Error(), "s-9") {
		t.Errorf("Pending: %v, want the store's error naming the sensor", err)
	}
	err = ss.Report(context.Background(), "t-7", task.Done, "")
	if !errors.Is(err, errStore) || errors.Is(err, ErrEnded) || !strings.Contains(err.Error(), "t-7") {
		t.Errorf("Report: %v, want the store's error naming the task", err)
	}
}
