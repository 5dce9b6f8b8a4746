package aws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
)

func newDetections(t *testing.T) *Detections {
	t.Helper()
	c := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	return &Detections{Client: c, Table: testenv.CreateTable(t, c, testenv.DetectionsTable)}
}

func det(i int, sensor string, tags ...string) detect.Detection {
	at := time.Date(2026, 11, 22, 10, 0, i, 0, time.UTC)
	return detect.Detection{ID: fmt.Sprintf("d%02d", i), Rule: "r", Name: "r", Severity: "high", Time: at,
		Event: event.Event{SensorID: sensor, Tags: tags, Type: event.NewProcess, TimeNanos: at.UnixNano(), ID: fmt.Sprint(i)}}
}

func ids(t *testing.T, docs []json.RawMessage) []string {
	t.Helper()
	var out []string
	for _, d := range docs {
		var x struct{ ID string }
		if err := json.Unmarshal(d, &x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x.ID)
	}
	return out
}

// TestDetectionsClaimIsIdempotent: a replayed batch stores nothing twice and
// publishes nothing twice; an unpublished detection is handed out again.
func TestDetectionsClaimIsIdempotent(t *testing.T) {
	st := newDetections(t)
	ctx := context.Background()
	batch := []detect.Detection{det(1, "s1", "env:prod"), det(2, "s2")}
	got, err := st.Claim(ctx, batch)
	if err != nil || len(got) != 2 {
		t.Fatalf("first claim: %d, %v", len(got), err)
	}
	// not yet published: a retry hands both out again
	if got, err = st.Claim(ctx, batch); err != nil || len(got) != 2 {
		t.Fatalf("retry before publishing: %d, %v", len(got), err)
	}
	if err := st.MarkPublished(ctx, []string{"d01", "d02"}); err != nil {
		t.Fatal(err)
	}
	if got, err = st.Claim(ctx, batch); err != nil || len(got) != 0 {
		t.Fatalf("replay after publishing: %d, %v", len(got), err)
	}
	docs, _, err := st.List(ctx, api.DetectionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(ids(t, docs)) != "[d02 d01]" {
		t.Fatalf("stored %v, want each once, newest first", ids(t, docs))
	}
}

// TestDetectionsClaimKeepsThePublishedDocument: a detection of the same id
// claimed again once published (the cloud's evaluation of a batch finding what
// a sensor's edge record sent first) changes nothing that was stored, in the
// table or its indexes; before it was published, a retry's document replaces it.
func TestDetectionsClaimKeepsThePublishedDocument(t *testing.T) {
	st := newDetections(t)
	ctx := context.Background()
	edge := det(1, "s1", "env:prod")
	edge.Edge, edge.EdgeActions = true, []string{"kill"}
	cloud := det(1, "s1", "env:prod")
	retry := det(2, "s1", "env:prod")
	retried := retry
	retried.Severity = "critical"
	if got, err := st.Claim(ctx, []detect.Detection{edge, retry}); err != nil || len(got) != 2 {
		t.Fatalf("claim: %d, %v", len(got), err)
	}
	if err := st.MarkPublished(ctx, []string{edge.ID}); err != nil {
		t.Fatal(err)
	}
	if got, err := st.Claim(ctx, []detect.Detection{cloud, retried}); err != nil || len(got) != 1 || got[0].ID != retry.ID {
		t.Fatalf("second claim: %v, %v; want only the unpublished %s", got, err, retry.ID)
	}
	for _, q := range []api.DetectionQuery{{}, {Tag: "env:prod"}, {SensorID: "s1"}} {
		docs, _, err := st.List(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if len(docs) != 2 {
			t.Fatalf("%+v: %d documents", q, len(docs))
		}
		for _, doc := range docs {
			var d detect.Detection
			if err := json.Unmarshal(doc, &d); err != nil {
				t.Fatal(err)
			}
			switch {
			case d.ID == edge.ID && (!d.Edge || len(d.EdgeActions) != 1):
				t.Errorf("%+v: the published edge detection was replaced: %s", q, doc)
			case d.ID == retry.ID && d.Severity != "critical":
				t.Errorf("%+v: the unpublished detection kept its first document: %s", q, doc)
			}
		}
	}
}

func TestDetectionsList(t *testing.T) {
	st := newDetections(t)
	ctx := context.Background()
	var batch []detect.Detection
	for i := range 7 {
		tags := []string{"env:dev"}
		if i%2 == 0 {
			tags = []string{"env:prod", "deployment:42"}
		}
		batch = append(batch, det(i, fmt.Sprint("s", i%3), tags...))
	}
	if _, err := st.Claim(ctx, batch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		q    api.DetectionQuery
		want string
	}{
		{"all", api.DetectionQuery{}, "[d06 d05 d04 d03 d02 d01 d00]"},
		{"by tag", api.DetectionQuery{Tag: "env:prod"}, "[d06 d04 d02 d00]"},
		{"by other tag", api.DetectionQuery{Tag: "deployment:42"}, "[d06 d04 d02 d00]"},
		{"unknown tag", api.DetectionQuery{Tag: "env:none"}, "[]"},
		{"by sensor", api.DetectionQuery{SensorID: "s0"}, "[d06 d03 d00]"},
		{"since", api.DetectionQuery{Tag: "env:prod", Since: time.Date(2026, 11, 22, 10, 0, 3, 0, time.UTC)}, "[d06 d04]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			docs, _, err := st.List(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(ids(t, docs)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}

	t.Run("pages", func(t *testing.T) {
		var all []string
		q := api.DetectionQuery{Limit: 3}
		for page := 0; ; page++ {
			docs, next, err := st.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			all = append(all, ids(t, docs)...)
			if next == "" {
				break
			}
			if page > 5 {
				t.Fatal("pagination does not end")
			}
			q.Cursor = next
		}
		if fmt.Sprint(all) != "[d06 d05 d04 d03 d02 d01 d00]" {
			t.Errorf("pages = %v", all)
		}
	})
	t.Run("bad cursor", func(t *testing.T) {
		for _, c := range []string{"!!!", "bm90IGpzb24", "e30"} {
			if _, _, err := st.List(ctx, api.DetectionQuery{Cursor: c}); !errors.Is(err, ErrBadCursor) {
				t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
			}
		}
	})
}
