//go:build linux

package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vigil-sec/vigil/sensor/kill"
)

// reserve is kept back from the bound for the manifest and the truncation note.
const reserve = 64 << 10

type writer struct {
	tw    *tar.Writer
	buf   *bytes.Buffer
	limit int64 // for everything but the manifest and the note
	m     *Manifest
	cut   []string
}

// room is how many more content bytes one entry may hold.
func (w *writer) room() int64 {
	return w.limit - int64(w.buf.Len()) - 1024 // header and padding
}

// add writes a file, cut to the room left; it reports whether it was whole.
func (w *writer) add(name string, data []byte, mode int64) bool {
	room := w.room()
	if room <= 0 {
		w.cut = append(w.cut, name+" (left out)")
		w.m.Truncated = true
		return false
	}
	whole := int64(len(data)) <= room
	if !whole {
		data = data[:room]
		w.cut = append(w.cut, fmt.Sprintf("%s (cut at %d bytes)", name, room))
		w.m.Truncated = true
	}
	sum := sha256.Sum256(data)
	w.tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: int64(len(data)), ModTime: w.m.Taken, Typeflag: tar.TypeReg})
	w.tw.Write(data)
	w.tw.Flush()
	w.m.Files = append(w.m.Files, Entry{Name: name, Bytes: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Truncated: !whole})
	return whole
}

// afterPin, when set, is called once the process is pinned and checked (tests
// end the process there).
var afterPin func()

// proc is a process pinned by its open /proc/PID directory: every file is read
// relative to it (openat), and the kernel ties that directory to the process, not
// to its pid, so once the process has exited the reads fail; they never reach a
// later process that was given the same pid.
type proc struct {
	pid int
	dir *os.File
}

func pin(pid int) (*proc, error) {
	dir, err := os.Open("/proc/" + strconv.Itoa(pid))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("pid %d: %w", pid, kill.ErrGone)
	}
	if err != nil {
		return nil, err
	}
	return &proc{pid: pid, dir: dir}, nil
}

func (p *proc) Close() error { return p.dir.Close() }

// open opens name (like "maps" or "net/tcp") in the process's directory.
func (p *proc) open(name string) (*os.File, error) {
	for {
		fd, err := unix.Openat(int(p.dir.Fd()), name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return nil, &os.PathError{Op: "openat", Path: p.path(name), Err: err}
		}
		return os.NewFile(uintptr(fd), p.path(name)), nil
	}
}

func (p *proc) path(name string) string { return "/proc/" + strconv.Itoa(p.pid) + "/" + name }

// readFile reads a whole file of the process's directory.
func (p *proc) readFile(name string) ([]byte, error) {
	f, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// readBounded reads at most n bytes (none when n ≤ 0) of a file of the
// process's directory.
func (p *proc) readBounded(name string, n int64) ([]byte, error) {
	f, err := p.open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, max(n, 0)))
}

