package container

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// runtimePrefixes are the prefixes runtimes put before the id in a cgroup name.
var runtimePrefixes = []string{"docker-", "cri-containerd-", "crio-", "libpod-", "containerd-", "nerdctl-", "cri-dockerd-"}

// ID returns the container id in a cgroup path, or "" if the path is not a
// container's (the host, a systemd service, a pod's own cgroup).
func ID(cgroupPath string) string {
	p := cgroupPath
	for p != "" && p != "/" && p != "." {
		dir, name := filepath.Split(strings.TrimSuffix(p, "/"))
		if id := nameID(name); id != "" {
			return id
		}
		p = strings.TrimSuffix(dir, "/")
	}
	return ""
}

// nameID returns the id in one cgroup directory name, or "".
func nameID(name string) string {
	name = strings.TrimSuffix(name, ".scope")
	if strings.Contains(name, "conmon-") {
		return ""
	}
	for _, p := range runtimePrefixes {
		if rest, ok := strings.CutPrefix(name, p); ok {
			name = rest
			break
		}
	}
	if isID(name) {
		return name
	}
	return ""
}

func isID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// FromProcCgroup returns the container id found in any hierarchy of a
// /proc/<pid>/cgroup file ("hierarchy-id:controllers:path" lines), or "".
func FromProcCgroup(data []byte) string {
	return InfoFromProcCgroup(data).ContainerID
}

// Info is what a cgroup path tells of the container a process runs in.
type Info struct {
	ContainerID string // "" outside a container
	PodUID      string // the Kubernetes pod's UID, "" outside a pod
}

// PathInfo returns the container id and pod UID in a cgroup path.
func PathInfo(cgroupPath string) Info {
	return Info{ContainerID: ID(cgroupPath), PodUID: PodUID(cgroupPath)}
}

