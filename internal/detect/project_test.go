package detect

import (
	"context"
	"encoding/json"
	"os"
	"path"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
)

// batchCase is a list of events, evaluated in order as one batch by a fresh
// detector.
type batchCase struct {
	name string
	eng  *engine.Engine
	evs  []event.Event
}

// projectionCases are the match fixtures of every rule of the pack, and
// testdata/projection's rules on events they match.
func projectionCases(t *testing.T) []batchCase {
	pack := packEngine(t)
	var out []batchCase
	rulesFS := os.DirFS("../../rules")
	for _, r := range pack.Rules() {
		evs, err := engine.ReadFixture(rulesFS, path.Join("testdata", r.Name, engine.MatchFixture), r.Events[0])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, batchCase{r.Name, pack, evs})
	}
	eng := loadEngine(t, "testdata/projection")
	nc := event.Event{Type: event.NewProcess, ID: "e1", SensorID: "s1", TimeNanos: 1e18, PID: 7, PPID: 1,
		FilePath: "/usr/bin/nc", CommandLine: "nc -l 4444", CWD: "/srv/www", SessionID: 99}
	out = append(out, batchCase{"output template", eng, []event.Event{{Type: event.NewProcess, ID: "e0", SensorID: "s1"}, nc}})
	return out
}

// TestBatchReadsWhatRulesRead evaluates events through Batch, which reads
// only the columns the rules read until one matches, and through
// EvaluateContext on the events read whole: the detections must be the same,
// their events whole and their outputs rendered from them. Every event also
// holds a column no rule reads (event/CWD), which the detections must carry.
func TestBatchReadsWhatRulesRead(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	enc := event.NewRecordEncoder()
	detections := 0
	for _, tc := range projectionCases(t) {
		t.Run(tc.name, func(t *testing.T) {
			for i := range tc.evs {
				if tc.evs[i].CWD == "" {
					tc.evs[i].CWD = "/home/projection"
				}
			}
			rec, err := enc.Encode(tc.evs)
			if err != nil {
				t.Fatal(err)
			}
			projected := NewDetector(tc.eng)
			projected.Clock = func() time.Time { return now }
			got, n, err := projected.Batch(nil, rec)
			if err != nil || n != len(tc.evs) {
				t.Fatalf("Batch = %d events, %v", n, err)
			}
			if cols := projected.decoder.Projection(); len(cols) == 0 || len(cols) >= len(event.Columns()) {
				t.Fatalf("the batch was read with the projection %v: want some columns, not all", cols)
			}
			whole, err := event.DecodeRecord(nil, rec, 0)
			if err != nil {
				t.Fatal(err)
			}
			ref := NewDetector(tc.eng)
			ref.Clock = projected.Clock
			want, err := ref.EvaluateContext(context.Background(), nil, whole)
			if err != nil {
				t.Fatal(err)
			}
			if len(want) == 0 {
				t.Fatal("no detection: the case tests nothing")
			}
			detections += len(got)
			if len(got) != len(want) {
				t.Fatalf("Batch made %d detections, EvaluateContext %d", len(got), len(want))
			}
			for i := range got {
				g, _ := json.Marshal(got[i])
				w, _ := json.Marshal(want[i])
				if string(g) != string(w) {
					t.Fatalf("detection %d:\nBatch:           %s\nEvaluateContext: %s", i, g, w)
				}
				if got[i].Event.CWD == "" {
					t.Fatalf("detection %d: the event's event/CWD was not read", i)
				}
			}
			if tc.name == "output template" && got[0].Output != "nc in /srv/www (99)" {
				t.Fatalf("output = %q", got[0].Output)
			}
		})
	}
	t.Logf("%d detections", detections)
}
