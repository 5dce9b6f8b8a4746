package client

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
)

// detectionFixture is a detection's wire form with its explanation, as package
// detect writes it.
const detectionFixture = "../detect/testdata/detection_explained.json"

func TestGetDetection(t *testing.T) {
	body, err := os.ReadFile(detectionFixture)
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/orgs/acme/detections/c407d015d765a4efa4e8878cd5d01c0d":
			w.Write(body)
		case "/v1/orgs/acme/detections/empty":
			w.Write([]byte(`{}`))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"error":"no such detection"}`))
		}
	})
	ctx := context.Background()
	d, err := c.GetDetection(ctx, "c407d015d765a4efa4e8878cd5d01c0d")
	if err != nil {
		t.Fatal(err)
	}
	x := d.Explanation
	if d.Rule != "web_server_shell" || x == nil || !x.Matched || x.Child == nil || len(x.Child.Rules) != 2 ||
		len(x.Earlier) != 1 || x.Earlier[0].ID != "01KAQ0000000000000000000P1" {
		t.Fatalf("detection %+v, explanation %+v", d, x)
	}
	if v := d.Explained(); v.ID != d.ID || v.Explanation != x || v.Event["routing"] == nil {
		t.Errorf("Explained() = %+v", v)
	}
	if _, err := c.GetDetection(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown id: err = %v, want ErrNotFound", err)
	}
	if _, err := c.GetDetection(ctx, "empty"); err == nil {
		t.Errorf("an answer without an id: no error")
	}
	if _, err := c.GetDetection(ctx, " "); err == nil {
		t.Errorf("empty id: no error")
	}
}
