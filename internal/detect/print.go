package detect

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Printer writes detections to w, one per line: JSON objects when JSON is set,
// readable lines otherwise (ending in source=edge for a detection the sensor
// made). It is safe for concurrent use.
type Printer struct {
	W    io.Writer
	JSON bool
	mu   sync.Mutex
}

// Publish writes ds.
func (p *Printer) Publish(_ context.Context, ds []Detection) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := range ds {
		if err := p.write(&ds[i]); err != nil {
			return fmt.Errorf("print detection %s: %w", ds[i].ID, err)
		}
	}
	return nil
}

func (p *Printer) write(d *Detection) error {
	if p.JSON {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = p.W.Write(b)
		return err
	}
	ev := &d.Event
	line := fmt.Sprintf("%s %-8s %s (%s) host=%s pid=%d user=%s path=%s cmd=%q",
		d.Time.Local().Format(time.TimeOnly), strings.ToUpper(d.Severity), d.Name, d.Rule,
		ev.Hostname, ev.PID, ev.User, ev.FilePath, ev.CommandLine)
	if d.Output != "" {
		line += " output=" + strconv.Quote(d.Output)
	}
	if d.Edge {
		line += " source=edge" // the sensor's evaluation made it (JSON: "edge": true)
	}
	_, err := fmt.Fprintln(p.W, line)
	return err
}
