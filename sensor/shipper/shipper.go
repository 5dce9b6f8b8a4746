package shipper

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// Stream is the hot path's destination: Kinesis, or the in-process stream locally.
type Stream interface {
	Put(ctx context.Context, partitionKey string, records [][]byte) error
}

// Lake is the cold path's destination: S3, or a directory locally.
type Lake interface {
	Put(ctx context.Context, key string, data []byte) error
}

// Observer is told about every batch shipped (metrics). Path is "stream" or
// "lake"; latency runs from the batch's encoding to its acceptance.
type Observer interface {
	Shipped(path string, bytes int, latency time.Duration)
}

// DefaultBatchInterval is how often events are flushed when no batch fills
// up sooner.
const DefaultBatchInterval = time.Second

// Options configures a Shipper. Stream and Lake may each be nil to disable a path.
type Options struct {
	SensorID string
	Stream   Stream
	Lake     Lake

	BatchInterval time.Duration // default DefaultBatchInterval
	BatchEvents   int           // default 2000
	RollInterval  time.Duration // default cadence.LakeRoll (15m)
	RollEvents    int           // default 500000
	RollBytes     int           // largest lake file; default 64 MiB

	// Spool holds what could not be shipped yet. Nil means an in-memory spool
	// bounded by MaxPendingBytes (default 64 MiB).
	Spool           *spool.Spool
	MaxPendingBytes int

	Observer Observer
	Log      *slog.Logger
	// Now is the clock used for roll intervals and latencies; default time.Now.
	Now func() time.Time
}

// Stats counts what the shipper did.
type Stats struct {
	Events         uint64 // accepted by Add
	Sent           uint64 // records given to Send
	Records        uint64 // records put on the stream: framed batches and those given to Send
	LakeFiles      uint64 // files put in the lake
	StreamBytes    uint64 // bytes of the records put
	LakeBytes      uint64
	StreamFailures uint64 // failed Put calls (the batches were spooled)
	LakeFailures   uint64
	SpoolErrors    uint64 // batches the spool could not write (lost, and logged)
	DroppedRecords uint64 // stream batches evicted from the spool beyond its bound
	DroppedFiles   uint64 // lake files evicted likewise
	SpoolCorrupt   uint64 // spooled batches found unreadable and removed (lost)
	SpoolBytes     int64  // waiting in the spool now
	SpoolRecords   int
	SpoolFiles     int
	// Events left out of a path because they could not be encoded (lost to
	// that path, and logged): an event too large for a record or a lake file
	// on its own, or an encoder failure, which loses the lake file being
	// written. The other events of their batches are shipped.
	DroppedStreamEvents uint64
	DroppedLakeEvents   uint64
}

// Shipper batches events and ships them; see the package documentation.
type Shipper struct {
	opts  Options
	log   *slog.Logger
	spool *spool.Spool
	now   func() time.Time

	mu      sync.Mutex
	pending [][]event.Event // added since the last flush, for both paths: chunks of BatchEvents, the last one filling
	free    [][]event.Event // emptied chunks kept for reuse, at most keepChunks
	full    chan struct{}   // pending holds a whole batch: flush before the tick
	sent    []batch         // records given to Send since the last flush, in order
	urgent  chan struct{}   // sent holds records: put them now
	stats   Stats

	// owned by the flushing goroutine (flushMu)
	flushMu sync.Mutex
	taken   [][]event.Event // the other list of chunks, empty: pending after the next flush
	hotEnc  *event.RecordEncoder
	lake    *event.FileWriter // the open lake file; nil without a Lake
	file    lakeFile
	ratio   float64 // encoded/raw of the last lake file
}

// lakeFile describes the open lake file.
type lakeFile struct {
	opened time.Time // when its first events were written
	first  int64     // event time of its first event: the file's key
	hour   int64     // hour of first: an event of a later hour rolls the file
	raw    int       // estimated uncompressed size of its events
}

type batch struct {
	key     string // lake key; empty for records
	created time.Time
	data    []byte
}

