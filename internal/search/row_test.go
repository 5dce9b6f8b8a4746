package search

import (
	"reflect"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func sp(s string) *string { return &s }

func TestEventFromRow(t *testing.T) {
	cols := []string{"sensor_id", "event_type", "event_time", "pid", "tags", "ancestor_pids", "vpid", "cap_effective", "command_line"}
	got, err := EventFromRow(cols, []*string{sp("s-1"), sp("NEW_PROCESS"), sp("1795338000123"), sp("42"),
		sp(`["env:prod","team:x"]`), sp("[1,7]"), nil, sp("-1"), sp("curl 'x'")})
	if err != nil {
		t.Fatal(err)
	}
	want := event.Event{SensorID: "s-1", Type: event.NewProcess, TimeNanos: 1795338000123_000_000, PID: 42,
		Tags: []string{"env:prod", "team:x"}, AncestorPIDs: []uint32{1, 7}, CapEffective: 1<<64 - 1, CommandLine: "curl 'x'"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
	for _, tc := range []struct {
		cols []string
		vals []*string
		want string
	}{
		{[]string{"nope"}, []*string{sp("1")}, `column "nope" is not a lake column`},
		{[]string{"pid"}, []*string{sp("-1")}, `column pid: "-1" is not a uint32`},
		{[]string{"dest_port"}, []*string{sp("70000")}, `column dest_port: "70000" is not a uint16`},
		{[]string{"tags"}, []*string{sp("[1]")}, "column tags: want a JSON list of string"},
		{[]string{"pid", "ppid"}, []*string{sp("1")}, "row of 1 values for 2 columns"},
	} {
		if _, err := EventFromRow(tc.cols, tc.vals); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.cols, err, tc.want)
		}
	}
}
