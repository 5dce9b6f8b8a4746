package event

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

// filled returns an event with every field set to a distinct non-zero value.
func filled() Event {
	var e Event
	v := reflect.ValueOf(&e).Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strings.ToLower(v.Type().Field(i).Name) + "-value")
		case reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(i + 1))
		case reflect.Int32, reflect.Int64:
			f.SetInt(int64(-i - 1))
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint32 {
				f.Set(reflect.ValueOf([]uint32{uint32(i + 1), uint32(i + 2)}))
				break
			}
			f.Set(reflect.ValueOf([]string{"k:v", "env:prod"}))
		default:
			panic("field kind not covered: " + f.Kind().String())
		}
	}
	e.Type = NewProcess
	return e
}

// treeRoundTrip passes e through Tree, JSON (numbers kept as written) and
// FromTree.
func treeRoundTrip(t *testing.T, e Event) (Event, error) {
	t.Helper()
	raw, err := json.Marshal(e.Tree())
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	return FromTree(tree)
}

// TestTreeRoundTrip checks every struct field has a rule path: an event with every
// field set survives Tree → JSON → FromTree unchanged.
func TestTreeRoundTrip(t *testing.T) {
	want := filled()
	got, err := treeRoundTrip(t, want)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip lost fields:\n got %+v\nwant %+v", got, want)
	}
	stored := 0
	for _, f := range Fields {
		if f.Derived == "" {
			stored++
		}
	}
	stored += 4 // the ancestry lists: event/ANCESTORS in the tree
	if stored != reflect.TypeOf(Event{}).NumField() {
		t.Errorf("%d stored paths for %d struct fields", stored, reflect.TypeOf(Event{}).NumField())
	}
}