// New returns a Shipper; call Run to start shipping.
func New(opts Options) *Shipper {
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = DefaultBatchInterval
	}
	if opts.BatchEvents <= 0 {
		opts.BatchEvents = 2000
	}
	if opts.RollInterval <= 0 {
		opts.RollInterval = cadence.LakeRoll
	}
	if opts.RollEvents <= 0 {
		opts.RollEvents = 500000
	}
	if opts.RollBytes <= 0 {
		opts.RollBytes = 64 << 20
	}
	if opts.MaxPendingBytes <= 0 {
		opts.MaxPendingBytes = 64 << 20
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	sp := opts.Spool
	if sp == nil {
		sp, _ = spool.Open("", int64(opts.MaxPendingBytes)) // memory mode cannot fail
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	s := &Shipper{opts: opts, log: log, spool: sp, now: now, ratio: 1, hotEnc: event.NewRecordEncoder(),
		full: make(chan struct{}, 1), urgent: make(chan struct{}, 1)}
	if opts.Lake != nil {
		s.lake = event.NewFileWriter()
	}
	return s
}

// Spool is the spool in use (the one given in Options, or the in-memory one).
func (s *Shipper) Spool() *spool.Spool { return s.spool }

// rawSize estimates an event's uncompressed size, for the lake file's byte bound.
func rawSize(ev *event.Event) int {
	n := 200 + len(ev.SensorID) + len(ev.Hostname) + len(ev.Type) + len(ev.ID) + len(ev.User) +
		len(ev.FilePath) + len(ev.CommandLine) + len(ev.ParentFilePath) + len(ev.ParentCommandLine) +
		len(ev.GrandparentPath) + len(ev.GrandparentCmd) + len(ev.ContainerID) + len(ev.TargetPath) +
		len(ev.OldTargetPath) + len(ev.FileFlags) + len(ev.Protocol) + len(ev.SourceIP) + len(ev.DestIP) +
		len(ev.DomainName) + len(ev.DNSType) + len(ev.ModuleName) + len(ev.Operation) + len(ev.SensorVersion)
	for _, t := range ev.Tags {
		n += len(t) + 4
	}
	return n
}

// Add queues a copy of ev, one for both paths. It is safe to call from the
// collector's goroutine while Run flushes.
func (s *Shipper) Add(ev *event.Event) {
	s.mu.Lock()
	s.stats.Events++
	if s.opts.Stream != nil || s.opts.Lake != nil {
		n := len(s.pending)
		if n == 0 || len(s.pending[n-1]) == s.opts.BatchEvents {
			s.pending = append(s.pending, s.chunk())
			n++
		}
		s.pending[n-1] = append(s.pending[n-1], *ev)
		if len(s.pending[n-1]) == s.opts.BatchEvents {
			select {
			case s.full <- struct{}{}:
			default:
			}
		}
	}
	s.mu.Unlock()
}

// Send queues data, one stream record already encoded (an edge record of
// package detect), to be put on the stream at once: Run puts it as soon as it
// is not busy shipping, without waiting for the batch interval, and always ahead
// of the batch of any event added after Send returned. It is spooled like a
// batch while the stream fails, in order with the batches, and replayed with
// them. Without a Stream the record is dropped. Send does not block; data must
// not be changed afterwards.
func (s *Shipper) Send(data []byte) {
	if s.opts.Stream == nil {
		return
	}
	s.mu.Lock()
	s.stats.Sent++
	s.sent = append(s.sent, batch{created: s.now(), data: data})
	s.mu.Unlock()
	select {
	case s.urgent <- struct{}{}:
	default:
	}
}

// chunk returns an empty chunk of BatchEvents events' room, a kept one if
// there is one. Called with mu held.
func (s *Shipper) chunk() []event.Event {
	if n := len(s.free); n > 0 {
		c := s.free[n-1]
		s.free[n-1] = nil
		s.free = s.free[:n-1]
		return c
	}
	return make([]event.Event, 0, s.opts.BatchEvents)
}

func hourOf(ns int64) int64 { return ns / int64(time.Hour) }

// Stats returns the counters so far.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	st := s.stats
	s.mu.Unlock()
	sp := s.spool.Stats()
	st.DroppedRecords = sp.EvictedItems(spool.Record)
	st.DroppedFiles = sp.EvictedItems(spool.LakeFile)
	st.SpoolCorrupt = sp.Corrupt
	st.SpoolBytes = s.spool.Bytes()
	st.SpoolRecords = s.spool.Len(spool.Record)
	st.SpoolFiles = s.spool.Len(spool.LakeFile)
	return st
}

