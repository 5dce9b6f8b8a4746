package enrich

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Users maps uids to user names from a passwd(5) file. The file is parsed on first
// use and again whenever its size, modification time or inode changes; changes are
// looked for at most once per CheckInterval. A missing or unreadable file leaves
// every uid shown as its number.
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

// Err returns the error from the last attempt to read the file, if any.
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
	if u.loaded && st == u.stamp && u.err == nil {
		return
	}
	data, err := os.ReadFile(u.path)
	u.loaded = true
	if err != nil {
		u.names, u.stamp, u.err = nil, fileStamp{}, err
		return
	}
	u.names, u.stamp, u.err = parsePasswd(data), st, nil
}

// parsePasswd reads name:password:uid:... lines. Comments, blank and malformed
// lines are skipped; for a uid listed twice the first name wins, as in getpwuid.
func parsePasswd(data []byte) map[uint32]string {
	names := make(map[uint32]string)
	s := bufio.NewScanner(bytes.NewReader(data))
	s.Buffer(make([]byte, 0, 4096), 1<<20)
	for s.Scan() {
		line := bytes.TrimSpace(s.Bytes())
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
	return names
}
