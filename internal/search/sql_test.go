package search

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// sqlCases are the queries whose SQL is golden in testdata/sql/<name>.sql.
var sqlCases = []struct {
	name, where  string
	since, until time.Time
	sensors      []string
	limit        int
}{
	{"contains_one_hour", `{op: contains, path: event/COMMAND_LINE, value: curl}`,
		t0, t0.Add(time.Hour), []string{"s-1"}, 100},
	{"across_days_two_sensors", "event: NEW_PROCESS\nop: and\nrules:\n  - {op: starts with, path: event/FILE_PATH, value: /tmp/}\n  - {op: is, path: event/USER, value: root, not: true}",
		t0.Add(-24 * time.Hour), t0.Add(2 * time.Hour), []string{"s-1", "host/2"}, 0},
	{"escaping", "op: or\nrules:\n  - {op: is, path: event/COMMAND_LINE, value: \"x' OR '1'='1\"}\n  - {op: ends with, path: event/FILE_PATH, value: '100%_\\done'}\n  - {op: in list, path: event/USER, values: [\"o'brien\", Root], case sensitive: false}",
		t0, t0.Add(time.Hour), []string{"it's"}, 10},
	{"every_operator", `op: and
rules:
  - {op: matches, path: event/COMMAND_LINE, re: 'curl\s+-k', case sensitive: false}
  - {op: exists, path: event/PARENT/FILE_PATH}
  - {op: is greater than, path: event/DESTINATION/PORT, value: 1023}
  - {op: is lower than, path: event/PROCESS_ID, value: 5}
  - {op: length of, path: event/ARGS, value: 3, compare: is greater than}
  - {op: length of, path: event/COMMAND_LINE, value: 200}
  - {op: cidr, path: event/DESTINATION/IP_ADDRESS, cidr: [10.0.0.0/8, "fd00::/8"]}
  - {op: in list, path: event/DESTINATION/PORT, values: [22, 0x50]}
  - {op: is tagged, tag: "env:prod"}
  - {op: contains, path: event/ARGS, value: "--privileged"}
  - {op: is, path: event/FILE_NAME, value: bash}
  - {op: is, path: event/ANCESTORS/0/FILE_NAME, value: sshd}
  - {op: is, path: event/ANCESTORS/*/USER, value: root}
  - {op: is, path: event/ANCESTORS/1/PROCESS_ID, value: 1}
  - {op: starts with, path: event/ARGS/1, value: http}
  - {op: is, path: event/HAS_TTY, value: 1}
  - {op: exists, path: event/ENVIRONMENT}`,
		t0, time.Time{}, []string{"s-1"}, 0},
	// no sensor named: the table without the sensor partition; until 10 minutes
	// before an hour also reads that hour, whose file may hold them
	{"every_sensor_across_midnight", `{op: is, path: event/USER, value: root}`,
		time.Date(2026, 11, 21, 23, 5, 0, 0, time.UTC), time.Date(2026, 11, 22, 0, 50, 0, 0, time.UTC), nil, 20},
}

// sqlNow is the end of a query without until.
var sqlNow = t0.Add(90 * time.Minute)

// sqlTables are the lake's tables as the stack names them.
var sqlTables = Tables{BySensor: "vigil.events", AllSensors: "vigil.events_all_sensors"}