// Run flushes every BatchInterval until ctx is done, then flushes everything —
// lake file included — with a fresh deadline of grace and returns. Whatever the
// spool holds from an earlier run is shipped first.
func (s *Shipper) Run(ctx context.Context, grace time.Duration) error {
	t := time.NewTicker(s.opts.BatchInterval)
	defer t.Stop()
	var failingSince, lastLog time.Time
	// tick flushes (only what Send queued, when sentOnly); during an outage it
	// logs one line when the outage starts, one every minute and one at the end.
	tick := func(sentOnly bool) {
		var err error
		if sentOnly {
			err = s.shipSent(ctx)
		} else {
			err, _ = s.flushParts(ctx, false) // encoding errors are logged and counted there
		}
		now := s.now()
		switch {
		case err != nil && (failingSince.IsZero() || now.Sub(lastLog) >= time.Minute):
			if failingSince.IsZero() {
				failingSince = now
			}
			lastLog = now
			st := s.Stats()
			s.log.Warn("ship failed; batches spooled", "error", err, "failing_for", now.Sub(failingSince).Round(time.Second),
				"spool_bytes", st.SpoolBytes, "spool_records", st.SpoolRecords, "spool_files", st.SpoolFiles)
		case err == nil && !failingSince.IsZero():
			s.log.Info("ship recovered", "after", now.Sub(failingSince).Round(time.Second))
			failingSince = time.Time{}
		}
	}
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
			defer cancel()
			err := s.flush(fctx, true)
			if st := s.Stats(); st.SpoolRecords+st.SpoolFiles > 0 {
				where := "in memory: lost at exit"
				if s.spool.Dir() != "" {
					where = "in " + s.spool.Dir() + ": shipped at the next start"
				}
				s.log.Warn("shutdown left batches unshipped", "records", st.SpoolRecords, "lake_files", st.SpoolFiles,
					"bytes", st.SpoolBytes, "kept", where)
			}
			return err
		case <-s.full:
			// A batch is ready before the tick: ship it now, unless the
			// backends are failing (then the tick paces the retries).
			if failingSince.IsZero() {
				tick(false)
			}
		case <-s.urgent:
			// Records given to Send go at once, unless the backends are
			// failing: then they wait in order for the tick's retry.
			if failingSince.IsZero() {
				tick(true)
			}
		case <-t.C:
			tick(false)
		}
	}
}

// Flush ships what is queued now, lake file included.
func (s *Shipper) Flush(ctx context.Context) error { return s.flush(ctx, true) }

func (s *Shipper) flush(ctx context.Context, final bool) error {
	shipErr, encErr := s.flushParts(ctx, final)
	return errors.Join(encErr, shipErr)
}

// flushParts encodes what is queued and ships it. It returns apart the error of
// shipping (batches the backends refused: they are spooled) and that of
// encoding (events left out: counted in Stats and logged here).
func (s *Shipper) flushParts(ctx context.Context, final bool) (shipErr, encErr error) {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()

	s.mu.Lock()
	chunks := s.pending
	s.pending, s.taken = s.taken, nil
	records := s.takeSent()
	s.mu.Unlock()

	// Each chunk is encoded for both paths, then cleared, before the next: a
	// chunk (some megabytes) stays in the CPU's cache for both.
	var errs [4]error
	var files []batch
	var streamErrs, lakeErrs []error
	// what Send queued goes first in records: it was queued before these events were added
	for _, events := range chunks {
		if s.opts.Stream != nil {
			records = s.encodeRecords(records, events, &streamErrs)
		}
		if s.opts.Lake != nil {
			files = s.writeLakeEvents(files, events, &lakeErrs)
		}
		clear(events)
	}
	if s.opts.Lake != nil {
		files = s.endLake(files, final, &lakeErrs)
	}
	errs[0], errs[1] = errors.Join(streamErrs...), errors.Join(lakeErrs...)
	s.recycle(chunks)
	if encErr = errors.Join(errs[0], errs[1]); encErr != nil {
		st := s.Stats()
		s.log.Error("events dropped: they could not be encoded", "error", encErr,
			"stream_events_dropped", st.DroppedStreamEvents, "lake_events_dropped", st.DroppedLakeEvents)
	}

	// what was encoded is shipped even if an event could not be (never expected)
	var wg sync.WaitGroup
	if s.opts.Stream != nil {
		wg.Go(func() { errs[2] = s.ship(ctx, spool.Record, records) })
	}
	if s.opts.Lake != nil {
		wg.Go(func() { errs[3] = s.ship(ctx, spool.LakeFile, files) })
	}
	wg.Wait()
	return errors.Join(errs[2], errs[3]), encErr
}

