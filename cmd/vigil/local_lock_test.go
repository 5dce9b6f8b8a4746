package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/local"
)

// TestLocalReplayStoreInUse: a replay next to a running vigil local (which holds
// its store's lock) is told the store is in use and how to give it another; with
// --data DIR it runs.
func TestLocalReplayStoreInUse(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "local")
	live, err := local.OpenStore(data) // what the running vigil local holds
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()

	_, err = runVigil("local", "--replay", recordedLake, "--data", data)
	for _, want := range []string{"store " + data, "in use by another process", "pass --data DIR", "--data " + filepath.Join(dir, "replay")} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v, want it to say %q", err, want)
		}
	}
	if exitCode(err) != 2 || !errors.Is(err, local.ErrLocked) {
		t.Errorf("exit code %d (want 2), errors.Is ErrLocked %v", exitCode(err), errors.Is(err, local.ErrLocked))
	}

	if _, err := runVigil("local", "--replay", recordedLake, "--data", filepath.Join(dir, "replay")); err != nil {
		t.Fatalf("with a store of its own: %v", err)
	}
}
