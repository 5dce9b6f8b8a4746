package engine_test

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"go.yaml.in/yaml/v3"
)

// allTypes are the event types the differential test generates.
var allTypes = []event.Type{event.NewProcess, event.TerminateProcess, event.FileOpen, event.NetworkConnect,
	event.NetworkAccept, event.DNSRequest, event.ModuleLoad, event.PrivilegeChange, event.SensorHeartbeat,
	event.HostStats, event.FileDelete, event.FileRename, event.FileChmod, event.Ptrace, event.NetworkListen,
	event.NamespaceChange, event.Mount, event.Unmount, event.BPFLoad, event.MemfdCreate, event.Userfaultfd,
	event.FileLink, event.DirCreate, event.DirDelete, event.FileMknod, event.FileChown, event.FileTruncate,
	event.SocketCreate, event.FDDup, event.K8sAudit}

// harvest collects the literal values of D&R documents (value:, values:, list
// items:) and the words of their regular expressions (re:), from which the
// differential test builds events that fire rules and events that nearly do.
func harvest(docs [][]byte) (strs []string, nums []int64) {
	seen := map[string]bool{}
	keep := func(s string) {
		if !seen[s] {
			seen[s] = true
			strs = append(strs, s)
			if n, err := strconv.ParseInt(s, 0, 64); err == nil {
				nums = append(nums, n)
			}
		}
	}
	word := regexp.MustCompile(`[A-Za-z0-9/._ -]{2,}`)
	for _, d := range docs {
		var n yaml.Node
		if yaml.Unmarshal(d, &n) != nil {
			continue
		}
		walkKeys(&n, func(key string, v *yaml.Node) bool {
			switch {
			case key == "value" && v.Kind == yaml.ScalarNode:
				keep(v.Value)
			case (key == "values" || key == "items") && v.Kind == yaml.SequenceNode:
				for _, it := range v.Content {
					keep(it.Value)
				}
			case key == "re" && v.Kind == yaml.ScalarNode:
				for _, w := range word.FindAllString(v.Value, -1) {
					keep(w)
				}
			default:
				return false
			}
			return true
		})
	}
	return strs, nums
}

// eventGen makes varied events from harvested literals: a literal as it is, with
// text before or after it, in upper case, with Unicode letters that fold to ASCII
// ones (ſ to s, K to k), or an ordinary value.
type eventGen struct {
	rnd  *rand.Rand
	strs []string
	nums []int64
}

var plain = []string{"", "/usr/bin/python3", "/opt/app/worker.py", "nginx: worker process", "root", "tcp",
	"10.0.2.20", "db.internal.example.com", "read", "write", "read,write", "/var/log/app.log"}

func (g *eventGen) str() string {
	s := g.strs[g.rnd.IntN(len(g.strs))]
	switch g.rnd.IntN(10) {
	case 0:
		return plain[g.rnd.IntN(len(plain))]
	case 1:
		return "/usr/local/bin/" + s
	case 2:
		return s + " --flag /tmp/x"
	case 3:
		return "sh -c '" + s + "'"
	case 4:
		return strings.ToUpper(s)
	case 5:
		return strings.NewReplacer("s", "ſ", "k", "\u212a").Replace(s)
	case 6:
		return s + "," + g.strs[g.rnd.IntN(len(g.strs))]
	}
	return s
}

func (g *eventGen) num() int64 {
	if g.rnd.IntN(3) == 0 {
		return int64(g.rnd.IntN(5))
	}
	return g.nums[g.rnd.IntN(len(g.nums))]
}

// event fills every string, number and list field of an event of type t.
func (g *eventGen) event(t event.Type) event.Event {
	var e event.Event
	v := reflect.ValueOf(&e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !f.CanSet() || g.rnd.IntN(4) == 0 {
			continue // some fields stay empty
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString(g.str())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			f.SetInt(g.num())
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(max(g.num(), 0)))
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.String {
				items := make([]string, g.rnd.IntN(3))
				for j := range items {
					items[j] = g.str()
				}
				f.Set(reflect.ValueOf(items))
			}
		}
	}
	e.Type, e.SensorID = t, "i-0abc"
	e.PID, e.PPID = uint32(1+g.rnd.IntN(40)), uint32(1+g.rnd.IntN(40)) // parents recur
	if e.DestIP == "" || g.rnd.IntN(2) == 0 {
		e.DestIP = []string{"198.51.100.7", "10.0.0.5", "127.0.0.1", "::1", "2001:db8::1"}[g.rnd.IntN(5)]
	}
	return e
}