// takeSent returns the records Send queued and empties the queue; s.mu is held.
func (s *Shipper) takeSent() []batch {
	sent := s.sent
	s.sent = nil
	return sent
}

// shipSent ships the records Send queued, after whatever the spool holds.
func (s *Shipper) shipSent(ctx context.Context) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.mu.Lock()
	sent := s.takeSent()
	s.mu.Unlock()
	if len(sent) == 0 {
		return nil
	}
	return s.ship(ctx, spool.Record, sent)
}

// keepChunks bounds the emptied chunks of pending events the shipper keeps
// for reuse. A read of the kernel ring buffer in a storm hands over a
// sixteenth of it or more at once (a megabyte of records, thousands of events)
// before a flush takes them, so pending grows to several chunks; chunks made
// again at every burst would cost their allocation and zeroing again. Pending
// events grow by whole chunks, never copied. keepChunks chunks are about 10 MB
// at the default batch size.
const keepChunks = 8

// recycle keeps the chunks of flushed events for reuse, up to keepChunks
// (cleared already, so that they hold no strings for the GC); the list that
// held them becomes the next pending list.
func (s *Shipper) recycle(chunks [][]event.Event) {
	s.mu.Lock()
	for _, c := range chunks {
		if len(s.free) < keepChunks {
			s.free = append(s.free, c[:0])
		}
	}
	s.mu.Unlock()
	clear(chunks)
	s.taken = chunks[:0]
}

// encodeRecords appends the batches of a chunk of events to out: a chunk holds
// at most BatchEvents events and is split in halves until it fits a record.
// Events that cannot be encoded are left out and counted
// (DroppedStreamEvents), and why appended to errs; every other event is
// encoded.
func (s *Shipper) encodeRecords(out []batch, events []event.Event, errs *[]error) []batch {
	out, lost, err := s.encodeSplit(out, s.hotEnc, events, event.MaxRecordBytes, false)
	if lost > 0 {
		s.count(func(st *Stats) { st.DroppedStreamEvents += uint64(lost) })
		*errs = append(*errs, fmt.Errorf("stream: %d of %d events left out: %w", lost, len(events), err))
	}
	return out
}

// The lake path: writeLakeEvents writes the events of each chunk to the open
// lake file, endLake ends the flush. Files rolled are appended to out. A file
// is rolled before an event of a later hour than its first (earlier events,
// out of order at the boundary, go into the open file), when it reaches
// RollEvents or its estimated size nears RollBytes, and at the end of a flush
// when final or RollInterval after it was opened. Events that cannot be
// encoded are left out and counted (DroppedLakeEvents), and why appended to
// errs; the events after them still are written.

// endLake rolls the open lake file at the end of a flush if final or if it
// was opened RollInterval ago.
func (s *Shipper) endLake(out []batch, final bool, errs *[]error) []batch {
	if s.lake.Rows() > 0 && (final || s.now().Sub(s.file.opened) >= s.opts.RollInterval) {
		out = s.rollLake(out, errs)
	}
	return out
}

// lakeLost counts n events lost to the lake path and keeps why.
func (s *Shipper) lakeLost(n int, err error, errs *[]error) {
	s.count(func(st *Stats) { st.DroppedLakeEvents += uint64(n) })
	*errs = append(*errs, fmt.Errorf("lake: %d events left out: %w", n, err))
}

// writeLakeEvents writes events to the open lake file, rolling it at an hour's
// change and when full.
func (s *Shipper) writeLakeEvents(out []batch, events []event.Event, errs *[]error) []batch {
	for len(events) > 0 {
		if s.lake.Rows() == 0 {
			s.file = lakeFile{opened: s.now(), first: events[0].TimeNanos, hour: hourOf(events[0].TimeNanos)}
		} else if hourOf(events[0].TimeNanos) > s.file.hour {
			out = s.rollLake(out, errs)
			continue
		}
		n := 0
		for n < len(events) && hourOf(events[n].TimeNanos) <= s.file.hour && !s.lakeFull(n) {
			s.file.raw += rawSize(&events[n])
			n++
		}
		if rows := s.lake.Rows(); s.lake.Write(events[:n]) != nil {
			// the file is unusable: it is dropped with the events written to it
			// so far, and the next events go into a new one
			_, err := s.lake.Close()
			s.lakeLost(rows+n, fmt.Errorf("lake file dropped: %w", err), errs)
			events = events[n:]
			continue
		}
		events = events[n:]
		if s.lakeFull(0) {
			out = s.rollLake(out, errs)
		}
	}
	return out
}

