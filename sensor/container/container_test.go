package container

import (
	"bufio"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// readCases reads a tab-separated fixture of cols columns, skipping blank
// lines and # comments; "-" stands for an empty value.
func readCases(t *testing.T, file string, cols int) [][]string {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out [][]string
	s := bufio.NewScanner(f)
	for line := 1; s.Scan(); line++ {
		text := s.Text()
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		parts := strings.Split(text, "\t")
		if len(parts) != cols {
			t.Fatalf("%s:%d: %d columns, want %d", file, line, len(parts), cols)
		}
		for i, p := range parts {
			if p == "-" {
				parts[i] = ""
			}
		}
		out = append(out, parts)
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestID runs every case of testdata/cgroups.txt: one cgroup path per runtime
// layout, with the id it must give.
func TestID(t *testing.T) {
	cases := readCases(t, "testdata/cgroups.txt", 3)
	for _, c := range cases {
		name, path, want := c[0], c[1], c[2]
		t.Run(name, func(t *testing.T) {
			if got := ID(path); got != want {
				t.Errorf("ID(%q) = %q, want %q", path, got, want)
			}
			// The same path read from /proc/<pid>/cgroup on a unified host.
			if got := FromProcCgroup([]byte("0::" + path + "\n")); got != want {
				t.Errorf("FromProcCgroup(0::%s) = %q, want %q", path, got, want)
			}
		})
	}
	if len(cases) < 10 {
		t.Fatalf("only %d cases read", len(cases))
	}
}

func TestFromProcCgroupHybrid(t *testing.T) {
	data, err := os.ReadFile("testdata/proc_cgroup_hybrid.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := FromProcCgroup(data), "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"; got != want {
		t.Errorf("FromProcCgroup = %q, want %q (from the v1 hierarchies)", got, want)
	}
	if got := FromProcCgroup([]byte("0::/\n1:name=systemd:/user.slice\nbroken line\n")); got != "" {
		t.Errorf("host process: %q, want none", got)
	}
}

func TestCgroup2Mount(t *testing.T) {
	for file, want := range map[string]string{
		"testdata/mountinfo_hybrid.txt":  "/sys/fs/cgroup/unified",
		"testdata/mountinfo_unified.txt": "/sys/fs/cgroup",
		"testdata/mountinfo_none.txt":    "",
	} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if got := Cgroup2Mount(data); got != want {
			t.Errorf("%s: Cgroup2Mount = %q, want %q", file, got, want)
		}
	}
	if got := Cgroup2Mount([]byte("31 30 0:27 / /mnt/cg\\040two rw - cgroup2 cgroup2 rw\n")); got != "/mnt/cg two" {
		t.Errorf("escaped mount point: %q", got)
	}
	if _, err := NewResolver(Options{Mountinfo: "testdata/mountinfo_none.txt"}); !errors.Is(err, ErrNoCgroup2) {
		t.Errorf("NewResolver without cgroup2: %v, want ErrNoCgroup2", err)
	}
}

// TestResolver builds a directory tree shaped like a cgroup2 mount and resolves
// its directories' inode numbers (what the kernel reports as cgroup ids).
func TestResolver(t *testing.T) {
	root := t.TempDir()
	const id = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	ctr := filepath.Join(root, "system.slice", "docker-"+id+".scope")
	svc := filepath.Join(root, "system.slice", "sshd.service")
	for _, d := range []string{ctr, svc} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r, err := NewResolver(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	if got := r.ContainerID(ino(t, ctr)); got != id {
		t.Errorf("container cgroup: %q, want %q", got, id)
	}
	if got := r.ContainerID(ino(t, svc)); got != "" {
		t.Errorf("service cgroup: %q, want none", got)
	}
	if p, ok := r.Path(ino(t, root)); !ok || p != "/" {
		t.Errorf("root path = %q, %v", p, ok)
	}
	if got := r.ContainerID(0); got != "" {
		t.Errorf("id 0: %q", got)
	}
	if got := r.ContainerID(1 << 60); got != "" {
		t.Errorf("unknown id: %q", got)
	}
}

func ino(t *testing.T, p string) uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(p, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// TestResolverHost resolves this process's own cgroup on the running host.
func TestResolverHost(t *testing.T) {
	r, err := NewResolver(Options{})
	if errors.Is(err, ErrNoCgroup2) {
		t.Skip("skipping: no cgroup2 mount on this host")
	}
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		t.Fatal(err)
	}
	var rel string
	for _, line := range strings.Split(string(data), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			rel = p
		}
	}
	id := ino(t, filepath.Join(r.Root(), rel))
	if p, ok := r.Path(id); !ok || p != rel {
		t.Errorf("Path(%d) = %q, %v; want %q", id, p, ok, rel)
	}
}

func FuzzID(f *testing.F) {
	f.Add("/system.slice/docker-3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a.scope")
	f.Add("/")
	f.Fuzz(func(t *testing.T, p string) {
		if id := ID(p); id != "" && (!isID(id) || !strings.Contains(p, id)) {
			t.Fatalf("ID(%q) = %q", p, id)
		}
	})
}