// docsOf reads the D&R documents of a rules directory (lists and macros too).
func docsOf(t *testing.T, dir string) [][]byte {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, data)
	}
	return out
}

// TestIndexDifferential evaluates a varied event set with and without the literal
// index, against the pack, the converted rules and their variants (1000 rules),
// and requires the same detections, in the same order, from Eval and from Process
// (stateful rules included): the index may only leave out rules that cannot match.
func TestIndexDifferential(t *testing.T) {
	rules := scaleRules(t, 1000)
	indexed, err := engine.New(rules)
	if err != nil {
		t.Fatal(err)
	}
	reference, err := engine.NewUnindexed(rules)
	if err != nil {
		t.Fatal(err)
	}
	docs := docsOf(t, "../../rules")
	conv, err := convertFiles([]string{scaleSource})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range conv {
		docs = append(docs, d.yaml)
		for k := 1; k <= 3; k++ {
			v, err := variant(d.yaml, k)
			if err != nil {
				t.Fatal(err)
			}
			docs = append(docs, v)
		}
	}
	strs, nums := harvest(docs)
	g := &eventGen{rnd: rand.New(rand.NewPCG(1, 2)), strs: strs, nums: nums}
	events := 30000
	if testing.Short() {
		events = 5000
	}
	ctx := context.Background()
	now := time.Unix(1763800000, 0)
	stIdx, stRef := engine.NewMemoryState(), engine.NewMemoryState()
	var matched, candidates, typed int
	fired := map[string]bool{}
	names := func(rs []*engine.Rule) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.Name
		}
		return out
	}
	perType := map[event.Type]int{}
	for _, r := range rules {
		for _, et := range r.Events {
			perType[et]++
		}
	}
	for i := 0; i < events; i++ {
		ev := g.event(allTypes[g.rnd.IntN(len(allTypes))])
		got, want := names(indexed.Eval(&ev, nil)), names(reference.Eval(&ev, nil))
		if !slices.Equal(got, want) {
			t.Fatalf("event %d (%+v):\nEval with the index:    %v\nEval without the index: %v", i, ev, got, want)
		}
		mi, err1 := indexed.Process(ctx, &ev, stIdx, now, nil)
		mr, err2 := reference.Process(ctx, &ev, stRef, now, nil)
		if err1 != nil || err2 != nil {
			t.Fatalf("event %d: Process: %v, %v", i, err1, err2)
		}
		if len(mi) != len(mr) {
			t.Fatalf("event %d (%+v): Process with the index: %d matches, without: %d", i, ev, len(mi), len(mr))
		}
		for j := range mi {
			if mi[j].Rule != mr[j].Rule || len(mi[j].Actions) != len(mr[j].Actions) || len(mi[j].Earlier) != len(mr[j].Earlier) {
				t.Fatalf("event %d: match %d: with the index rule %s (%d actions), without %s (%d actions)",
					i, j, mi[j].Rule.Name, len(mi[j].Actions), mr[j].Rule.Name, len(mr[j].Actions))
			}
			fired[mi[j].Rule.Name] = true
		}
		matched += len(mi)
		c, _ := indexed.Candidates(&ev)
		candidates += len(c)
		typed += perType[ev.Type]
		now = now.Add(time.Millisecond)
	}
	t.Logf("%d events, %d detections of %d distinct rules; %d candidates evaluated of %d rules of the events' types",
		events, matched, len(fired), candidates, typed)
	// the event set must exercise the index: many detections, of many rules, and
	// most rules left out
	if matched < events/20 || len(fired) < 100 {
		t.Errorf("%d detections of %d rules: the events do not fire enough rules to compare", matched, len(fired))
	}
	if candidates*4 > typed {
		t.Errorf("the index evaluates %d of %d rules: it leaves out too few", candidates, typed)
	}
}