// lakeFull reports whether the open file is full once n more events are written:
// RollEvents reached, or its size estimated (from the last file's compression
// ratio) near RollBytes.
func (s *Shipper) lakeFull(n int) bool {
	return s.lake.Rows()+n >= s.opts.RollEvents ||
		float64(s.file.raw)*s.ratio >= 0.9*float64(s.opts.RollBytes)
}

// rollLake closes the open lake file and appends it to out, split in parts if it
// came out over RollBytes anyway (events much less compressible than the last
// file's): then it is decoded and encoded again in halves until each part fits.
// Events lost on the way are counted and their error appended to errs.
func (s *Shipper) rollLake(out []batch, errs *[]error) []batch {
	rows := s.lake.Rows()
	data, err := s.lake.Close()
	if err != nil {
		s.lakeLost(rows, fmt.Errorf("lake file dropped: %w", err), errs)
		return out
	}
	s.ratio = max(float64(len(data))/float64(max(s.file.raw, 1)), 0.01)
	if len(data) > s.opts.RollBytes {
		events, err := event.Decode(nil, data, 0)
		if err != nil {
			s.lakeLost(rows, fmt.Errorf("split lake file of %d bytes: %w", len(data), err), errs)
			return out
		}
		var lost int
		if out, lost, err = s.encodeSplit(out, event.NewLakeEncoder(), events, s.opts.RollBytes, true); lost > 0 {
			s.lakeLost(lost, err, errs)
		}
		return out
	}
	first := time.Unix(0, s.file.first)
	return append(out, batch{key: event.LakeKey(s.opts.SensorID, first, event.NewID(first)), created: s.now(), data: data})
}

// batchEncoder encodes a batch of events: an *event.RecordEncoder for the
// stream's framed records, an *event.Encoder for the lake's Parquet files.
type batchEncoder interface {
	Encode(events []event.Event) ([]byte, error)
}

// encodeSplit appends events to out as batches of at most limit bytes (as
// enc encodes them: a stream record's limit applies to its framed bytes),
// split in halves until each part fits; lake batches get a lake key. An event
// that cannot be encoded (over limit on its own, or refused by the encoder) is
// left out: it returns how many were, with the first one's reason.
func (s *Shipper) encodeSplit(out []batch, enc batchEncoder, events []event.Event, limit int, lake bool) ([]batch, int, error) {
	if len(events) == 0 {
		return out, 0, nil
	}
	data, err := enc.Encode(events)
	if err == nil && len(data) <= limit {
		b := batch{created: s.now(), data: append([]byte(nil), data...)}
		if lake {
			first := time.Unix(0, events[0].TimeNanos)
			b.key = event.LakeKey(s.opts.SensorID, first, event.NewID(first))
		}
		return append(out, b), 0, nil
	}
	if len(events) == 1 {
		if err != nil {
			return out, 1, fmt.Errorf("event %s: %w", events[0].ID, err)
		}
		return out, 1, fmt.Errorf("event %s encodes to %d bytes, over the %d-byte limit", events[0].ID, len(data), limit)
	}
	half := len(events) / 2
	out, lost1, err1 := s.encodeSplit(out, enc, events[:half], limit, lake)
	out, lost2, err2 := s.encodeSplit(out, enc, events[half:], limit, lake)
	return out, lost1 + lost2, cmp.Or(err1, err2)
}

// Limits of one Stream.Put: within one Kinesis PutRecords call, so that a failure
// re-sends only that call's records.
const (
	putRecords = 500
	putBytes   = 4 << 20
)

// ship sends fresh batches of kind, after whatever the spool holds of that kind;
// what cannot be sent is appended to the spool, in order.
func (s *Shipper) ship(ctx context.Context, kind spool.Kind, fresh []batch) error {
	if s.spool.Len(kind) == 0 {
		failed, err := s.put(ctx, kind, fresh)
		if err == nil {
			return nil
		}
		for _, i := range failed {
			s.toSpool(kind, fresh[i:i+1])
		}
		return err
	}
	s.toSpool(kind, fresh)
	return s.replay(ctx, kind)
}