// readlink reads a link of the process's directory (like "fd/3").
func (p *proc) readlink(name string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(int(p.dir.Fd()), name, buf)
		if err != nil {
			return "", &os.PathError{Op: "readlinkat", Path: p.path(name), Err: err}
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// stat reads the process's stat. A process that exited, reaped or not, is
// ErrGone.
func (p *proc) stat() (kill.Stat, error) {
	raw, err := p.readFile("stat")
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ESRCH) {
		return kill.Stat{}, fmt.Errorf("pid %d: %w", p.pid, kill.ErrGone)
	}
	if err != nil {
		return kill.Stat{}, err
	}
	st, err := kill.ParseStat(raw)
	if err != nil {
		return kill.Stat{}, fmt.Errorf("%s: %w", p.path("stat"), err)
	}
	if st.State == 'Z' || st.State == 'X' {
		return st, fmt.Errorf("pid %d has exited: %w", p.pid, kill.ErrGone)
	}
	return st, nil
}

// Take captures the process. The process is pinned first (see proc) and its
// start time checked after, so the archive holds only the process meant; a
// process that exits while it is captured gives an error wrapping
// kill.ErrGone, not a partial archive.
func Take(ctx context.Context, o Options) (*Snapshot, error) {
	if o.PID <= 0 {
		return nil, fmt.Errorf("snapshot: invalid pid %d", o.PID)
	}
	bound := o.MaxBytes
	if bound <= 0 {
		bound = DefaultMaxBytes
	}
	if bound < 2*reserve {
		return nil, fmt.Errorf("snapshot: max bytes %d is below the minimum %d", bound, 2*reserve)
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	p, err := pin(o.PID)
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	defer p.Close()
	st, err := p.stat()
	if err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if o.StartTime != 0 && st.StartTime != o.StartTime {
		return nil, fmt.Errorf("snapshot: pid %d started at %d, want %d: %w", o.PID, st.StartTime, o.StartTime, kill.ErrNotSameProcess)
	}
	if afterPin != nil {
		afterPin()
	}
	m := &Manifest{PID: o.PID, StartTime: st.StartTime, Comm: st.Comm, Taken: now().UTC(), MaxBytes: bound}
	w := &writer{buf: &bytes.Buffer{}, limit: bound - reserve, m: m}
	w.tw = tar.NewWriter(w.buf)
	fail := func(what string, err error) { m.Errors = append(m.Errors, fmt.Sprintf("%s: %v", what, err)) }

	for _, name := range []string{"cmdline", "environ", "status", "stat", "maps", "limits", "cgroup", "mountinfo"} {
		data, err := p.readFile(name)
		if err != nil {
			fail("proc/"+name, err)
			continue
		}
		w.add("proc/"+name, data, 0o400)
	}
	w.add("fds.txt", fds(p), 0o400)
	for _, name := range []string{"tcp", "tcp6", "udp", "udp6", "raw", "raw6", "unix"} {
		if data, err := p.readFile("net/" + name); err == nil {
			w.add("net/"+name, data, 0o400)
		}
	}
	if exe, err := p.readBounded("exe", w.room()+1); err != nil {
		fail("exe", err)
	} else {
		w.add("exe", exe, 0o500)
	}

	maps, err := p.readFile("maps")
	if err != nil {
		fail("maps", err)
	}
	if err := memory(ctx, w, p, maps); err != nil {
		fail("memory", err)
	}
	// what was read is the pinned process's; if it exited meanwhile, the reads
	// after its exit came back empty or failed: the archive is not the process
	if _, err := p.stat(); err != nil {
		return nil, fmt.Errorf("snapshot: pid %d exited while it was captured: %w", o.PID, err)
	}

	if m.Truncated {
		note := fmt.Sprintf("This snapshot was truncated: the archive is bounded to %d bytes.\nLeft out or cut short:\n%s\n",
			bound, strings.Join(w.cut, "\n"))
		w.limit = bound // the reserve is for these two
		w.add("TRUNCATED.txt", []byte(note), 0o400)
	}
	man, _ := json.MarshalIndent(m, "", "  ")
	w.limit = bound
	w.add("manifest.json", man, 0o400)
	if err := w.tw.Close(); err != nil {
		return nil, fmt.Errorf("snapshot: %w", err)
	}
	if int64(w.buf.Len()) > bound {
		return nil, fmt.Errorf("snapshot: archive of %d bytes exceeds the bound %d", w.buf.Len(), bound)
	}
	sum := sha256.Sum256(w.buf.Bytes())
	return &Snapshot{Tar: w.buf.Bytes(), SHA256: hex.EncodeToString(sum[:]), Manifest: *m}, nil
}

// fds lists the open descriptors: "3 -> /etc/passwd".
func fds(p *proc) []byte {
	d, err := p.open("fd")
	if err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	ents, err := d.ReadDir(-1)
	d.Close()
	if err != nil {
		return []byte("error: " + err.Error() + "\n")
	}
	sort.Slice(ents, func(i, j int) bool {
		a, _ := strconv.Atoi(ents[i].Name())
		b, _ := strconv.Atoi(ents[j].Name())
		return a < b
	})
	var b bytes.Buffer
	for _, e := range ents {
		target, err := p.readlink("fd/" + e.Name())
		if err != nil {
			target = "error: " + err.Error()
		}
		fmt.Fprintf(&b, "%s -> %s\n", e.Name(), target)
	}
	return b.Bytes()
}

// memory adds every readable mapping listed in maps.
func memory(ctx context.Context, w *writer, p *proc, maps []byte) error {
	mem, err := p.open("mem")
	if err != nil {
		return err
	}
	defer mem.Close()
	for _, line := range strings.Split(string(maps), "\n") {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		bounds := strings.SplitN(f[0], "-", 2)
		start, err1 := strconv.ParseUint(bounds[0], 16, 64)
		end, err2 := strconv.ParseUint(bounds[len(bounds)-1], 16, 64)
		if err1 != nil || err2 != nil || end <= start {
			continue
		}
		r := Region{Start: bounds[0], End: bounds[1], Perms: f[1], Size: int64(end - start)}
		if len(f) >= 6 {
			r.Path = strings.Join(f[5:], " ")
		}
		switch {
		case !strings.HasPrefix(r.Perms, "r"):
			r.Reason = "not readable"
		case r.Path == "[vvar]" || r.Path == "[vsyscall]" || r.Path == "[vvar_vclock]" || start >= 1<<63:
			r.Reason = "kernel page"
		case w.room() <= 0:
			r.Reason = "size bound reached"
			w.cut = append(w.cut, "memory "+f[0]+" (left out)")
			w.m.Truncated = true
		default:
			data, rerr := readRegion(mem, int64(start), min(r.Size, max(w.room(), 0)))
			if rerr != nil && len(data) == 0 {
				r.Reason = rerr.Error()
				break
			}
			if rerr != nil {
				r.Reason = "partly readable: " + rerr.Error()
			}
			r.File = fmt.Sprintf("memory/%s-%s_%s.bin", bounds[0], bounds[1], r.Perms)
			w.add(r.File, data, 0o400)
			r.Bytes = w.m.Files[len(w.m.Files)-1].Bytes
			if r.Bytes < r.Size && r.Reason == "" {
				r.Reason = "size bound reached"
				w.m.Truncated = true
				if len(w.cut) == 0 || !strings.Contains(w.cut[len(w.cut)-1], r.File) {
					w.cut = append(w.cut, fmt.Sprintf("%s (cut at %d of %d bytes)", r.File, r.Bytes, r.Size))
				}
			}
		}
		w.m.Regions = append(w.m.Regions, r)
	}
	return nil
}

// readRegion reads n bytes at off, stopping at the first unreadable page.
func readRegion(mem *os.File, off, n int64) ([]byte, error) {
	out := make([]byte, 0, min(n, 16<<20))
	chunk := make([]byte, 1<<20)
	for int64(len(out)) < n {
		k := min(int64(len(chunk)), n-int64(len(out)))
		got, err := mem.ReadAt(chunk[:k], off+int64(len(out)))
		out = append(out, chunk[:got]...)
		if err != nil {
			if int64(len(out)) == n {
				break
			}
			return out, err
		}
	}
	return out, nil
}
