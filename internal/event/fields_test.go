package event

import (
	"bytes"
	"encoding/json"
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
			f.Set(reflect.ValueOf([]string{"k:v", "env:prod"}))
		default:
			panic("field kind not covered: " + f.Kind().String())
		}
	}
	e.Type = NewProcess
	return e
}

// TestTreeRoundTrip checks every struct field has a rule path: an event with every
// field set survives Tree → JSON → FromTree unchanged.
func TestTreeRoundTrip(t *testing.T) {
	want := filled()
	raw, err := json.Marshal(want.Tree())
	if err != nil {
		t.Fatal(err)
	}
	var tree map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		t.Fatal(err)
	}
	got, err := FromTree(tree)
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
