package hoststats

import (
	"context"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Health is the sensor's state as a heartbeat reports it.
type Health struct {
	Drops      uint64 // events and batches lost so far, all causes
	SpoolBytes uint64 // bytes waiting in the spool
	// Missing lists the capabilities the sensor cannot capture on this host
	// (kernel hooks not attached), as MISSING_CAPABILITIES.
	Missing []string
}

// Options configures a Generator.
type Options struct {
	SensorID string
	Hostname string
	Tags     []string
	Version  string

	HeartbeatEvery time.Duration // default 30s
	StatsEvery     time.Duration // default 60s
	// Health, if set, is asked at every heartbeat.
	Health func() Health
	// Now is the clock; default time.Now.
	Now func() time.Time
	// TxBytes reads the interface counters OutboundBytes is the rise of; nil
	// leaves OutboundBytes 0. A failed read leaves the interval's OutboundBytes
	// 0, and the next good one counts from the last good one.
	TxBytes TxCounters
	// MaxTracked bounds each set the generator keeps (executables seen, distinct
	// destinations per interval); default 65536. When the executables set is full
	// it starts over, so an executable may count as new once more after that.
	MaxTracked int
}

// Generator counts events and emits heartbeats and host stats. Safe for
// concurrent use.
type Generator struct {
	o       Options
	started time.Time

	mu        sync.Mutex
	nextBeat  time.Time
	nextStats time.Time
	lastStats time.Time
	cur       event.Event // HOST_STATS being counted
	ips       map[string]struct{}
	ports     map[uint16]struct{}
	exes      map[string]struct{}
	tx        map[string]uint64 // the counters at the last good read; nil before one
	txErr     error             // of the last read
}

// New returns a Generator whose first heartbeat is due at once and first host
// stats one StatsEvery later.
func New(o Options) *Generator {
	if o.HeartbeatEvery <= 0 {
		o.HeartbeatEvery = 30 * time.Second
	}
	if o.StatsEvery <= 0 {
		o.StatsEvery = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxTracked <= 0 {
		o.MaxTracked = 65536
	}
	now := o.Now()
	g := &Generator{o: o, started: now, nextBeat: now, nextStats: now.Add(o.StatsEvery), lastStats: now,
		ips: map[string]struct{}{}, ports: map[uint16]struct{}{}, exes: map[string]struct{}{}}
	g.outbound()
	return g
}

// TxErr is the error of the last read of the interface counters, nil if it
// succeeded or there is no TxBytes.
func (g *Generator) TxErr() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.txErr
}

// outbound reads the interface counters and returns the bytes sent since the
// last good read (0 at the first one, or on failure). Called with mu held, or
// before the Generator is shared.
func (g *Generator) outbound() uint64 {
	if g.o.TxBytes == nil {
		return 0
	}
	cur, err := g.o.TxBytes()
	g.txErr = err
	if err != nil {
		return 0
	}
	var n uint64
	if g.tx != nil {
		n = txDelta(g.tx, cur)
	}
	g.tx = cur
	return n
}

// Observe counts ev for the current interval.
func (g *Generator) Observe(ev *event.Event) {
	g.mu.Lock()
	defer g.mu.Unlock()
	c := &g.cur
	switch ev.Type {
	case event.NewProcess:
		c.CountExec++
		if _, ok := g.exes[ev.FilePath]; !ok && ev.FilePath != "" {
			if len(g.exes) >= g.o.MaxTracked {
				clear(g.exes)
			}
			g.exes[ev.FilePath] = struct{}{}
			c.NewExecutables++
		}
	case event.FileOpen:
		c.CountFileOpen++
	case event.FileDelete, event.FileRename, event.FileChmod,
		event.FileLink, event.DirCreate, event.DirDelete, event.FileMknod, event.FileChown, event.FileTruncate:
		c.CountFileChange++
	case event.NetworkConnect:
		c.CountConnect++
		if ev.ErrorCode != 0 {
			c.FailedConnects++
		}
		if ev.DestIP != "" && len(g.ips) < g.o.MaxTracked {
			g.ips[ev.DestIP] = struct{}{}
		}
		if ev.DestPort != 0 && len(g.ports) < g.o.MaxTracked {
			g.ports[ev.DestPort] = struct{}{}
		}
	case event.NetworkAccept:
		c.CountAccept++
	case event.DNSRequest:
		c.CountDNS++
	case event.ModuleLoad:
		c.CountModuleLoad++
	case event.PrivilegeChange:
		c.CountPrivChange++
	}
}

func (g *Generator) routing(typ string, now time.Time) event.Event {
	return event.Event{SensorID: g.o.SensorID, Hostname: g.o.Hostname, Tags: g.o.Tags, Type: typ,
		TimeNanos: now.UnixNano(), ID: event.NewID(now)}
}

// Due returns the events due at now (a heartbeat, host stats, both or none) and
// schedules the next ones. An interval missed entirely (the host slept) is not
// replayed: the next host stats cover the whole gap, with its length in
// IntervalSeconds.
func (g *Generator) Due(now time.Time) []event.Event {
	var out []event.Event
	// the heartbeat is claimed under the lock (one caller emits it) and built
	// outside it: Health is the caller's and may take its own locks
	g.mu.Lock()
	beat := !now.Before(g.nextBeat)
	if beat {
		g.nextBeat = next(g.nextBeat, now, g.o.HeartbeatEvery)
	}
	g.mu.Unlock()
	if beat {
		hb := g.routing(event.SensorHeartbeat, now)
		hb.SensorVersion = g.o.Version
		hb.UptimeSeconds = uint64(now.Sub(g.started) / time.Second)
		if g.o.Health != nil {
			h := g.o.Health()
			hb.Drops, hb.SpoolBytes = h.Drops, h.SpoolBytes
			hb.MissingCapabilities = h.Missing
		}
		out = append(out, hb)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if !now.Before(g.nextStats) {
		st := g.cur
		r := g.routing(event.HostStats, now)
		st.SensorID, st.Hostname, st.Tags, st.Type, st.TimeNanos, st.ID = r.SensorID, r.Hostname, r.Tags, r.Type, r.TimeNanos, r.ID
		st.IntervalSeconds = uint32((now.Sub(g.lastStats) + time.Second/2) / time.Second)
		st.DistinctDestIPs = uint64(len(g.ips))
		st.DistinctDestPorts = uint64(len(g.ports))
		st.OutboundBytes = g.outbound()
		out = append(out, st)
		g.cur = event.Event{}
		clear(g.ips)
		clear(g.ports)
		g.lastStats = now
		g.nextStats = next(g.nextStats, now, g.o.StatsEvery)
	}
	return out
}

// next is the first tick after now on the schedule of every from due.
func next(due, now time.Time, every time.Duration) time.Time {
	due = due.Add(every)
	if !due.After(now) {
		due = now.Add(every)
	}
	return due
}

// Run emits due events until ctx is done, checking every second (or more often
// for intervals shorter than that).
func (g *Generator) Run(ctx context.Context, emit func(*event.Event)) {
	t := time.NewTicker(min(time.Second, g.o.HeartbeatEvery, g.o.StatsEvery))
	defer t.Stop()
	for {
		for _, ev := range g.Due(g.o.Now()) {
			emit(&ev)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