func TestSQLGolden(t *testing.T) {
	for _, tc := range sqlCases {
		t.Run(tc.name, func(t *testing.T) {
			q, err := NewQuery(tc.where, tc.since, tc.until, tc.sensors, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			got, err := SQL(q, sqlTables, sqlNow)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "sql", tc.name+".sql")
			if *update {
				if err := os.WriteFile(golden, []byte(got+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if got+"\n" != string(want) {
				t.Errorf("SQL differs from %s:\n%s", golden, got)
			}
		})
	}
}

func TestSQLErrors(t *testing.T) {
	for _, tc := range []struct{ where, want string }{
		{`{op: is greater than, path: routing/event_time, value: 5}`, "where line 1: path routing/event_time (a time: search by since and until) has no SQL form"},
		{`{op: is, path: event/PROCESS_AGE, value: 5}`, "where line 1: path event/PROCESS_AGE has no SQL form"},
		{"op: and\nrules:\n  - {op: exists, path: event/USER}\n  - {op: is, path: event/ENV/LD_PRELOAD, value: x}", "where line 4: path event/ENV/LD_PRELOAD has no SQL form"},
		{`{op: is, path: event/VPID, value: 5}`, "where line 1: path event/VPID has no SQL form"},
		{`{op: contains, path: event/CAPABILITIES, value: CAP_SYS_ADMIN}`, "path event/CAPABILITIES has no SQL form"},
	} {
		q, err := NewQuery(tc.where, t0, t0.Add(time.Hour), []string{"s"}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := SQL(q, sqlTables, sqlNow); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s:\nerror %v\nwant  %s", tc.where, err, tc.want)
		}
	}
	q, _ := NewQuery("", t0, t0.Add(time.Hour), nil, 0)
	if _, err := SQL(q, Tables{BySensor: "vigil.events"}, sqlNow); err == nil || !strings.Contains(err.Error(), "no table for a query naming 0 sensors") {
		t.Errorf("no sensors, no all-sensors table: %v", err)
	}
	q, _ = NewQuery("", t0, t0.Add(time.Hour), []string{"s-1"}, 0)
	if _, err := SQL(q, Tables{AllSensors: "vigil.events_all_sensors"}, sqlNow); err == nil || !strings.Contains(err.Error(), "no table for a query naming 1 sensors") {
		t.Errorf("a sensor, no by-sensor table: %v", err)
	}
}

// TestPartitionHours: the hours a query's SQL reads are those the lake
// reader reads, and only those: every hour whose partition may hold an event
// of the time range, from the hour of since to the last hour starting less
// than partitionSkew after until.
func TestPartitionHours(t *testing.T) {
	at := func(h, m int) time.Time { return time.Date(2026, 11, 22, h, m, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name               string
		since, until       time.Time
		wantFirst, wantEnd time.Time
	}{
		{"within an hour", at(10, 5), at(10, 30), at(10, 0), at(10, 0)},
		{"since on the hour", at(10, 0), at(10, 30), at(10, 0), at(10, 0)},
		{"since just after the hour: not the hour before", at(10, 1), at(10, 30), at(10, 0), at(10, 0)},
		{"until on the hour: that hour's file may hold the last 15 minutes", at(9, 0), at(10, 0), at(9, 0), at(10, 0)},
		{"until 15 minutes before the hour: not the next", at(10, 0), at(10, 45), at(10, 0), at(10, 0)},
		{"until 14 minutes before the hour: the next", at(10, 0), at(10, 46), at(10, 0), at(11, 0)},
		{"across midnight", at(23, 30), at(23, 50).Add(time.Hour), at(23, 0), at(1, 0).Add(24 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			first, last := partitionHours(tc.since, tc.until)
			if !first.Equal(tc.wantFirst) || !last.Equal(tc.wantEnd) {
				t.Errorf("hours %s..%s, want %s..%s", first, last, tc.wantFirst, tc.wantEnd)
			}
		})
	}

	// against the lake reader, at every minute of two days
	base := at(0, 0)
	for since := base; since.Before(base.Add(48 * time.Hour)); since = since.Add(7 * time.Minute) {
		for _, d := range []time.Duration{time.Minute, 14 * time.Minute, 45 * time.Minute, 59 * time.Minute, time.Hour, 3*time.Hour + 16*time.Minute} {
			q := Query{Since: since, Until: since.Add(d)}
			first, last := partitionHours(q.Since, q.Until)
			for h := first.Add(-2 * time.Hour); !h.After(last.Add(2 * time.Hour)); h = h.Add(time.Hour) {
				in := !h.Before(first) && !h.After(last)
				if in != q.mayHold(h) {
					t.Fatalf("since %s until %s: hour %s read by SQL %v, by the lake reader %v", q.Since, q.Until, h, in, !in)
				}
			}
		}
	}
}

// FuzzSQL compiles conditions the engine accepts: the compiler never
// panics, and no string value escapes its literal (every quote in the WHERE
// clause is paired).
func FuzzSQL(f *testing.F) {
	for _, tc := range sqlCases {
		f.Add(tc.where, "s-1")
	}
	f.Fuzz(func(t *testing.T, where, sensor string) {
		q, err := NewQuery(where, t0, t0.Add(time.Hour), []string{sensor}, 0)
		if err != nil {
			return
		}
		s, err := SQL(q, sqlTables, sqlNow)
		if err != nil {
			if !strings.Contains(err.Error(), "has no SQL form") {
				t.Fatalf("unexpected error: %v", err)
			}
			return
		}
		if strings.Count(s, "'")%2 != 0 {
			t.Fatalf("unpaired quote in\n%s", s)
		}
	})
}
