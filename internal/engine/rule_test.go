package engine

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// TestParseErrors checks every file in testdata/invalid is refused with the error its
// first line announces ("# error: <file>:<line>: rule <name>: <message prefix>"). The
// rules see the lists and macros of testLib.
func TestParseErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
			want, ok := strings.CutPrefix(string(first), "# error: ")
			if !ok {
				t.Fatalf("first line must be '# error: ...', got %q", first)
			}
			_, err = ParseWith(filepath.Base(file), data, mustLib(t))
			if err == nil {
				t.Fatalf("Parse accepted an invalid rule; want error %q", want)
			}
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n got %q\nwant prefix %q", err, want)
			}
		})
	}
}

// TestLibraryErrors checks every lists/macros file in testdata/invalid_lists is
// refused (by Add or Validate) with the error its first line announces.
func TestLibraryErrors(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid_lists/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := bufio.NewReader(bytes.NewReader(data)).ReadLine()
			want, ok := strings.CutPrefix(string(first), "# error: ")
			if !ok {
				t.Fatalf("first line must be '# error: ...', got %q", first)
			}
			lib := NewLibrary()
			err = lib.Add(filepath.Base(file), data)
			if err == nil {
				err = lib.Validate()
			}
			if err == nil {
				t.Fatalf("accepted an invalid lists file; want error %q", want)
			}
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("error\n got %q\nwant prefix %q", err, want)
			}
		})
	}
}

const base = `
response:
  - action: report
    name: r
    metadata:
      severity: high
      category: test
detection:
  event: NEW_PROCESS
`

func TestEval(t *testing.T) {
	proc := func(path, cmd, user string) event.Event {
		return event.Event{Type: event.NewProcess, FilePath: path, CommandLine: cmd, User: user, PID: 10, Tags: []string{"env:prod"}}
	}
	tests := []struct {
		name  string
		rule  string
		ev    event.Event
		match bool
	}{
		{"is", "  op: is\n  path: event/FILE_PATH\n  value: /bin/sh", proc("/bin/sh", "", ""), true},
		{"is differs", "  op: is\n  path: event/FILE_PATH\n  value: /bin/sh", proc("/bin/bash", "", ""), false},
		{"is case", "  op: is\n  path: event/FILE_PATH\n  value: /BIN/SH", proc("/bin/sh", "", ""), false},
		{"is case insensitive", "  op: is\n  case sensitive: false\n  path: event/FILE_PATH\n  value: /BIN/SH", proc("/bin/sh", "", ""), true},
		{"contains", "  op: contains\n  path: event/COMMAND_LINE\n  value: nc -e", proc("", "nc -e /bin/sh 1.2.3.4", ""), true},
		{"contains no", "  op: contains\n  path: event/COMMAND_LINE\n  value: nc -e", proc("", "ncat 1.2.3.4", ""), false},
		{"contains fold", "  op: contains\n  case sensitive: false\n  path: event/COMMAND_LINE\n  value: NC -E", proc("", "x nc -e y", ""), true},
		{"starts with", "  op: starts with\n  path: event/FILE_PATH\n  value: /tmp/", proc("/tmp/x", "", ""), true},
		{"ends with", "  op: ends with\n  path: event/FILE_PATH\n  value: .sh", proc("/tmp/x.sh", "", ""), true},
		{"not", "  op: is\n  not: true\n  path: event/USER\n  value: root", proc("", "", "alice"), true},
		{"number", "  op: is\n  path: event/PROCESS_ID\n  value: 10", proc("", "", ""), true},
		{"tag", "  op: is\n  path: routing/tags\n  value: env:prod", proc("", "", ""), true},
		{"tag absent", "  op: is\n  path: routing/tags\n  value: env:dev", proc("", "", ""), false},
		{"or", "  op: or\n  rules:\n    - op: is\n      path: event/USER\n      value: bob\n    - op: is\n      path: event/USER\n      value: alice", proc("", "", "alice"), true},
		{"or none", "  op: or\n  rules:\n    - op: is\n      path: event/USER\n      value: bob\n    - op: is\n      path: event/USER\n      value: carol", proc("", "", "alice"), false},
		{"and", "  op: and\n  rules:\n    - op: is\n      path: event/USER\n      value: alice\n    - op: starts with\n      path: event/FILE_PATH\n      value: /usr", proc("/usr/bin/id", "", "alice"), true},
		{"and one fails", "  op: and\n  rules:\n    - op: is\n      path: event/USER\n      value: alice\n    - op: starts with\n      path: event/FILE_PATH\n      value: /usr", proc("/bin/id", "", "alice"), false},
		{"wrong type", "  op: is\n  path: event/FILE_PATH\n  value: /bin/sh", event.Event{Type: event.TerminateProcess, FilePath: "/bin/sh"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := Parse(tc.name+".yaml", []byte(base+tc.rule))
			if err != nil {
				t.Fatal(err)
			}
			eng, err := New([]*Rule{r})
			if err != nil {
				t.Fatal(err)
			}
			got := eng.Eval(&tc.ev, nil)
			if (len(got) == 1) != tc.match {
				t.Fatalf("Eval matched %d rules, want match=%v", len(got), tc.match)
			}
			if r.Matches(&tc.ev) != tc.match {
				t.Fatalf("Matches = %v, want %v", !tc.match, tc.match)
			}
			if rep := r.Report(); rep == nil || rep.Name != "r" || rep.Severity() != "high" || rep.Metadata["category"] != "test" {
				t.Fatalf("report = %+v", rep)
			}
		})
	}
}