func (s *Shipper) toSpool(kind spool.Kind, bs []batch) {
	for _, b := range bs {
		if err := s.spool.Append(kind, b.key, b.created, b.data); err != nil {
			s.count(func(st *Stats) { st.SpoolErrors++ })
			s.log.Error("spool", "kind", kind.String(), "bytes", len(b.data), "error", err)
		}
	}
}

// replay ships the spool's batches of kind, oldest first, until it is empty or a
// put fails.
func (s *Shipper) replay(ctx context.Context, kind spool.Kind) error {
	for {
		items, err := s.spool.Peek(kind, putRecords, putBytes)
		if err != nil {
			s.log.Error("spool read (batch dropped)", "error", err)
			continue
		}
		if len(items) == 0 {
			return nil
		}
		bs := make([]batch, len(items))
		for i, it := range items {
			bs[i] = batch{key: it.Key, created: it.Created, data: it.Data}
		}
		failed, err := s.put(ctx, kind, bs)
		s.spool.Remove(accepted(items, failed)...)
		if err != nil {
			return err
		}
	}
}

// accepted returns the items whose indexes are not in failed (ascending).
func accepted[T any](items []T, failed []int) []T {
	out := make([]T, 0, len(items)-len(failed))
	for i, it := range items {
		if len(failed) > 0 && failed[0] == i {
			failed = failed[1:]
			continue
		}
		out = append(out, it)
	}
	return out
}

// partialPut is an error of a stream that accepted some of the records it was
// given: Unaccepted lists the indexes of the others, ascending. A stream error
// without it accepted none.
type partialPut interface {
	Unaccepted() []int
}

// put sends bs in order. On error it returns the indexes of the batches not
// accepted (ascending): the others are shipped and must not be sent again.
func (s *Shipper) put(ctx context.Context, kind spool.Kind, bs []batch) ([]int, error) {
	done := 0
	for done < len(bs) {
		if kind == spool.LakeFile {
			b := bs[done]
			if err := s.opts.Lake.Put(ctx, b.key, b.data); err != nil {
				s.count(func(st *Stats) { st.LakeFailures++ })
				return span(done, len(bs)), fmt.Errorf("put lake file %s (spooled for retry): %w", b.key, err)
			}
			s.shipped("lake", b)
			s.count(func(st *Stats) { st.LakeFiles++; st.LakeBytes += uint64(len(b.data)) })
			done++
			continue
		}
		n := 0
		for size := 0; done+n < len(bs) && n < putRecords && (n == 0 || size+len(bs[done+n].data) <= putBytes); n++ {
			size += len(bs[done+n].data)
		}
		recs := make([][]byte, n)
		for i := range n {
			recs[i] = bs[done+i].data
		}
		err := s.opts.Stream.Put(ctx, s.opts.SensorID, recs)
		var failed []int
		if err != nil {
			s.count(func(st *Stats) { st.StreamFailures++ })
			failed = span(0, n)
			var p partialPut
			if errors.As(err, &p) && valid(p.Unaccepted(), n) {
				failed = slices.Clone(p.Unaccepted())
			}
		}
		for _, b := range accepted(bs[done:done+n], failed) {
			s.shipped("stream", b)
			s.count(func(st *Stats) { st.Records++; st.StreamBytes += uint64(len(b.data)) })
		}
		if err != nil {
			for i := range failed {
				failed[i] += done
			}
			failed = append(failed, span(done+n, len(bs))...)
			return failed, fmt.Errorf("put %d records (spooled for retry): %w", len(failed), err)
		}
		done += n
	}
	return nil, nil
}

// valid reports whether idx are ascending indexes below n.
func valid(idx []int, n int) bool {
	for i, x := range idx {
		if x < 0 || x >= n || (i > 0 && x <= idx[i-1]) {
			return false
		}
	}
	return true
}

// span returns the indexes from to to, to excluded.
func span(from, to int) []int {
	out := make([]int, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func (s *Shipper) shipped(path string, b batch) {
	if s.opts.Observer != nil {
		s.opts.Observer.Shipped(path, len(b.data), s.now().Sub(b.created))
	}
}

func (s *Shipper) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}
