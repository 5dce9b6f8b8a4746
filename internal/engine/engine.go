package engine

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/explain"
)

// Engine evaluates events against a set of rules, indexed by event type. It is
// immutable once built and safe for concurrent use.
type Engine struct {
	rules    []*Rule
	byType   map[event.Type]*typeIndex
	slots    [numSlots]*typeIndex // byType for the types typeSlot knows
	stateful bool

	columnsOnce sync.Once
	columns     []string // Columns'
}

// typeIndex is what the engine does with an event of one type.
type typeIndex struct {
	// rules are, in this order, the stateless rules (they fire when their root
	// node matches), the stateful rules whose root node applies (mark or count),
	// and the with child / with descendant rules whose second node applies
	// (evaluated with that node): one literal index finds the candidates of all.
	rules           *ruleSet
	roots, children int     // where the stateful roots and the children begin
	propagate       []*Rule // with descendant rules: carry markers down the process tree
}

// typeRules are the rules of one event type, before they are indexed.
type typeRules struct {
	stateless, roots, children, propagate []*Rule
}

// numSlots is how many event types typeSlot knows.
const numSlots = 31

// typeSlot numbers the event types without hashing, -1 for others.
func typeSlot(t event.Type) int {
	switch t {
	case event.NewProcess:
		return 0
	case event.FileOpen:
		return 1
	case event.TerminateProcess:
		return 2
	case event.NetworkConnect:
		return 3
	case event.NetworkAccept:
		return 4
	case event.DNSRequest:
		return 5
	case event.FileDelete:
		return 6
	case event.FileRename:
		return 7
	case event.FileChmod:
		return 8
	case event.ModuleLoad:
		return 9
	case event.PrivilegeChange:
		return 10
	case event.Ptrace:
		return 11
	case event.SensorHeartbeat:
		return 12
	case event.HostStats:
		return 13
	case event.NetworkListen:
		return 14
	case event.NamespaceChange:
		return 15
	case event.Mount:
		return 16
	case event.Unmount:
		return 17
	case event.BPFLoad:
		return 18
	case event.MemfdCreate:
		return 19
	case event.Userfaultfd:
		return 20
	case event.FileLink:
		return 21
	case event.DirCreate:
		return 22
	case event.DirDelete:
		return 23
	case event.FileMknod:
		return 24
	case event.FileChown:
		return 25
	case event.FileTruncate:
		return 26
	case event.SocketCreate:
		return 27
	case event.FDDup:
		return 28
	case event.K8sAudit:
		return 29
	case event.KernelLogControl:
		return 30
	}
	return -1
}

// index returns what the engine does with events of type t, nil for nothing.
func (e *Engine) index(t event.Type) *typeIndex {
	if i := typeSlot(t); i >= 0 {
		return e.slots[i]
	}
	return e.byType[t]
}

// New indexes rules for evaluation, by event type and by the literal values they
// require (index.go). Rule names must be unique.
func New(rules []*Rule) (*Engine, error) { return newEngine(rules, false) }

// newEngine is New; unindexed leaves out the literal index, so that every rule of
// an event's type is evaluated on it.
func newEngine(rules []*Rule, unindexed bool) (*Engine, error) {
	e := &Engine{byType: map[event.Type]*typeIndex{}}
	byType := map[event.Type]*typeRules{}
	var types []event.Type
	ix := func(t event.Type) *typeRules {
		x := byType[t]
		if x == nil {
			x = &typeRules{}
			byType[t] = x
			types = append(types, t)
		}
		return x
	}
	seen := map[string]string{}
	for _, r := range rules {
		if prev, dup := seen[r.Name]; dup {
			return nil, fmt.Errorf("rule %s is defined twice: %s and %s", r.Name, prev, r.File)
		}
		seen[r.Name] = r.File
		e.rules = append(e.rules, r)
		if r.Stateful() {
			e.stateful = true
			for _, t := range r.Events {
				ix(t).roots = append(ix(t).roots, r)
			}
			for _, t := range r.ChildEvents {
				ix(t).children = append(ix(t).children, r)
			}
			if r.With == "descendant" {
				ix(event.NewProcess).propagate = append(ix(event.NewProcess).propagate, r)
			}
			continue
		}
		if r.filtered {
			for i := range r.Response {
				if r.Response[i].Suppression != nil {
					e.stateful = true
				}
			}
		}
		for _, t := range r.Events {
			ix(t).stateless = append(ix(t).stateless, r)
		}
	}
	for _, t := range types {
		x := byType[t]
		rules := slices.Concat(x.stateless, x.roots, x.children)
		ti := &typeIndex{
			roots:     len(x.stateless),
			children:  len(x.stateless) + len(x.roots),
			propagate: x.propagate,
		}
		ti.rules = newRuleSet(t, rules, func(i int, r *Rule) matcher {
			if i >= ti.children {
				return r.child
			}
			return r.root
		}, unindexed)
		e.byType[t] = ti
		if i := typeSlot(t); i >= 0 {
			e.slots[i] = ti
		}
	}
	return e, nil
}