func TestNewRejectsDuplicateNames(t *testing.T) {
	r1, err := Parse("a/x.yaml", []byte(base+"  op: is\n  path: event/USER\n  value: a"))
	if err != nil {
		t.Fatal(err)
	}
	r2, err := Parse("b/x.yaml", []byte(base+"  op: is\n  path: event/USER\n  value: b"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New([]*Rule{r1, r2}); err == nil || !strings.Contains(err.Error(), "a/x.yaml and b/x.yaml") {
		t.Fatalf("err = %v, want both files named", err)
	}
}

// FuzzParse feeds arbitrary bytes to the rule parser and to the lists/macros parser
// (with a rule that uses the fuzzed lists and macros); neither may panic, and what
// they accept must evaluate.
func FuzzParse(f *testing.F) {
	for _, glob := range []string{"testdata/invalid/*.yaml", "testdata/invalid_lists/*.yaml", "testdata/pack/*.yaml", "../../rules/*.yaml"} {
		files, _ := filepath.Glob(glob)
		for _, file := range files {
			data, _ := os.ReadFile(file)
			f.Add(data)
		}
	}
	f.Add([]byte(base + "  op: is\n  path: event/USER\n  value: a"))
	f.Add([]byte(testLib))
	f.Add([]byte(webShell))
	f.Add([]byte(webDescendant))
	f.Add([]byte(bruteForce))
	f.Add([]byte(suppressed))
	f.Add([]byte("lists:\n  l: [a, 1]\nmacros:\n  m:\n    op: in list\n    path: event/USER\n    list: l\n"))
	user := []byte("detection:\n  event: NEW_PROCESS\n  op: or\n  rules:\n    - macro: m\n    - op: in list\n      path: event/USER\n      list: l\nresponse:\n  - action: report\n    name: x\n")
	f.Fuzz(func(t *testing.T, data []byte) {
		ev := event.Event{Type: event.NewProcess, User: "a", CommandLine: "x", PID: 2, PPID: 1, SensorID: "s"}
		if r, err := ParseWith("fuzz.yaml", data, mustLib(t)); err == nil {
			ev.Type = r.Events[0]
			r.Matches(&ev)
			eng, err := New([]*Rule{r})
			if err != nil {
				t.Fatalf("engine refused an accepted rule: %v\n%s", err, data)
			}
			if _, err := eng.Process(context.Background(), &ev, NewMemoryState(), fixtureEpoch, nil); err != nil {
				t.Fatalf("accepted rule failed to evaluate: %v\n%s", err, data)
			}
		}
		lib := NewLibrary()
		if lib.Add("lists.yaml", data) == nil && lib.Validate() == nil {
			if r, err := ParseWith("user.yaml", user, lib); err == nil {
				ev.Type = event.NewProcess
				r.Matches(&ev)
			}
		}
	})
}

// TestEveryErrorReported checks that each file in testdata/many_errors is refused
// with every error its leading "# error: " lines announce, one per line, in order:
// the nodes of an and/or, the actions of a response, and the lists and macros of a
// lists file are all checked, not only up to the first mistake.
func TestEveryErrorReported(t *testing.T) {
	testcheck.Fixtures(t, "testdata/many_errors/*.yaml", func(t *testing.T, name string, data []byte, want []string) {
		if len(want) < 2 {
			t.Fatalf("want at least two '# error: ' lines, got %d", len(want))
		}
		var err error
		if IsLibrary(data) {
			err = NewLibrary().Add(name, data)
		} else {
			_, err = ParseWith(name, data, mustLib(t))
		}
		testcheck.ErrorLines(t, err, want)
	})
}
