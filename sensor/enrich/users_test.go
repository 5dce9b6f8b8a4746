package enrich

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestUsersName(t *testing.T) {
	u := NewUsers("testdata/passwd")
	tests := []struct {
		uid  uint32
		want string
	}{
		{0, "root"}, // first of two uid-0 entries
		{1, "daemon"},
		{33, "www-data"}, // surrounding blanks ignored
		{1000, "alice"},
		{65534, "nobody"},
		{4294967295, "big"},
		{1001, "1001"}, // malformed line: no entry
		{100, "100"},
		{4242, "4242"},
	}
	for _, tt := range tests {
		if got := u.Name(tt.uid); got != tt.want {
			t.Errorf("Name(%d) = %q, want %q", tt.uid, got, tt.want)
		}
	}
	if err := u.Err(); err != nil {
		t.Errorf("Err() = %v", err)
	}
}

func TestUsersMissingFile(t *testing.T) {
	u := NewUsers(filepath.Join(t.TempDir(), "passwd"))
	if got := u.Name(0); got != "0" {
		t.Errorf("Name(0) without a file = %q, want \"0\"", got)
	}
	if u.Err() == nil {
		t.Error("Err() = nil for a missing file")
	}
}

func TestUsersReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	u := NewUsers(path)
	u.CheckInterval = 0

	steps := []struct {
		content string // "" = remove the file
		uid     uint32
		want    string
	}{
		{"", 1000, "1000"},
		{"alice:x:1000:1000::/home/alice:/bin/sh\n", 1000, "alice"},
		{"bob:x:1000:1000::/home/bob:/bin/sh\n", 1000, "bob"},                              // same size, new content
		{"bob:x:1000:1000::/home/bob:/bin/sh\ncarol:x:1001:1::/:/bin/sh\n", 1001, "carol"}, // user added
		{"", 1000, "1000"},
	}
	for i, s := range steps {
		if s.content == "" {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		} else {
			// Write a new file and rename it over, as useradd does; the inode changes.
			tmp := path + ".new"
			if err := os.WriteFile(tmp, []byte(s.content), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(tmp, path); err != nil {
				t.Fatal(err)
			}
		}
		if got := u.Name(s.uid); got != s.want {
			t.Errorf("step %d: Name(%d) = %q, want %q", i, s.uid, got, s.want)
		}
	}
}

func TestUsersCheckInterval(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	if err := os.WriteFile(path, []byte("alice:x:1000:1000::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	u := NewUsers(path)
	u.CheckInterval = time.Hour
	if got := u.Name(1000); got != "alice" {
		t.Fatalf("Name(1000) = %q", got)
	}
	if err := os.WriteFile(path, []byte("bob:x:1000:1000::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := u.Name(1000); got != "alice" {
		t.Errorf("Name(1000) = %q: file re-read before CheckInterval passed", got)
	}

	// Once the interval has passed, the next Name looks again.
	u = NewUsers(path)
	u.CheckInterval = 20 * time.Millisecond
	if got := u.Name(1000); got != "bob" {
		t.Fatalf("Name(1000) = %q", got)
	}
	if err := os.WriteFile(path, []byte("carol:x:1000:1000::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); u.Name(1000) != "carol"; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("Name(1000) = %q long after CheckInterval passed, want carol", u.Name(1000))
		}
	}
}

func BenchmarkUsersName(b *testing.B) {
	u := NewUsers("testdata/passwd")
	b.ReportAllocs()
	for b.Loop() {
		_ = u.Name(1000)
	}
}

// TestUsersLongLine: a line over the limit is skipped and reported, naming the
// file and line; the lines after it still count.
func TestUsersLongLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	content := "alice:x:1000:1000::/:/bin/sh\n" +
		"mallory:x:1001:1001:" + strings.Repeat("g", maxPasswdLine) + ":/:/bin/sh\n" +
		"bob:x:1002:1002::/:/bin/sh\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	u := NewUsers(path)
	for uid, want := range map[uint32]string{1000: "alice", 1001: "1001", 1002: "bob"} {
		if got := u.Name(uid); got != want {
			t.Errorf("Name(%d) = %q, want %q", uid, got, want)
		}
	}
	if err := u.Err(); err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("Err() = %v, want the file and line of the long line", err)
	}

	// a file fixed since is read again, error gone
	u.CheckInterval = 0
	if err := os.WriteFile(path+".new", []byte("bob:x:1002:1002::/:/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if err := u.Err(); err != nil || u.Name(1002) != "bob" {
		t.Errorf("after the fix: Err() = %v, Name(1002) = %q", err, u.Name(1002))
	}
}