// Rules returns the engine's rules in load order.
func (e *Engine) Rules() []*Rule { return e.rules }

// Stateful reports whether some rule needs a State (a stateful rule or an action
// with suppression).
func (e *Engine) Stateful() bool { return e.stateful }

// Eval appends to dst every stateless rule whose detection matches ev and returns
// it: no state, no suppression, no conditions. Stateful rules (with child, with
// descendant, count) fire only through Process. With a dst of sufficient capacity an
// event that matches nothing costs no allocation.
func (e *Engine) Eval(ev *event.Event, dst []*Rule) []*Rule {
	ix := e.index(ev.Type)
	if ix == nil {
		return dst
	}
	var scratch [maskWords]uint64
	set := ix.rules
	mask := set.candidates(ev, scratch[:])
	for i := nextBit(mask, 0, ix.roots); i >= 0; i = nextBit(mask, i+1, ix.roots) {
		if set.nodes[i].match(ev) {
			dst = append(dst, set.rules[i])
		}
	}
	return dst
}

// Match is one rule firing on one event, as returned by Process.
type Match struct {
	Rule *Rule
	// Event is the event the rule fired on (the ev given to Process; for with child
	// and with descendant the child's event).
	Event *event.Event
	// Actions are the rule's actions to run, in order: those whose condition holds
	// and that suppression lets through. It is empty when every action was held back,
	// and lacks the report when the report was.
	Actions []Action
	// Suppressed are the actions held back by their suppression.
	Suppressed []Action
	// Earlier are the earlier events that completed a stateful rule, as the State
	// kept them (when it is an EventKeeper): the parent or ancestor of with child
	// and with descendant, the counted events of count. See Explain.
	Earlier []explain.EventRef
}

// Reported reports whether the match's actions include the rule's report.
func (m *Match) Reported() bool {
	for i := range m.Actions {
		if m.Actions[i].Action == ActReport {
			return true
		}
	}
	return false
}

// MaxKeptEvents bounds the counted events a count rule keeps for its
// explanation (the latest), so that a large count keeps a bounded list.
const MaxKeptEvents = 32

// ErrNoState is returned by Process when a rule needs state and none is given.
var ErrNoState = errors.New("engine: a stateful rule or a suppression needs a State")

// keyBufs holds buffers for state keys that are only looked up, so that a lookup on
// the path where nothing matches costs no allocation.
var keyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 128); return &b }}

func markerKey(buf []byte, r *Rule, sensor string, pid uint32) []byte {
	buf = append(buf[:0], r.markPrefix...)
	buf = append(buf, sensor...)
	buf = append(buf, 0)
	return strconv.AppendUint(buf, uint64(pid), 10)
}

// marker looks the marker of r for a process up without allocating.
func marker(ctx context.Context, st State, r *Rule, sensor string, pid uint32, now time.Time) (time.Time, bool, error) {
	bp := keyBufs.Get().(*[]byte)
	b := markerKey(*bp, r, sensor, pid)
	exp, ok, err := st.Marker(ctx, unsafe.String(unsafe.SliceData(b), len(b)), now)
	*bp = b
	keyBufs.Put(bp)
	return exp, ok, err
}