// InfoFromProcCgroup returns the container id and pod UID of the first
// hierarchy of a /proc/<pid>/cgroup file whose path names a container (or,
// without one, a pod), or the zero Info.
func InfoFromProcCgroup(data []byte) Info {
	var pod Info
	s := bufio.NewScanner(bytes.NewReader(data))
	for s.Scan() {
		parts := strings.SplitN(s.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		info := PathInfo(parts[2])
		if info.ContainerID != "" {
			return info
		}
		if pod.PodUID == "" {
			pod = info
		}
	}
	return pod
}

// Options configures a Resolver; the zero value inspects this host.
type Options struct {
	// Mountinfo is the mountinfo file to find the cgroup2 mount in; default
	// /proc/self/mountinfo. Root, if set, is the cgroup2 mount to use instead.
	Mountinfo string
	Root      string
	// ProcRoot is the procfs mount for FromPID; default /proc.
	ProcRoot string
}

// ErrNoCgroup2 is returned by NewResolver when no cgroup2 file system is mounted.
var ErrNoCgroup2 = errors.New("container: no cgroup2 mount")

// Resolver maps cgroup v2 ids to container ids. It is safe for concurrent use.
type Resolver struct {
	root string
	proc string

	mu       sync.Mutex
	paths    map[uint64]string // cgroup id → path relative to root
	ids      map[uint64]Info   // cgroup id → container and pod ("" for none)
	lastScan time.Time
}

// NewResolver finds the cgroup2 mount. Without one it returns ErrNoCgroup2 (and
// a usable Resolver for FromPID).
func NewResolver(opts Options) (*Resolver, error) {
	r := &Resolver{root: opts.Root, proc: opts.ProcRoot, paths: map[uint64]string{}, ids: map[uint64]Info{}}
	if r.proc == "" {
		r.proc = "/proc"
	}
	if r.root == "" {
		mi := opts.Mountinfo
		if mi == "" {
			mi = "/proc/self/mountinfo"
		}
		data, err := os.ReadFile(mi)
		if err != nil {
			return r, fmt.Errorf("container: %w", err)
		}
		r.root = Cgroup2Mount(data)
		if r.root == "" {
			return r, ErrNoCgroup2
		}
	}
	return r, nil
}

// Root returns the cgroup2 mount point the Resolver uses ("" if none).
func (r *Resolver) Root() string { return r.root }

// Cgroup2Mount returns the mount point of the first cgroup2 file system in a
// mountinfo(5) file, or "".
func Cgroup2Mount(mountinfo []byte) string {
	s := bufio.NewScanner(bytes.NewReader(mountinfo))
	for s.Scan() {
		f := strings.Fields(s.Text())
		for i, x := range f {
			if x == "-" && i+1 < len(f) && f[i+1] == "cgroup2" && len(f) > 4 {
				return unescape(f[4])
			}
		}
	}
	return ""
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, ok := octal(s[i+1 : i+4]); ok {
				b.WriteByte(v)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func octal(s string) (byte, bool) {
	if len(s) != 3 {
		return 0, false
	}
	var v int
	for i := 0; i < 3; i++ {
		if s[i] < '0' || s[i] > '7' {
			return 0, false
		}
		v = v*8 + int(s[i]-'0')
	}
	return byte(v), v < 256
}

// rescanEvery bounds how often an unknown cgroup id triggers a walk of the tree.
const rescanEvery = time.Second

// Path returns the path (relative to the cgroup2 mount, starting with "/") of
// the cgroup with the given id.
func (r *Resolver) Path(id uint64) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pathLocked(id)
}

func (r *Resolver) pathLocked(id uint64) (string, bool) {
	if p, ok := r.paths[id]; ok {
		return p, true
	}
	if r.root == "" || time.Since(r.lastScan) < rescanEvery {
		return "", false
	}
	r.scanLocked()
	p, ok := r.paths[id]
	return p, ok
}

// scanLocked walks the cgroup2 tree and records every cgroup's id.
func (r *Resolver) scanLocked() {
	r.lastScan = time.Now()
	paths := make(map[uint64]string, len(r.paths))
	_ = filepath.WalkDir(r.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		ino, ok := inode(info)
		if !ok {
			return nil
		}
		rel := strings.TrimPrefix(p, r.root)
		if rel == "" {
			rel = "/"
		}
		paths[ino] = rel
		return nil
	})
	r.paths = paths
	// Ids of removed cgroups may be reused by new ones: forget cached answers.
	for id := range r.ids {
		if _, ok := paths[id]; !ok {
			delete(r.ids, id)
		}
	}
}

// ContainerID returns the container id of the cgroup with the given id, or ""
// (the host, or a cgroup that is not a container's, or an unknown id).
func (r *Resolver) ContainerID(cgroupID uint64) string {
	return r.Info(cgroupID).ContainerID
}

// Info returns the container id and pod UID of the cgroup with the given id
// (the zero Info for the host, a cgroup that is not a container's or a pod's,
// or an unknown id).
func (r *Resolver) Info(cgroupID uint64) Info {
	if cgroupID == 0 {
		return Info{}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if info, ok := r.ids[cgroupID]; ok {
		return info
	}
	p, ok := r.pathLocked(cgroupID)
	if !ok {
		return Info{}
	}
	info := PathInfo(p)
	r.ids[cgroupID] = info
	return info
}

// FromPID returns the container id found in /proc/<pid>/cgroup ("" for none),
// and false if that file cannot be read (the process is gone).
func (r *Resolver) FromPID(pid uint32) (string, bool) {
	info, ok := r.InfoFromPID(pid)
	return info.ContainerID, ok
}

// InfoFromPID returns the container id and pod UID found in
// /proc/<pid>/cgroup, and false if that file cannot be read.
func (r *Resolver) InfoFromPID(pid uint32) (Info, bool) {
	data, err := os.ReadFile(filepath.Join(r.proc, strconv.FormatUint(uint64(pid), 10), "cgroup"))
	if err != nil {
		return Info{}, false
	}
	return InfoFromProcCgroup(data), true
}