func TestFromTreeErrors(t *testing.T) {
	tests := []struct {
		name string
		tree map[string]any
		want string
	}{
		{"unknown path", map[string]any{"event": map[string]any{"FILEPATH": "x"}}, `unknown path "event/FILEPATH"`},
		{"string wanted", map[string]any{"event": map[string]any{"FILE_PATH": 3}}, "event/FILE_PATH: want a string"},
		{"number wanted", map[string]any{"event": map[string]any{"PROCESS_ID": "x"}}, "event/PROCESS_ID: want a number"},
		{"integer wanted", map[string]any{"event": map[string]any{"PROCESS_ID": 1.5}}, "want an integer"},
		{"derived", map[string]any{"event": map[string]any{"FILE_NAME": "sh"}}, "event/FILE_NAME is derived from event/FILE_PATH"},
		{"list wanted", map[string]any{"routing": map[string]any{"tags": "a"}}, "routing/tags: want a list"},
		{"process id above uint32", map[string]any{"event": map[string]any{"PROCESS_ID": 4294967297}}, "event/PROCESS_ID: 4294967297 out of range"},
		{"negative process id", map[string]any{"event": map[string]any{"PROCESS_ID": -1}}, "event/PROCESS_ID: -1 out of range"},
		{"port above uint16", map[string]any{"event": map[string]any{"DESTINATION": map[string]any{"PORT": 70000}}}, "event/DESTINATION/PORT: 70000 out of range"},
		{"port as JSON", map[string]any{"event": map[string]any{"SOURCE": map[string]any{"PORT": json.Number("65536")}}}, "event/SOURCE/PORT: 65536 out of range"},
		{"port as float", map[string]any{"event": map[string]any{"SOURCE": map[string]any{"PORT": 65536.0}}}, "event/SOURCE/PORT: 65536 out of range"},
		{"exit code above int32", map[string]any{"event": map[string]any{"EXIT_CODE": int64(1 << 31)}}, "event/EXIT_CODE: 2147483648 out of range"},
		{"exit code as uint64", map[string]any{"event": map[string]any{"EXIT_CODE": uint64(math.MaxUint64)}}, "event/EXIT_CODE: 18446744073709551615 out of range"},
		{"time above int64", map[string]any{"routing": map[string]any{"event_time": uint64(1 << 63)}}, "routing/event_time: 9223372036854775808 out of range"},
		{"time as JSON above int64", map[string]any{"routing": map[string]any{"event_time": json.Number("9223372036854775808")}}, "routing/event_time: 9223372036854775808 out of range"},
		{"counter above uint64", map[string]any{"event": map[string]any{"DROPS": json.Number("18446744073709551616")}}, "event/DROPS: 18446744073709551616 out of range"},
		{"counter as float above uint64", map[string]any{"event": map[string]any{"DROPS": 1e20}}, "event/DROPS: 1e+20 out of range"},
		{"integer wanted from JSON", map[string]any{"event": map[string]any{"PROCESS_ID": json.Number("1.5")}}, "event/PROCESS_ID: want an integer"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := FromTree(tc.tree)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestFromTreeRanges checks the values at the ends of each field type's range are
// stored as given, and that a 64-bit unsigned field takes what Tree gives for it.
func TestFromTreeRanges(t *testing.T) {
	tests := []struct {
		name  string
		event map[string]any
		want  Event
	}{
		{"port 0", map[string]any{"DESTINATION": map[string]any{"PORT": 0}}, Event{DestPort: 0}},
		{"port 65535", map[string]any{"DESTINATION": map[string]any{"PORT": 65535}}, Event{DestPort: 65535}},
		{"process id 4294967295", map[string]any{"PROCESS_ID": json.Number("4294967295")}, Event{PID: math.MaxUint32}},
		{"exit code -2147483648", map[string]any{"EXIT_CODE": -2147483648.0}, Event{ExitCode: math.MinInt32}},
		{"exit code 2147483647", map[string]any{"EXIT_CODE": uint32(math.MaxInt32)}, Event{ExitCode: math.MaxInt32}},
		{"counter as uint64", map[string]any{"DROPS": uint64(math.MaxUint64)}, Event{Drops: math.MaxUint64}},
		{"counter as JSON", map[string]any{"DROPS": json.Number("18446744073709551615")}, Event{Drops: math.MaxUint64}},
		{"counter as float", map[string]any{"DROPS": float64(1 << 63)}, Event{Drops: 1 << 63}},
		{"counter as Num reads it", map[string]any{"DROPS": int64(-1)}, Event{Drops: math.MaxUint64}},
		{"request -1", map[string]any{"PTRACE_REQUEST": -1}, Event{PtraceRequest: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FromTree(map[string]any{"event": tc.event})
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
	// The largest counter survives Tree → JSON → FromTree.
	want := Event{Type: SensorHeartbeat, Drops: math.MaxUint64}
	if got, err := treeRoundTrip(t, want); err != nil || got.Drops != want.Drops {
		t.Errorf("round trip: drops %d, %v; want %d", got.Drops, err, want.Drops)
	}
}

func TestDerivedNames(t *testing.T) {
	tests := []struct{ path, file, want string }{
		{"event/FILE_NAME", "/usr/bin/curl", "curl"},
		{"event/FILE_NAME", "curl", "curl"},
		{"event/FILE_NAME", "", ""},
		{"event/FILE_NAME", "/", ""},
	}
	for _, tc := range tests {
		f, err := Lookup(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		e := Event{FilePath: tc.file}
		if got := f.Str(&e); got != tc.want {
			t.Errorf("%s of %q = %q, want %q", tc.path, tc.file, got, tc.want)
		}
	}
}

func TestLookupSuggestsNearest(t *testing.T) {
	tests := []struct {
		path, want string
	}{
		{"event/FILEPATH", "did you mean event/FILE_PATH?"},
		{"event/file_path", "did you mean event/FILE_PATH?"},
		{"event/PARENT/FILEPATH", "did you mean event/PARENT/FILE_PATH?"},
		{"event/COMAND_LINE", "did you mean event/COMMAND_LINE?"},
		{"routing/sensorid", "did you mean routing/sensor_id?"},
		{"event/NOTHING_LIKE_ANY_FIELD_AT_ALL", "known paths: "},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			_, err := Lookup(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Lookup(%q) = %v, want %q", tt.path, err, tt.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"abc", "", 3}, {"", "ab", 2}, {"kitten", "sitting", 3}, {"FILEPATH", "FILE_PATH", 1}, {"same", "same", 0}} {
		if got := EditDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("EditDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestProcessAge(t *testing.T) {
	f, err := Lookup("event/PROCESS_AGE")
	if err != nil || f.Derived != "event/PROCESS_START_TIME" || !f.AppliesTo(FileOpen) || f.AppliesTo(HostStats) {
		t.Fatalf("Lookup: %+v %v", f, err)
	}
	for _, tc := range []struct {
		name        string
		time, start int64
		want        int64
	}{
		{"five seconds in", 1_700_000_005_000_000_000, 1_700_000_000_000_000_000, 5_000_000_000},
		{"start unknown", 1_700_000_005_000_000_000, 0, 1_700_000_005_000_000_000},
		{"start after the event", 1_700_000_000_000_000_000, 1_700_000_001_000_000_000, 0},
	} {
		e := Event{Type: FileOpen, TimeNanos: tc.time, ProcessStartTime: tc.start}
		if got := f.Num(&e); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
	tree := map[string]any{"event": map[string]any{"PROCESS_AGE": 3}}
	if _, err := FromTree(tree); err == nil || !strings.Contains(err.Error(), "derived") {
		t.Errorf("FromTree took a derived path: %v", err)
	}
}