// Process evaluates ev against every rule, stateful ones included, with st holding
// state across events (markers of with child / with descendant, counters of count,
// suppression counters), and appends a Match to dst for every rule that fires. now
// is the time of evaluation: windows, periods and expiries are measured with it.
// Errors come from st; the matches appended before the error are returned.
//
// With a dst of sufficient capacity an event that matches nothing costs no
// allocation (with NewMemoryState).
func (e *Engine) Process(ctx context.Context, ev *event.Event, st State, now time.Time, dst []Match) ([]Match, error) {
	ix := e.index(ev.Type)
	if ix == nil {
		return dst, nil
	}
	var (
		err     error
		scratch [maskWords]uint64
	)
	set := ix.rules
	mask := set.candidates(ev, scratch[:])
	for i := nextBit(mask, 0, ix.roots); i >= 0; i = nextBit(mask, i+1, ix.roots) {
		if set.nodes[i].match(ev) {
			if dst, err = fire(ctx, set.rules[i], ev, st, now, nil, dst); err != nil {
				return dst, err
			}
		}
	}
	all := len(set.rules)
	if all == ix.roots && len(ix.propagate) == 0 {
		return dst, nil
	}
	if st == nil {
		return dst, ErrNoState
	}
	if ev.PPID != 0 {
		for i := nextBit(mask, ix.children, all); i >= 0; i = nextBit(mask, i+1, all) {
			r := set.rules[i]
			if !set.nodes[i].match(ev) {
				continue
			}
			_, ok, err := marker(ctx, st, r, ev.SensorID, ev.PPID, now)
			if err != nil {
				return dst, fmt.Errorf("rule %s: %w", r.Name, err)
			}
			if ok {
				var earlier []explain.EventRef
				if keeper, ok := st.(EventKeeper); ok {
					if earlier, err = keeper.KeptEvents(ctx, string(markerKey(nil, r, ev.SensorID, ev.PPID)), now); err != nil {
						return dst, fmt.Errorf("rule %s: %w", r.Name, err)
					}
				}
				if dst, err = fire(ctx, r, ev, st, now, earlier, dst); err != nil {
					return dst, err
				}
			}
		}
	}
	for _, r := range ix.propagate {
		if ev.PPID == 0 || ev.PID == 0 || ev.PID == ev.PPID {
			continue
		}
		exp, ok, err := marker(ctx, st, r, ev.SensorID, ev.PPID, now)
		if err != nil {
			return dst, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		if ok {
			key := string(markerKey(nil, r, ev.SensorID, ev.PID))
			if err := st.Mark(ctx, key, now, exp.Sub(now)); err != nil {
				return dst, fmt.Errorf("rule %s: %w", r.Name, err)
			}
			if keeper, ok := st.(EventKeeper); ok {
				// the descendant inherits the ancestor that matched
				refs, err := keeper.KeptEvents(ctx, string(markerKey(nil, r, ev.SensorID, ev.PPID)), now)
				if err == nil && len(refs) > 0 {
					err = keeper.SetEvents(ctx, key, refs, now, exp.Sub(now))
				}
				if err != nil {
					return dst, fmt.Errorf("rule %s: %w", r.Name, err)
				}
			}
		}
	}
	for i := nextBit(mask, ix.roots, ix.children); i >= 0; i = nextBit(mask, i+1, ix.children) {
		r := set.rules[i]
		if !set.nodes[i].match(ev) {
			continue
		}
		if r.With != "" {
			if ev.PID == 0 {
				continue
			}
			key := string(markerKey(nil, r, ev.SensorID, ev.PID))
			if err := st.Mark(ctx, key, now, r.Within); err != nil {
				return dst, fmt.Errorf("rule %s: %w", r.Name, err)
			}
			if keeper, ok := st.(EventKeeper); ok {
				if err := keeper.SetEvents(ctx, key, []explain.EventRef{r.ref(ev)}, now, r.Within); err != nil {
					return dst, fmt.Errorf("rule %s: %w", r.Name, err)
				}
			}
			continue
		}
		key := r.groupKey(ev)
		n, err := st.Incr(ctx, key, now, r.Within)
		if err != nil {
			return dst, fmt.Errorf("rule %s: %w", r.Name, err)
		}
		var earlier []explain.EventRef
		keeper, _ := st.(EventKeeper) // the events are kept only once the detection matched
		if keeper != nil && r.Count > 1 {
			if n < int64(r.Count) {
				if err := keeper.AddEvent(ctx, key, r.ref(ev), now, r.Within, min(r.Count-1, MaxKeptEvents)); err != nil {
					return dst, fmt.Errorf("rule %s: %w", r.Name, err)
				}
			} else if earlier, err = keeper.KeptEvents(ctx, key, now); err != nil {
				return dst, fmt.Errorf("rule %s: %w", r.Name, err)
			}
		}
		if n >= int64(r.Count) {
			if err := st.Reset(ctx, key); err != nil {
				return dst, fmt.Errorf("rule %s: %w", r.Name, err)
			}
			if keeper != nil && r.Count > 1 {
				earlier = append(earlier, r.ref(ev))
			}
			if dst, err = fire(ctx, r, ev, st, now, earlier, dst); err != nil {
				return dst, err
			}
		}
	}
	return dst, nil
}

// groupKey is the counter key of a count rule for ev.
func (r *Rule) groupKey(ev *event.Event) string {
	b := []byte(r.countPrefix)
	for i, f := range r.groupBy {
		if i > 0 {
			b = append(b, 0)
		}
		switch f.Kind {
		case event.String:
			b = append(b, f.Str(ev)...)
		case event.Number:
			b = strconv.AppendInt(b, f.Num(ev), 10)
		case event.StringList:
			b = append(b, strings.Join(f.List(ev), ",")...)
		}
	}
	return string(b)
}

// fire appends the match of r on ev, its actions filtered by condition and
// suppression.
func fire(ctx context.Context, r *Rule, ev *event.Event, st State, now time.Time, earlier []explain.EventRef, dst []Match) ([]Match, error) {
	m := Match{Rule: r, Event: ev, Actions: r.Response, Earlier: earlier}
	if r.filtered {
		m.Actions = make([]Action, 0, len(r.Response))
		var tree map[string]any
		for i := range r.Response {
			a := &r.Response[i]
			if a.Condition != nil && !a.Condition.holds(r.severity) {
				continue
			}
			if s := a.Suppression; s != nil {
				if st == nil {
					return dst, ErrNoState
				}
				if tree == nil {
					tree = ev.Tree()
				}
				k, err := s.Key(tree)
				if err != nil {
					return dst, fmt.Errorf("rule %s: action %s: suppression key: %w", r.Name, a.Action, err)
				}
				n, err := st.Incr(ctx, "s\x00"+r.Name+"\x00"+strconv.Itoa(i)+"\x00"+k, now, s.Period)
				if err != nil {
					return dst, fmt.Errorf("rule %s: %w", r.Name, err)
				}
				if n > s.MaxCount {
					m.Suppressed = append(m.Suppressed, *a)
					continue
				}
			}
			m.Actions = append(m.Actions, *a)
		}
	}
	return append(dst, m), nil
}

// IsRuleFile reports whether name has a rule file's extension, .yaml or .yml.
// It does not look at the directory: loaders read only the top level of a rules
// directory, which keeps the fixtures under testdata/ out.
func IsRuleFile(name string) bool {
	ext := path.Ext(name)
	return ext == ".yaml" || ext == ".yml"
}

// Warning is a problem that does not stop rules from loading: an unused list or
// macro, a shadowed rule, a rule without fixtures. `vigil rules validate --strict`
// fails on warnings.
type Warning struct {
	File string
	Line int
	Rule string // empty for lists and macros
	Msg  string
}

func (w Warning) String() string {
	if w.Rule == "" {
		return fmt.Sprintf("%s:%d: warning: %s", w.File, w.Line, w.Msg)
	}
	return fmt.Sprintf("%s:%d: warning: rule %s: %s", w.File, w.Line, w.Rule, w.Msg)
}

// Pack is a loaded rules directory: its rules sorted by name, its shared lists and
// macros, and the warnings found while loading.
type Pack struct {
	Rules    []*Rule
	Library  *Library
	Warnings []Warning
}

// Load parses the lists/macros files and then every rule file in the top level of
// dir in fsys and returns the rules sorted by name. All errors are reported, one per
// line, not only the first.
func Load(fsys fs.FS, dir string) ([]*Rule, error) {
	p, err := LoadPack(fsys, dir)
	if err != nil {
		return nil, err
	}
	return p.Rules, nil
}

// LoadDir is Load for a directory of the operating system; errors name the files
// under dir as given.
func LoadDir(dir string) ([]*Rule, error) {
	p, err := LoadPackDir(dir)
	if err != nil {
		return nil, err
	}
	return p.Rules, nil
}

// LoadPack is Load returning the whole pack, warnings included.
func LoadPack(fsys fs.FS, dir string) (*Pack, error) { return load(fsys, dir, dir) }

// LoadPackDir is LoadPack for a directory of the operating system.
func LoadPackDir(dir string) (*Pack, error) { return load(os.DirFS(dir), ".", dir) }

func load(fsys fs.FS, dir, display string) (*Pack, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read rules: %w", err)
	}
	type file struct {
		name, display string
		data          []byte
	}
	var libs, ruleFiles []file
	for _, ent := range entries {
		if ent.IsDir() || !IsRuleFile(ent.Name()) {
			continue
		}
		name := path.Join(dir, ent.Name())
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("read rule: %w", err)
		}
		f := file{name, filepath.Join(display, ent.Name()), data}
		if IsLibrary(data) {
			libs = append(libs, f)
		} else {
			ruleFiles = append(ruleFiles, f)
		}
	}
	pack := &Pack{Library: NewLibrary()}
	var errs []string
	for _, f := range libs {
		if err := pack.Library.Add(f.display, f.data); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) == 0 {
		if err := pack.Library.Validate(); err != nil {
			errs = append(errs, err.Error())
		}
	}
	for _, f := range ruleFiles {
		r, err := ParseWith(f.display, f.data, pack.Library)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		pack.Rules = append(pack.Rules, r)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid rules:\n%s", strings.Join(errs, "\n"))
	}
	sort.Slice(pack.Rules, func(i, j int) bool { return pack.Rules[i].Name < pack.Rules[j].Name })
	pack.Warnings = Warnings(pack.Rules, pack.Library, func(r *Rule) bool {
		_, err := fs.Stat(fsys, path.Join(dir, "testdata", r.Name))
		return err == nil
	})
	return pack, nil
}

