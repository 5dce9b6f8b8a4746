package collector_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/collector"
)

// openClose opens path with flags and closes it.
func openClose(t *testing.T, path string, flags int) {
	t.Helper()
	fd, err := unix.Open(path, flags|unix.O_CLOEXEC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
}

// opensUntil returns the FILE_OPEN events of this process, by path, up to and
// including the first of sentinel, which it opens for reading.
func opensUntil(t *testing.T, events <-chan event.Event, sentinel string) map[string][]event.Event {
	t.Helper()
	openClose(t, sentinel, unix.O_RDONLY|unix.O_CREAT)
	got := map[string][]event.Event{}
	me := uint32(os.Getpid())
	waitFor(t, events, "FILE_OPEN of "+sentinel, func(ev *event.Event) bool {
		if ev.PID == me && ev.Type == event.FileOpen {
			got[ev.TargetPath] = append(got[ev.TargetPath], *ev)
		}
		return ev.PID == me && ev.Type == event.FileOpen && ev.TargetPath == sentinel
	})
	return got
}

// TestFileOpenDirVerdicts opens files, each several times so that the second
// and later opens can be decided by their directory's cached verdict, under a
// watched prefix that an excluded file prefix splits, under a prefix watched
// for changes only, and outside every prefix: each is reported exactly as the
// prefixes say, and the opens outside them are decided without a path walk
// (counted in FileCached). A directory moved from an unwatched place into a
// watched one has its next open reported.
func TestFileOpenDirVerdicts(t *testing.T) {
	root := watchedDir(t)
	x, ch, u := root+"/x", root+"/c", root+"/u"
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{x + "/"},
		FileExcludes: []string{x + "/y"}, FileChangePrefixes: []string{ch + "/"}})
	if hook := c.OpenHook(); !strings.HasSuffix(hook, "directory verdicts cached") {
		t.Fatalf("OpenHook() = %q, want directory verdicts cached", hook)
	}
	for _, d := range []string{x, ch, u + "/moving/in"} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]int{ // file: FILE_OPEN events wanted of 4 reads
		x + "/y1": 0, x + "/a": 4, x + "/yz": 0, x + "/z": 4, ch + "/r": 0, u + "/f": 0, u + "/moving/in/g": 0,
	}
	order := []string{x + "/y1", x + "/a", x + "/yz", x + "/z", ch + "/r", u + "/f", u + "/moving/in/g"}
	for _, f := range order {
		if err := os.WriteFile(f, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	opensUntil(t, events, x+"/start") // the creating opens' events are read
	for range 4 {
		for _, f := range order {
			openClose(t, f, unix.O_RDONLY)
		}
	}
	openClose(t, ch+"/r", unix.O_WRONLY) // a change: reported
	got := opensUntil(t, events, x+"/end")
	for f, want := range files {
		if f == ch+"/r" {
			want = 1
		}
		if len(got[f]) != want {
			t.Errorf("%s: %d FILE_OPEN events, want %d", f, len(got[f]), want)
		}
	}
	if evs := got[ch+"/r"]; len(evs) == 1 && evs[0].FileFlags != "write" {
		t.Errorf("%s: FILE_FLAGS %q, want write", ch+"/r", evs[0].FileFlags)
	}

	// The fast path: opens outside every prefix are decided by the cache.
	// Any rename on the host makes every cached verdict stale: a round of
	// opens during a burst of them may walk; one of five rounds must not.
	const n = 50
	var before, after collector.Stats
	for round := 0; round < 5 && (round == 0 || after.FileCached < before.FileCached+n-1); round++ {
		before = c.Stats()
		for range n {
			openClose(t, u+"/f", unix.O_RDONLY)
		}
		after = c.Stats()
	}
	if after.FileCached < before.FileCached+n-1 || after.FileFiltered < before.FileFiltered+n {
		t.Errorf("%d unwatched opens: FileCached %d -> %d, FileFiltered %d -> %d; want each %d more (one walk)",
			n, before.FileCached, after.FileCached, before.FileFiltered, after.FileFiltered, n)
	}

	// A directory whose parent moves into a watched one (the directory's
	// own dentry, inode and name unchanged): its files' verdicts change.
	if err := os.Rename(u+"/moving", x+"/moving"); err != nil {
		t.Fatal(err)
	}
	in := x + "/moving/in/g"
	openClose(t, in, unix.O_RDONLY)
	if got := opensUntil(t, events, x+"/end"); len(got[in]) != 1 {
		t.Errorf("%s, moved into a watched directory: %d FILE_OPEN events, want 1", in, len(got[in]))
	}
	// And out again, its verdict cached meanwhile.
	for range 3 {
		openClose(t, in, unix.O_RDONLY)
	}
	if err := os.Rename(x+"/moving", u+"/moving"); err != nil {
		t.Fatal(err)
	}
	out := u + "/moving/in/g"
	openClose(t, out, unix.O_RDONLY)
	if got := opensUntil(t, events, x+"/end"); len(got[out]) != 0 {
		t.Errorf("%s, moved out of the watched directory: reported", out)
	}
}

// TestFileOpenDirVerdictsOff checks that the kernel caches no directory
// verdict when a syscall that can move a directory is not hooked (its
// capability disabled): opens are still decided by their paths.
func TestFileOpenDirVerdictsOff(t *testing.T) {
	root := watchedDir(t)
	c, events := startCollectorWith(t, collector.Options{FilePrefixes: []string{root + "/w/"},
		Disable: []string{"file_change"}})
	if hook := c.OpenHook(); !strings.Contains(hook, "directory verdicts not cached: not hooked: rename") {
		t.Errorf("OpenHook() = %q, want the cache off for lack of rename", hook)
	}
	if err := os.MkdirAll(root+"/w", 0o700); err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(root, "f")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		openClose(t, f, unix.O_RDONLY)
	}
	got := opensUntil(t, events, root+"/w/end")
	if st := c.Stats(); st.FileCached != 0 || st.FileFiltered < 20 || len(got[f]) != 0 {
		t.Errorf("cache off: stats %+v, %d events of the unwatched file", st, len(got[f]))
	}
}
