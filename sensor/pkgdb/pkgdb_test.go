package pkgdb

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestOwner(t *testing.T) {
	for _, tc := range []struct {
		root, path, want string
	}{
		{"debian", "/bin/ls", "coreutils"},
		{"debian", "/usr/bin/ls", "coreutils"}, // merged /usr: the kernel reports the resolved path
		{"debian", "/usr/bin/curl", "curl"},    // the architecture is not part of the name
		{"debian", "/bin/curl", ""},            // not listed under that name
		{"debian", "/usr/sbin/sshd", "openssh-server"},
		{"debian", "/tmp/payload", ""},
		{"debian", "/usr/share/doc/coreutils", "coreutils"},
		{"alpine", "/bin/busybox", "busybox"},
		{"alpine", "/etc/passwd", "busybox"},
		{"alpine", "/usr/bin/curl", "curl"},
		{"alpine", "/usr/bin/wget", ""},
	} {
		t.Run(tc.root+tc.path, func(t *testing.T) {
			db, err := Load(filepath.Join("testdata", tc.root))
			if err != nil {
				t.Fatal(err)
			}
			got, ok := db.Owner(tc.path)
			if got != tc.want || ok != (tc.want != "") {
				t.Fatalf("Owner(%s) = %q, %v; want %q", tc.path, got, ok, tc.want)
			}
		})
	}
}

func TestNoDatabase(t *testing.T) {
	for _, root := range []string{"testdata/rpm", t.TempDir()} {
		if _, err := NewTracker(root); !errors.Is(err, ErrNoDatabase) {
			t.Fatalf("%s: err = %v, want ErrNoDatabase", root, err)
		}
	}
}

func TestListDirectoryIgnored(t *testing.T) {
	root := t.TempDir()
	info := filepath.Join(root, dpkgInfo)
	if err := os.MkdirAll(filepath.Join(info, "broken.list"), 0o755); err != nil { // a directory where a list should be
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(info, "x.list"), []byte("/usr/bin/x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Load(root)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := db.Owner("/usr/bin/x"); p != "x" {
		t.Fatalf("owner %q", p)
	}
}

// TestTrackerReloads: a package installed during the run owns its files once
// the tracker's next check has reloaded the database; checks are paced.
func TestTrackerReloads(t *testing.T) {
	root := t.TempDir()
	info := filepath.Join(root, dpkgInfo)
	if err := os.MkdirAll(info, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string, at time.Time) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(info, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(info, at, at); err != nil {
			t.Fatal(err)
		}
	}
	t0 := time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)
	write("a.list", "/usr/bin/a\n", t0)
	tr, err := NewTracker(root)
	if err != nil {
		t.Fatal(err)
	}
	now := t0
	tr.now = func() time.Time { return now }
	tr.lastCheck.Store(now.UnixNano())

	write("b.list", "/usr/bin/b\n", t0.Add(time.Second))
	now = now.Add(30 * time.Second) // before the interval: no check
	if _, ok := tr.Owner("/usr/bin/b"); ok {
		t.Fatal("reloaded before the interval")
	}
	tr.Wait()
	if _, ok := tr.Owner("/usr/bin/b"); ok {
		t.Fatal("reloaded before the interval")
	}
	now = now.Add(time.Minute)
	tr.Owner("/usr/bin/a") // starts the reload
	tr.Wait()
	if p, ok := tr.Owner("/usr/bin/b"); !ok || p != "b" {
		t.Fatalf("after the reload: %q, %v", p, ok)
	}

	// a database that disappears keeps the last one read, and says why
	var told error
	tr.Errorf = func(err error) { told = err }
	if err := os.RemoveAll(filepath.Join(root, "var")); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	tr.Owner("/usr/bin/a")
	tr.Wait()
	if p, _ := tr.Owner("/usr/bin/a"); p != "a" || !errors.Is(told, ErrNoDatabase) {
		t.Fatalf("after the database went: owner %q, told %v", p, told)
	}
}
