package event

import (
	"regexp"
	"sort"
	"testing"
	"time"
)

func TestNewID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9A-HJKMNP-TV-Z]{26}$`)
	base := time.Date(2026, 11, 22, 15, 0, 0, 0, time.UTC)
	var ids []string
	for i := range 100 {
		id := NewID(base.Add(time.Duration(i) * time.Millisecond))
		if !re.MatchString(id) {
			t.Fatalf("%q is not a ULID", id)
		}
		ids = append(ids, id)
	}
	if !sort.StringsAreSorted(ids) {
		t.Error("IDs of increasing times do not sort in order")
	}
	// within one millisecond, IDs still sort in creation order and never repeat
	same := make([]string, 1000)
	for i := range same {
		same[i] = NewID(base)
	}
	if !sort.StringsAreSorted(same) {
		t.Error("IDs of the same millisecond do not sort in creation order")
	}
	seen := map[string]bool{}
	for _, id := range same {
		if seen[id] {
			t.Fatalf("duplicate id %s", id)
		}
		seen[id] = true
	}
	// The time prefix of a known instant (ULID spec example: 1469918176385 ms → 01ARYZ6S41).
	if got := NewID(time.UnixMilli(1469918176385))[:10]; got != "01ARYZ6S41" {
		t.Errorf("time prefix = %s, want 01ARYZ6S41", got)
	}
}

func TestLakeKey(t *testing.T) {
	at := time.Date(2026, 11, 22, 7, 30, 0, 0, time.FixedZone("X", 3600))
	tests := []struct{ sensor, file, want string }{
		{"i-0abc", "01ARYZ6S41TSV4RRFFQ69G5FAV", "events/dt=2026-11-22/hr=06/sensor=i-0abc/01ARYZ6S41TSV4RRFFQ69G5FAV.parquet"},
		{"../../etc", "x", "events/dt=2026-11-22/hr=06/sensor=.._.._etc/x.parquet"},
		{"", "..", "events/dt=2026-11-22/hr=06/sensor=_/_.parquet"},
	}
	for _, tc := range tests {
		if got := LakeKey(tc.sensor, at, tc.file); got != tc.want {
			t.Errorf("LakeKey(%q) = %s, want %s", tc.sensor, got, tc.want)
		}
	}
}
