package tuning

import (
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestSuppress: the entry matches the event's key fields for its type, parses
// as a tuning file, and names what it comes from.
func TestSuppress(t *testing.T) {
	tests := []struct {
		name   string
		ev     event.Event
		fields string // the exception's fields, in order
		err    string
	}{
		{"process", event.Event{Type: event.NewProcess, FilePath: "/usr/bin/curl", Hostname: "web-1", SensorID: "s1"}, "event/FILE_PATH routing/hostname", ""},
		{"file", event.Event{Type: event.FileOpen, FilePath: "/usr/bin/vim", TargetPath: "/etc/shadow", SensorID: "s1"}, "event/FILE_PATH event/TARGET/FILE_PATH routing/sensor_id", ""},
		{"dns", event.Event{Type: event.DNSRequest, FilePath: "/usr/bin/dig", DomainName: "pool.example", Hostname: "h"}, "event/FILE_PATH event/DOMAIN_NAME routing/hostname", ""},
		{"connect", event.Event{Type: event.NetworkConnect, FilePath: "/usr/bin/nc", DestIP: "203.0.113.9", Hostname: "h"}, "event/FILE_PATH event/DESTINATION/IP_ADDRESS routing/hostname", ""},
		{"nothing", event.Event{Type: event.NewProcess}, "", "has none of the fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Suppress("r: odd \"name\"", "0123456789abcdef", &tc.ev)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			f, err := Parse("s.yaml", []byte(out))
			if err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			e := f.Entries[0]
			if len(f.Entries) != 1 || len(e.Rules) != 1 || e.Rules[0] != `r: odd "name"` || len(e.Exceptions) != 1 || e.Exceptions[0].Name != "false_positive_0123456789ab" {
				t.Fatalf("entry %+v\n%s", e, out)
			}
			if !strings.Contains(out, "fields: ["+strings.ReplaceAll(tc.fields, " ", ", ")+"]") {
				t.Errorf("fields, want %s:\n%s", tc.fields, out)
			}
		})
	}
	if _, err := Suppress("", "d", &event.Event{Type: event.NewProcess, FilePath: "/x"}); err == nil {
		t.Error("an entry for no rule")
	}
}
