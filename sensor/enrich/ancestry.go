package enrich

import (
	"bytes"
	"strconv"

	"github.com/vigil-sec/vigil/internal/event"
)

// DefaultAncestryDepth is how many ancestors an event lists when
// Options.AncestryDepth is 0.
const DefaultAncestryDepth = 8

// maxAncestryDepth bounds the configured depth.
const maxAncestryDepth = 64

// Context is the process context the kernel reads at exec (sensor/collector):
// every event of the process carries it, not only its NEW_PROCESS. A process
// seen first in /proc (started before the sensor) has only Args and CWD.
type Context struct {
	Args             []string
	CWD              string
	TTY              string
	LoginUID         uint32
	SessionID        uint32
	ProcessStartTime int64
	VPID             uint32
	CapEffective     uint64
	ExeUpperLayer    uint32
}

// contextOf takes the context of a NEW_PROCESS event.
func contextOf(ev *event.Event) *Context {
	return &Context{Args: ev.Args, CWD: ev.CWD, TTY: ev.TTY, LoginUID: ev.LoginUID, SessionID: ev.SessionID,
		ProcessStartTime: ev.ProcessStartTime, VPID: ev.VPID, CapEffective: ev.CapEffective,
		ExeUpperLayer: ev.ExeUpperLayer}
}

// apply copies c into ev.
func (c *Context) apply(ev *event.Event) {
	ev.Args, ev.CWD, ev.TTY = c.Args, c.CWD, c.TTY
	ev.LoginUID, ev.SessionID = c.LoginUID, c.SessionID
	ev.ProcessStartTime, ev.VPID, ev.CapEffective = c.ProcessStartTime, c.VPID, c.CapEffective
	ev.ExeUpperLayer = c.ExeUpperLayer
}

// ancestry is a process's ancestors, parent first, in the event's parallel
// lists. Every event of the process shares these slices: they are never
// modified once built.
type ancestry struct {
	ppid  uint32    // the parent it was built for
	from  *ancestry // the parent's ancestry it extends (a parent's kids)
	pids  []uint32
	paths []string
	cmds  []string
	users []string
}

func (a *ancestry) apply(ev *event.Event) {
	ev.AncestorPIDs, ev.AncestorPaths, ev.AncestorCommandLines, ev.AncestorUsers = a.pids, a.paths, a.cmds, a.users
}

// ancestryLocked returns the ancestry of pid, whose parent is ppid, building
// it from the parent's (itself built, and kept, the same way) and keeping it
// in the table entry of pid when there is one. The walk stops at the
// configured depth, at a process it cannot find (the table, then /proc), at
// pid 0 and at a loop. The children of a process whose own ancestry is known
// share one ancestry, kept with the parent: a storm of short-lived children
// (a shell loop, a build) builds it once.
func (e *Enricher) ancestryLocked(pid, ppid uint32) *ancestry {
	if e.depth <= 0 || ppid == 0 {
		return &ancestry{ppid: ppid}
	}
	if p, ok := e.table[pid]; ok && p.anc != nil && p.anc.ppid == ppid {
		return p.anc
	}
	var a *ancestry
	parent, ok := e.lookupLocked(ppid)
	if ok && ppid != pid && parent.anc == nil {
		// A process seen only as a parent (started before the sensor, or
		// without events of its own yet) gets its ancestry now.
		parent.anc = e.walk(ppid, parent.PPID)
		e.table[ppid] = parent
	}
	if ok && ppid != pid && parent.anc.ppid == parent.PPID {
		if parent.kids == nil || parent.kids.from != parent.anc {
			parent.kids = e.extend(ppid, parent)
			e.table[ppid] = parent
		}
		a = parent.kids
	} else {
		a = e.walk(pid, ppid)
	}
	if p, ok := e.table[pid]; ok {
		p.anc, p.kids = a, nil
		e.table[pid] = p
	}
	return a
}

// extend returns the ancestry of the children of parent (pid ppid): parent,
// then as much of parent's own ancestry as the depth leaves room for.
func (e *Enricher) extend(ppid uint32, parent Process) *ancestry {
	n := min(e.depth-1, len(parent.anc.pids))
	a := &ancestry{ppid: ppid, from: parent.anc, pids: make([]uint32, 0, n+1), paths: make([]string, 0, n+1),
		cmds: make([]string, 0, n+1), users: make([]string, 0, n+1)}
	a.pids = append(append(a.pids, ppid), parent.anc.pids[:n]...)
	a.paths = append(append(a.paths, parent.Path), parent.anc.paths[:n]...)
	a.cmds = append(append(a.cmds, parent.CommandLine), parent.anc.cmds[:n]...)
	a.users = append(append(a.users, e.users.Name(parent.UID)), parent.anc.users[:n]...)
	return a
}

// walk builds the ancestry of pid, whose parent is ppid, from the table,
// ancestor after ancestor, taking the rest from the first whose own ancestry
// is known.
func (e *Enricher) walk(pid, ppid uint32) *ancestry {
	a := &ancestry{ppid: ppid}
	cur := ppid
	seen := 0
	for cur != 0 && seen < e.depth && cur != pid {
		p, ok := e.lookupLocked(cur)
		if !ok {
			break
		}
		a.pids = append(a.pids, cur)
		a.paths = append(a.paths, p.Path)
		a.cmds = append(a.cmds, p.CommandLine)
		a.users = append(a.users, e.users.Name(p.UID))
		seen++
		if p.anc != nil && p.anc.ppid == p.PPID {
			// the rest is the parent's ancestry
			rest := e.depth - seen
			n := min(rest, len(p.anc.pids))
			a.pids = append(a.pids, p.anc.pids[:n]...)
			a.paths = append(a.paths, p.anc.paths[:n]...)
			a.cmds = append(a.cmds, p.anc.cmds[:n]...)
			a.users = append(a.users, p.anc.users[:n]...)
			break
		}
		if p.PPID == cur {
			break
		}
		cur = p.PPID
	}
	a.pids, a.paths, a.cmds, a.users = clip(a.pids), clip(a.paths), clip(a.cmds), clip(a.users)
	return a
}

func clip[T any](s []T) []T { return s[:len(s):len(s)] }

// procArgs splits a /proc/<pid>/cmdline into the process's arguments.
func procArgs(cmdline []byte) []string {
	b := bytes.TrimSuffix(cmdline, []byte{0})
	if len(b) == 0 {
		return nil
	}
	var out []string
	for s := range bytes.SplitSeq(b, []byte{0}) {
		out = append(out, string(s))
	}
	return out
}

// parseStatusUID reads the real uid from /proc/<pid>/status ("Uid:\treal\teffective...").
func parseStatusUID(status []byte) (uint32, bool) {
	for line := range bytes.SplitSeq(status, []byte{'\n'}) {
		if v, ok := bytes.CutPrefix(line, []byte("Uid:")); ok {
			f := bytes.Fields(v)
			if len(f) == 0 {
				return 0, false
			}
			n, err := strconv.ParseUint(string(f[0]), 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}
