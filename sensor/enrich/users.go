package enrich

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Users maps uids to user names from a passwd(5) file. The file is parsed on first
// use and again whenever its size, modification time or inode changes; changes are
// looked for at most once per CheckInterval. A missing or unreadable file leaves
// every uid shown as its number. A line over 1 MiB is skipped, and Err reports it.
type Users struct {
	path string
	// CheckInterval is how often Name may stat the file for changes.
	CheckInterval time.Duration

	mu      sync.Mutex
	names   map[uint32]string
	numeric map[uint32]string // cache of fallback names
	stamp   fileStamp
	loaded  bool
	// due is set by timer once CheckInterval has passed since the last check:
	// Name is called for every event, and an atomic load is cheaper than
	// reading the clock.
	due   atomic.Bool
	timer *time.Timer
	err   error
}

type fileStamp struct {
	size  int64
	mtime time.Time
	ino   uint64
}

// NewUsers returns a Users reading path (normally /etc/passwd).
func NewUsers(path string) *Users {
	return &Users{path: path, CheckInterval: time.Second}
}

// Name returns the user name for uid, or uid in decimal if the file has no entry.
func (u *Users) Name(uid uint32) string {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refresh()
	if n, ok := u.names[uid]; ok {
		return n
	}
	if n, ok := u.numeric[uid]; ok {
		return n
	}
	if u.numeric == nil {
		u.numeric = make(map[uint32]string)
	}
	n := strconv.FormatUint(uint64(uid), 10)
	u.numeric[uid] = n
	return n
}

// Err returns the error from the last attempt to read and parse the file, if
// any: a line skipped as too long is named by file and line.
func (u *Users) Err() error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.refresh()
	return u.err
}

func (u *Users) refresh() {
	if u.CheckInterval > 0 {
		if u.loaded && !u.due.Load() {
			return
		}
		u.due.Store(false)
		if u.timer == nil {
			u.timer = time.AfterFunc(u.CheckInterval, func() { u.due.Store(true) })
		} else {
			u.timer.Reset(u.CheckInterval)
		}
	}
	fi, err := os.Stat(u.path)
	if err != nil {
		u.names, u.stamp, u.err, u.loaded = nil, fileStamp{}, err, true
		return
	}
	st := stampOf(fi)
	// a failed read leaves the zero stamp, so the file is read again; a file
	// read but not parsed whole keeps its stamp and error until it changes
	if u.loaded && st == u.stamp {
		return
	}
	data, err := os.ReadFile(u.path)
	u.loaded = true
	if err != nil {
		u.names, u.stamp, u.err = nil, fileStamp{}, err
		return
	}
	u.names, u.err = parsePasswd(u.path, data)
	u.stamp = st
}

// maxPasswdLine bounds a line of the passwd file.
const maxPasswdLine = 1 << 20

// parsePasswd reads name:password:uid:... lines of the file called name.
// Comments, blank and malformed lines are skipped; for a uid listed twice the
// first name wins, as in getpwuid. A line longer than maxPasswdLine is skipped
// too, but is an error (naming the file and line): the names of the other lines
// are returned with it.
func parsePasswd(name string, data []byte) (map[uint32]string, error) {
	names := make(map[uint32]string)
	var errs []error
	n := 0
	for raw := range bytes.SplitSeq(data, []byte{'\n'}) {
		n++
		if len(raw) > maxPasswdLine {
			errs = append(errs, fmt.Errorf("%s:%d: line of %d bytes, longer than %d: skipped", name, n, len(raw), maxPasswdLine))
			continue
		}
		line := bytes.TrimSpace(raw)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		fields := bytes.SplitN(line, []byte{':'}, 4)
		if len(fields) < 4 || len(fields[0]) == 0 || fields[0][0] == '+' || fields[0][0] == '-' {
			continue
		}
		uid, err := strconv.ParseUint(string(fields[2]), 10, 32)
		if err != nil {
			continue
		}
		if _, dup := names[uint32(uid)]; !dup {
			names[uint32(uid)] = string(fields[0])
		}
	}
	return names, errors.Join(errs...)
}
