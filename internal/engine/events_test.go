package engine

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

func TestParseEvents(t *testing.T) {
	tests := []struct {
		name, data string
		wantIDs    []string
		wantErr    string
	}{
		{"one JSON event", `{"routing": {"event_id": "a"}, "event": {"PROCESS_ID": 7}}`, []string{"a"}, ""},
		{"a JSON list", `[{"routing": {"event_id": "a"}}, {"routing": {"event_id": "b"}}]`, []string{"a", "b"}, ""},
		{"a YAML list", "- routing: {event_id: a}\n- routing: {event_id: b}\n", []string{"a", "b"}, ""},
		{"empty", "", nil, "f.json: no events"},
		{"empty list", "[]", nil, "f.json:1: no events"},
		{"a scalar", "42", nil, "f.json:1: want an event (an object with routing and event) or a list of events, got the value \"42\""},
		{"a list of scalars", "[1]", nil, "f.json:1: event 0: want an object with routing and event"},
		{"JSON syntax", "{\n\"event\": {\n\"USER\": \"root\",,\n}}", nil, "f.json:3: not valid JSON"},
		{"YAML syntax", "- event: {USER: root\n", nil, "f.json:1: not JSON or YAML"},
		{"wrong type", "{\"event\": {\n  \"PROCESS_ID\": \"x\"}}", nil, "f.json:2: event 0: event/PROCESS_ID: want a number, got string"},
		{"unknown path", "- event:\n    USR: root\n", nil, `f.json:2: event 0: unknown path "event/USR"`},
		{"derived path", "- event:\n    FILE_NAME: sh\n", nil, "f.json:2: event 0: event/FILE_NAME is derived from event/FILE_PATH: set that instead"},
		{"out of range", "- event:\n    PROCESS_ID: 99999999999\n", nil, "f.json:2: event 0: event/PROCESS_ID: 99999999999 out of range"},
		{"second event", "- event: {USER: a}\n- event:\n    ARGS: [1, 2]\n", nil, "f.json:3: event 1: event/ARGS: item 0: want a string"},
		{"a list where an object goes", "- event: [1]\n", nil, "f.json:1: event 0: event: want an object, got a list"},
		{"not a name", "- {[1]: 2}\n", nil, "f.json:1: event 0: the event: a key must be a name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := ParseEvents("f.json", []byte(tc.data), event.NewProcess)
			if testcheck.Err(t, err, tc.wantErr) {
				return
			}
			var ids []string
			for _, ev := range evs {
				ids = append(ids, ev.ID)
				if ev.Type != event.NewProcess {
					t.Errorf("event %s: type %q, want the default", ev.ID, ev.Type)
				}
			}
			if len(ids) != len(tc.wantIDs) || (len(ids) > 0 && ids[len(ids)-1] != tc.wantIDs[len(ids)-1]) {
				t.Errorf("ids %v, want %v", ids, tc.wantIDs)
			}
		})
	}
}

// FuzzParseEvents: any input gives events or an error naming the file, never a
// panic, and every event it gives explains without one.
func FuzzParseEvents(f *testing.F) {
	for _, s := range []string{
		`{"routing": {"event_id": "a"}, "event": {"PROCESS_ID": 7, "ARGS": ["x"]}}`,
		"- event: {FILE_PATH: /bin/sh, PARENT: {FILE_PATH: /usr/sbin/nginx}}\n- event: {ANCESTORS: [{FILE_PATH: /a}]}\n",
		"[1, {}]", "{\"event\": {\"USER\": 1}}", "- &a {event: *a}",
	} {
		f.Add([]byte(s))
	}
	r, err := Parse("r.yaml", []byte(detRule(event.NewProcess, "  op: and\n  rules:\n    - op: ends with\n      path: event/FILE_PATH\n      value: sh\n    - op: exists\n      path: event/ARGS")))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		evs, err := ParseEvents("f.json", data, event.NewProcess)
		if err != nil {
			if len(err.Error()) < len("f.json") || err.Error()[:len("f.json")] != "f.json" {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		if len(evs) == 0 {
			t.Fatal("no events and no error")
		}
		if _, err := ExplainEvents(r, evs); err != nil {
			t.Fatal(err)
		}
	})
}
