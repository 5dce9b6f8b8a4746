package search

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// Searcher runs a query, calling fn with each match in order (Lake does; so
// does the Athena adapter).
type Searcher interface {
	Search(ctx context.Context, q Query, fn func(*event.Event) error) (Stats, error)
}

// Node is one process of a process tree.
type Node struct {
	PID         uint32  `json:"pid"`
	PPID        uint32  `json:"ppid"`
	Path        string  `json:"path"`
	CommandLine string  `json:"command_line"`
	User        string  `json:"user"`
	StartTime   string  `json:"start_time,omitempty"` // RFC 3339; empty when no event said
	Events      int     `json:"events"`
	Detection   bool    `json:"detection"`
	Children    []*Node `json:"children"`

	start int64 // Unix nanoseconds, 0 when unknown
}

// ContextResult is what happened around a detection: the events of its
// process, its ancestors and descendants within the window, in time order,
// and the tree of those processes, rooted at the oldest ancestor named.
type ContextResult struct {
	From, To  time.Time
	Events    []event.Event
	Tree      *Node
	Truncated bool
}

// MaxContextEvents bounds the process events a context reads.
const MaxContextEvents = 20_000

// processWhere selects the events that carry a process.
var processWhere = func() *engine.Where {
	w, err := engine.ParseWhere("context", []byte(`{op: exists, path: event/PROCESS_ID}`))
	if err != nil {
		panic(err)
	}
	return w
}()

// Context gathers the events around detected, an event of a detection of
// sensor at time at: the sensor's process events from window before at to
// window after it, of which it keeps those of detected's process (same pid
// and process start time), its ancestors and its descendants, and builds
// their process tree. The tree's ancestors beyond the window's events come
// from detected's ancestry.
func Context(ctx context.Context, s Searcher, sensor string, at time.Time, detected event.Event, window time.Duration) (*ContextResult, error) {
	res := &ContextResult{From: at.Add(-window).UTC(), To: at.Add(window).UTC()}
	q := Query{Where: processWhere, Since: res.From, Until: res.To, Sensors: []string{sensor}, Limit: MaxContextEvents}
	var all []event.Event
	st, err := s.Search(ctx, q, func(e *event.Event) error {
		all = append(all, *e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("context: %w", err)
	}
	res.Truncated = st.Truncated
	tree, keep := buildTree(all, detected)
	res.Tree = tree
	for i := range all {
		if keep[keyOf(&all[i])] {
			res.Events = append(res.Events, all[i])
		}
	}
	sort.SliceStable(res.Events, func(i, j int) bool { return res.Events[i].TimeNanos < res.Events[j].TimeNanos })
	return res, nil
}

type procKey struct {
	pid   uint32
	start int64
}

func keyOf(e *event.Event) procKey { return procKey{e.PID, e.ProcessStartTime} }

// forest holds the processes the events name.
type forest struct {
	nodes map[procKey]*Node
	byPID map[uint32][]*Node
}

func (f *forest) node(k procKey) *Node {
	n, ok := f.nodes[k]
	if !ok {
		n = &Node{PID: k.pid, start: k.start, Children: []*Node{}}
		if k.start != 0 {
			n.StartTime = time.Unix(0, k.start).UTC().Format(time.RFC3339Nano)
		}
		f.nodes[k] = n
		f.byPID[k.pid] = append(f.byPID[k.pid], n)
	}
	return n
}

// parent is the process with pid that started last before a child started
// at start (any, when the times are unknown).
func (f *forest) parent(pid uint32, start int64) *Node {
	var best *Node
	for _, n := range f.byPID[pid] {
		if start != 0 && n.start > start {
			continue
		}
		if best == nil || n.start > best.start {
			best = n
		}
	}
	return best
}

// buildTree returns the tree of detected's process (its ancestors above it,
// its descendants below) and the processes in it.
func buildTree(evs []event.Event, detected event.Event) (*Node, map[procKey]bool) {
	f := &forest{nodes: map[procKey]*Node{}, byPID: map[uint32][]*Node{}}
	for i := range evs {
		e := &evs[i]
		n := f.node(keyOf(e))
		n.Events++
		fill(n, e.PPID, e.FilePath, e.CommandLine, e.User)
	}
	d := f.node(keyOf(&detected))
	d.Detection = true
	fill(d, detected.PPID, detected.FilePath, detected.CommandLine, detected.User)

	// ancestors: by parent pid among the window's processes, else from the
	// detection's ancestry (parent first)
	anc := detected.Ancestors()
	chain := []*Node{d}
	in := map[*Node]bool{d: true}
	for depth := 0; depth < event.MaxPosition; depth++ {
		cur := chain[len(chain)-1]
		var p *Node
		if cur.PPID != 0 {
			p = f.parent(cur.PPID, cur.start)
		}
		if depth < len(anc) {
			a := anc[depth]
			if p == nil || p.PID != a.PID {
				p = f.parent(a.PID, cur.start)
			}
			if p == nil {
				p = f.node(procKey{pid: a.PID, start: -1 - int64(depth)}) // not in the window
				p.StartTime, p.start = "", 0
			}
			var ppid uint32
			if depth+1 < len(anc) {
				ppid = anc[depth+1].PID
			}
			fill(p, ppid, a.Path, a.CommandLine, a.User)
			if cur.PPID == 0 {
				cur.PPID = a.PID
			}
		}
		if p == nil || in[p] {
			break
		}
		chain = append(chain, p)
		in[p] = true
	}
	for i := len(chain) - 1; i > 0; i-- {
		chain[i].Children = []*Node{chain[i-1]}
	}

	// descendants: every process whose parent is in d's subtree
	children := map[*Node][]*Node{}
	for _, n := range f.nodes {
		if in[n] || n.PPID == 0 {
			continue
		}
		if p := f.parent(n.PPID, n.start); p != nil && p != n {
			children[p] = append(children[p], n)
		}
	}
	keep := map[procKey]bool{}
	for _, n := range chain {
		keep[procKey{n.PID, n.start}] = true
	}
	var walk func(n *Node)
	walk = func(n *Node) {
		kids := children[n]
		sort.Slice(kids, func(i, j int) bool {
			if kids[i].start != kids[j].start {
				return kids[i].start < kids[j].start
			}
			return kids[i].PID < kids[j].PID
		})
		for _, c := range kids {
			if in[c] {
				continue
			}
			in[c] = true
			keep[procKey{c.PID, c.start}] = true
			n.Children = append(n.Children, c)
			walk(c)
		}
	}
	walk(d)
	return chain[len(chain)-1], keep
}

// fill sets what a node does not know yet.
func fill(n *Node, ppid uint32, path, cmd, user string) {
	if n.PPID == 0 {
		n.PPID = ppid
	}
	if n.Path == "" {
		n.Path = path
	}
	if n.CommandLine == "" {
		n.CommandLine = cmd
	}
	if n.User == "" {
		n.User = user
	}
}
