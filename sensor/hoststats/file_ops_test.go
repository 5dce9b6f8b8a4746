package hoststats

import (
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestHostStatsFileOps: links, directories, nodes, owner changes and
// truncations count as file changes.
func TestHostStatsFileOps(t *testing.T) {
	c := &clock{t: time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)}
	g := New(Options{SensorID: "i-1", Now: c.now})
	g.Due(c.now())
	types := []event.Type{event.FileLink, event.DirCreate, event.DirDelete, event.FileMknod, event.FileChown, event.FileTruncate}
	for _, typ := range types {
		g.Observe(&event.Event{Type: typ})
	}
	for _, e := range g.Due(c.step(time.Minute)) {
		if e.Type != event.HostStats {
			continue
		}
		if e.CountFileChange != uint64(len(types)) || e.CountFileOpen != 0 {
			t.Errorf("STATS/FILE_CHANGE %d, FILE_OPEN %d; want %d, 0", e.CountFileChange, e.CountFileOpen, len(types))
		}
		return
	}
	t.Fatal("no HOST_STATS after a minute")
}
