package aws

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/athena"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/search"
	"github.com/vigil-sec/vigil/internal/testenv"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// fakeAthena speaks Athena's JSON protocol for the three calls EventSearch
// makes, on loopback. Started queries run for one GetQueryExecution, then
// succeed with rows, two per page.
type fakeAthena struct {
	mu      sync.Mutex
	started []map[string]any
	polls   int
	rows    [][]*string // the result rows, after the header
	cols    []string
}

func (f *fakeAthena) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var in map[string]any
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
		http.Error(w, err.Error(), 400)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	enc := json.NewEncoder(w)
	switch op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonAthena."); op {
	case "StartQueryExecution":
		f.started = append(f.started, in)
		_ = enc.Encode(map[string]any{"QueryExecutionId": "qe-1"})
	case "GetQueryExecution":
		if in["QueryExecutionId"] != "qe-1" {
			w.WriteHeader(400)
			_ = enc.Encode(map[string]any{"__type": "InvalidRequestException", "Message": "QueryExecution " + in["QueryExecutionId"].(string) + " was not found"})
			return
		}
		f.polls++
		state := "SUCCEEDED"
		if f.polls == 1 {
			state = "RUNNING"
		}
		_ = enc.Encode(map[string]any{"QueryExecution": map[string]any{"QueryExecutionId": "qe-1", "Status": map[string]any{"State": state}}})
	case "GetQueryResults":
		all := append([][]*string{stringsOf(f.cols)}, f.rows...) // the header first, as Athena sends it
		from := 0
		if tok, ok := in["NextToken"].(string); ok {
			if _, err := fmt.Sscan(tok, &from); err != nil {
				w.WriteHeader(400)
				_ = enc.Encode(map[string]any{"__type": "InvalidRequestException", "Message": "bad token"})
				return
			}
		}
		n := int(in["MaxResults"].(float64))
		to := min(from+n, len(all))
		var rows []any
		for _, r := range all[from:to] {
			var data []any
			for _, v := range r {
				if v == nil {
					data = append(data, map[string]any{})
				} else {
					data = append(data, map[string]any{"VarCharValue": *v})
				}
			}
			rows = append(rows, map[string]any{"Data": data})
		}
		var info []any
		for _, c := range f.cols {
			info = append(info, map[string]any{"Name": c, "Type": "varchar"})
		}
		out := map[string]any{"ResultSet": map[string]any{"Rows": rows, "ResultSetMetadata": map[string]any{"ColumnInfo": info}}}
		if to < len(all) {
			out["NextToken"] = itoa(to)
		}
		_ = enc.Encode(out)
	default:
		http.Error(w, "unexpected operation "+op, 400)
	}
}

func stringsOf(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

// resultRow is a result row of the named columns' values, nulls elsewhere.
func resultRow(cols []string, vals map[string]string) []*string {
	out := make([]*string, len(cols))
	for i, c := range cols {
		if v, ok := vals[c]; ok {
			out[i] = &v
		}
	}
	return out
}

var athenaCases = []struct {
	name, where  string
	since, until time.Time
	sensors      []string
	limit        int
}{
	{"curl_one_sensor", `{op: contains, path: event/COMMAND_LINE, value: curl, case sensitive: false}`,
		time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC), time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC), []string{"s-1"}, 50},
	{"every_sensor_quotes", "event: DNS_REQUEST\nop: is\npath: event/DOMAIN_NAME\nvalue: \"x'; DROP TABLE events; --\"",
		time.Date(2026, 11, 21, 23, 30, 0, 0, time.UTC), time.Date(2026, 11, 22, 1, 0, 0, 0, time.UTC), nil, 0},
}

func TestEventSearchAthena(t *testing.T) {
	for _, tc := range athenaCases {
		t.Run(tc.name, func(t *testing.T) {
			cols := make([]string, 0)
			for _, c := range event.Columns() {
				cols = append(cols, c.Name)
			}
			fake := &fakeAthena{cols: cols}
			at := tc.since.Add(time.Minute)
			for i, cmd := range []string{"curl -k http://x", "CURL y", "wget z"} {
				fake.rows = append(fake.rows, resultRow(cols, map[string]string{"sensor_id": "s-1", "event_type": "NEW_PROCESS",
					"event_time": itoa(int(at.UnixMilli()) + i), "event_id": "e" + itoa(i), "pid": itoa(100 + i), "command_line": cmd,
					"tags": `["env:prod"]`, "ancestor_pids": "[1]", "process_start_time": itoa(int(at.UnixMilli()))}))
			}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			s := &EventSearch{Client: athena.NewFromConfig(testenv.AWSConfig(t, srv.URL)), WorkGroup: "vigil", Database: "vigil",
				Table: "events", AllSensorsTable: "events_all_sensors",
				PageSize: 2, Poll: time.Millisecond, Now: func() time.Time { return tc.until }}
			q, err := search.NewQuery(tc.where, tc.since, tc.until, tc.sensors, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []event.Event
			st, err := s.Search(context.Background(), q, func(e *event.Event) error {
				got = append(got, *e)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(fake.started) != 1 {
				t.Fatalf("%d queries started", len(fake.started))
			}
			in := fake.started[0]
			if in["WorkGroup"] != "vigil" || in["QueryExecutionContext"].(map[string]any)["Database"] != "vigil" {
				t.Errorf("start input %v", in)
			}
			sql := in["QueryString"].(string)
			golden := filepath.Join("testdata", "athena", tc.name+".sql")
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(sql+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if sql+"\n" != string(want) {
				t.Errorf("SQL differs from %s:\n%s", golden, sql)
			}
			if len(got) != 3 || st.Matched != 3 || fake.polls < 2 {
				t.Fatalf("%d events, stats %+v, %d polls", len(got), st, fake.polls)
			}
			e := got[1]
			if e.SensorID != "s-1" || e.PID != 101 || e.CommandLine != "CURL y" || e.TimeNanos != (at.UnixMilli()+1)*1e6 ||
				len(e.Tags) != 1 || e.Tags[0] != "env:prod" || len(e.AncestorPIDs) != 1 || e.ProcessStartTime != at.UnixMilli()*1e6 {
				t.Errorf("event %+v", e)
			}
		})
	}
}

func TestEventSearchAthenaErrors(t *testing.T) {
	fake := &fakeAthena{cols: []string{"pid"}}
	srv := httptest.NewServer(fake)
	defer srv.Close()
	s := &EventSearch{Client: athena.NewFromConfig(testenv.AWSConfig(t, srv.URL)), WorkGroup: "vigil", Database: "vigil", Table: "events"}
	if _, err := s.SearchPage(context.Background(), "nope", ""); err == nil || !strings.Contains(err.Error(), "unknown search") {
		t.Errorf("unknown id: %v", err)
	}
	q, _ := search.NewQuery(`{op: is, path: event/PROCESS_AGE, value: 1}`, time.Now().Add(-time.Hour), time.Time{}, []string{"s"}, 0)
	if _, err := s.StartSearch(context.Background(), q); err == nil || !strings.Contains(err.Error(), "event/PROCESS_AGE has no SQL form") {
		t.Errorf("no SQL form: %v", err)
	}
	q, _ = search.NewQuery("", time.Now().Add(-time.Hour), time.Time{}, nil, 0)
	if _, err := s.StartSearch(context.Background(), q); err == nil || !strings.Contains(err.Error(), "no table for a query naming 0 sensors") {
		t.Errorf("no sensor named, no all-sensors table: %v", err)
	}
	if len(fake.started) != 0 {
		t.Error("a query without a SQL form or a table was started")
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
