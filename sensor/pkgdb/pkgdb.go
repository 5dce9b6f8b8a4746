package pkgdb

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoDatabase says the host has no package database the sensor can read.
var ErrNoDatabase = errors.New("no dpkg or apk package database")

// The databases, relative to the root.
const (
	dpkgInfo   = "var/lib/dpkg/info"
	dpkgStatus = "var/lib/dpkg/status"
	apkDB      = "lib/apk/db/installed"
)

// DB maps the files of the installed packages to their package.
type DB struct {
	owner map[string]string
	stamp string // what the database looked like when read
}

// Owner returns the package that owns the file at p (an absolute path).
func (d *DB) Owner(p string) (string, bool) {
	pkg, ok := d.owner[p]
	return pkg, ok
}

// Len is the number of paths known.
func (d *DB) Len() int { return len(d.owner) }

// Load reads the package database under root ("/" for the host).
func Load(root string) (*DB, error) {
	stamp, err := stampOf(root)
	if err != nil {
		return nil, err
	}
	l := &loader{root: root, owner: map[string]string{}, dirs: map[string]string{}}
	if err := l.dpkg(); err != nil {
		return nil, err
	}
	if err := l.apk(); err != nil {
		return nil, err
	}
	return &DB{owner: l.owner, stamp: stamp}, nil
}

// stampOf describes the databases present under root by their modification
// times; ErrNoDatabase when there is none.
func stampOf(root string) (string, error) {
	var b strings.Builder
	for _, p := range []string{dpkgInfo, dpkgStatus, apkDB} {
		st, err := os.Stat(filepath.Join(root, p))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return "", fmt.Errorf("package database: %w", err)
		}
		fmt.Fprintf(&b, "%s@%d;", p, st.ModTime().UnixNano())
	}
	if b.Len() == 0 {
		return "", ErrNoDatabase
	}
	return b.String(), nil
}

type loader struct {
	root  string
	owner map[string]string
	dirs  map[string]string // directory as listed → as resolved
}

// add records that pkg owns the file p, under its listed path and under the
// path with its directory's symbolic links resolved.
func (l *loader) add(p, pkg string) {
	if !path.IsAbs(p) {
		p = "/" + p
	}
	p = path.Clean(p)
	if p == "/" {
		return
	}
	if _, ok := l.owner[p]; !ok {
		l.owner[p] = pkg
	}
	dir, name := path.Split(p)
	rdir, ok := l.dirs[dir]
	if !ok {
		rdir = dir
		if r, err := filepath.EvalSymlinks(filepath.Join(l.root, dir)); err == nil {
			if rel, err := filepath.Rel(l.root, r); err == nil && !strings.HasPrefix(rel, "..") {
				rdir = path.Clean("/"+filepath.ToSlash(rel)) + "/"
			}
		}
		l.dirs[dir] = rdir
	}
	if rdir != dir {
		if rp := path.Join(rdir, name); l.owner[rp] == "" {
			l.owner[rp] = pkg
		}
	}
}

// dpkg reads every <package>[:<arch>].list of the dpkg info directory.
func (l *loader) dpkg() error {
	dir := filepath.Join(l.root, dpkgInfo)
	ents, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return fmt.Errorf("package database: %w", err)
	}
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".list")
		if !ok || e.IsDir() {
			continue
		}
		pkg, _, _ := strings.Cut(name, ":")
		if err := l.readLines(filepath.Join(dir, e.Name()), func(line string) {
			if line != "" && line != "/." {
				l.add(line, pkg)
			}
		}); err != nil {
			return err
		}
	}
	return nil
}

// apk reads apk's installed database: P: starts a package, F: names a
// directory, R: a file in it.
func (l *loader) apk() error {
	var pkg, dir string
	err := l.readLines(filepath.Join(l.root, apkDB), func(line string) {
		k, v, ok := strings.Cut(line, ":")
		if !ok || len(k) != 1 {
			return
		}
		switch k {
		case "P":
			pkg, dir = v, ""
		case "F":
			dir = v
		case "R":
			if pkg != "" {
				l.add(path.Join("/", dir, v), pkg)
			}
		}
	})
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (l *loader) readLines(file string, line func(string)) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("package database: %w", err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	for n := 1; ; n++ {
		s, err := r.ReadString('\n')
		if s != "" {
			line(strings.TrimRight(s, "\r\n"))
		}
		switch {
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("package database %s:%d: %w", file, n, err)
		}
	}
}

// Tracker keeps a DB current: Owner answers from the last one read and, at
// most once per Interval, starts a reload in the background when the database
// changed.
type Tracker struct {
	Root     string        // "/" for the host
	Interval time.Duration // default a minute
	// Errorf, when set, is told a reload that failed (the last DB is kept).
	Errorf func(error)

	db        atomic.Pointer[DB]
	lastCheck atomic.Int64
	reloading atomic.Bool
	wg        sync.WaitGroup
	now       func() time.Time
}

// NewTracker reads the database under root; ErrNoDatabase when there is none.
func NewTracker(root string) (*Tracker, error) {
	db, err := Load(root)
	if err != nil {
		return nil, err
	}
	t := &Tracker{Root: root, now: time.Now}
	t.db.Store(db)
	t.lastCheck.Store(t.now().UnixNano())
	return t, nil
}

// Owner returns the package owning the executable at p.
func (t *Tracker) Owner(p string) (string, bool) {
	t.check()
	return t.db.Load().Owner(p)
}

func (t *Tracker) check() {
	every := t.Interval
	if every <= 0 {
		every = time.Minute
	}
	now := t.now().UnixNano()
	last := t.lastCheck.Load()
	if now-last < int64(every) || !t.lastCheck.CompareAndSwap(last, now) || !t.reloading.CompareAndSwap(false, true) {
		return
	}
	t.wg.Go(func() {
		defer t.reloading.Store(false)
		stamp, err := stampOf(t.Root)
		if err == nil && stamp == t.db.Load().stamp {
			return
		}
		db, err := Load(t.Root)
		if err != nil {
			if t.Errorf != nil {
				t.Errorf(err)
			}
			return
		}
		t.db.Store(db)
	})
}

// Wait returns when no reload is running.
func (t *Tracker) Wait() { t.wg.Wait() }