// Warnings returns the warnings of a set of rules and the library they were parsed
// with: lists and macros no rule uses, rules shadowed by an earlier one (same event
// types and detection), and rules for which hasFixtures is false (nil: fixtures are
// not looked for).
func Warnings(rules []*Rule, lib *Library, hasFixtures func(*Rule) bool) []Warning {
	var ws []Warning
	usedLists, usedMacros := map[string]bool{}, map[string]bool{}
	shadow := map[string]*Rule{}
	for _, r := range rules {
		for _, l := range r.lists {
			usedLists[l] = true
		}
		for _, m := range r.macros {
			usedMacros[m] = true
		}
		evs := append([]string(nil), r.Events...)
		sort.Strings(evs)
		key := strings.Join(evs, ",") + "|" + r.fingerprint
		if first, ok := shadow[key]; ok {
			ws = append(ws, Warning{File: r.File, Line: r.Line, Rule: r.Name,
				Msg: fmt.Sprintf("shadowed: same event types and detection as rule %s (%s)", first.Name, first.File)})
		} else {
			shadow[key] = r
		}
		if hasFixtures != nil && !hasFixtures(r) {
			ws = append(ws, Warning{File: r.File, Line: r.Line, Rule: r.Name,
				Msg: fmt.Sprintf("no fixtures (want testdata/%s/%s and %s)", r.Name, MatchFixture, NoMatchFixture)})
		}
	}
	for _, l := range lib.Lists() {
		if !usedLists[l.Name] {
			ws = append(ws, Warning{File: l.File, Line: l.Line, Msg: "list " + l.Name + " is not used by any rule"})
		}
	}
	for _, m := range lib.Macros() {
		if !usedMacros[m.Name] {
			ws = append(ws, Warning{File: m.File, Line: m.Line, Msg: "macro " + m.Name + " is not used by any rule"})
		}
	}
	return ws
}
