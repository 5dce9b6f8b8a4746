package ocsf

import (
	"encoding/json"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

func TestMapFileOps(t *testing.T) {
	m := &Mapper{ProductVersion: "1.2.0"}
	for _, tc := range []struct {
		typ      event.Type
		activity int32
	}{
		{event.FileLink, 1}, {event.DirCreate, 1}, {event.FileMknod, 1},
		{event.DirDelete, 4}, {event.FileChown, 7}, {event.FileTruncate, 3},
	} {
		e := ev(tc.typ, func(e *event.Event) { e.TargetPath = "/etc/x" })
		rec, err := m.MapEvent(&e)
		if err != nil {
			t.Fatalf("%s: %v", tc.typ, err)
		}
		for _, err := range validate(rec) {
			t.Errorf("%s: %v", tc.typ, err)
		}
		raw, _ := json.Marshal(rec)
		var got struct {
			ClassUID   int32 `json:"class_uid"`
			ActivityID int32 `json:"activity_id"`
		}
		json.Unmarshal(raw, &got)
		if got.ClassUID != 1001 || got.ActivityID != tc.activity {
			t.Errorf("%s: got %s, want class 1001 activity %d", tc.typ, raw, tc.activity)
		}
	}
}
