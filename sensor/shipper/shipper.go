package shipper

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// Stream is the hot path's destination: Kinesis, or the in-process stream locally.
type Stream interface {
	Put(ctx context.Context, partitionKey string, records [][]byte) error
}

// Lake is the cold path's destination: S3, or a directory locally.
type Lake interface {
	Put(ctx context.Context, key string, data []byte) error
}

// Options configures a Shipper. Stream and Lake may each be nil to disable a path.
type Options struct {
	SensorID string
	Stream   Stream
	Lake     Lake

	BatchInterval   time.Duration // default 1s
	BatchEvents     int           // default 2000
	RollInterval    time.Duration // default 5m
	RollEvents      int           // default 500000
	MaxPendingBytes int           // default 64 MiB
	Log             *slog.Logger
}

// Stats counts what the shipper did.
type Stats struct {
	Events         uint64 // accepted by Add
	Records        uint64 // Parquet batches put on the stream
	LakeFiles      uint64 // files put in the lake
	StreamFailures uint64 // failed Put calls (retried)
	LakeFailures   uint64
	DroppedRecords uint64 // pending batches evicted beyond MaxPendingBytes
	DroppedFiles   uint64
}

// Shipper batches events and ships them; see the package documentation.
type Shipper struct {
	opts Options
	log  *slog.Logger

	mu        sync.Mutex
	hot       []event.Event
	cold      []event.Event
	coldStart time.Time
	stats     Stats

	// owned by the flushing goroutine (flushMu)
	flushMu     sync.Mutex
	hotEnc      *event.Encoder
	coldEnc     *event.Encoder
	pending     [][]byte
	pendingSize int
	files       []lakeFile
	filesSize   int
}

type lakeFile struct {
	key  string
	data []byte
}

// New returns a Shipper; call Run to start shipping.
func New(opts Options) *Shipper {
	if opts.BatchInterval <= 0 {
		opts.BatchInterval = time.Second
	}
	if opts.BatchEvents <= 0 {
		opts.BatchEvents = 2000
	}
	if opts.RollInterval <= 0 {
		opts.RollInterval = 5 * time.Minute
	}
	if opts.RollEvents <= 0 {
		opts.RollEvents = 500000
	}
	if opts.MaxPendingBytes <= 0 {
		opts.MaxPendingBytes = 64 << 20
	}
	log := opts.Log
	if log == nil {
		log = slog.Default()
	}
	return &Shipper{opts: opts, log: log, hotEnc: event.NewEncoder(), coldEnc: event.NewEncoder()}
}

// Add queues a copy of ev for both paths. It is safe to call from the collector's
// goroutine while Run flushes.
func (s *Shipper) Add(ev *event.Event) {
	s.mu.Lock()
	s.stats.Events++
	if s.opts.Stream != nil {
		s.hot = append(s.hot, *ev)
	}
	if s.opts.Lake != nil {
		if len(s.cold) == 0 {
			s.coldStart = time.Now()
		} else if hourOf(s.cold[0].TimeNanos) != hourOf(ev.TimeNanos) {
			s.coldStart = time.Time{} // roll at the next flush: a file never spans hours
		}
		s.cold = append(s.cold, *ev)
	}
	s.mu.Unlock()
}

func hourOf(ns int64) int64 { return ns / int64(time.Hour) }

// Stats returns the counters so far.
func (s *Shipper) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Run flushes every BatchInterval until ctx is done, then flushes everything —
// lake file included — with a fresh deadline of grace and returns.
func (s *Shipper) Run(ctx context.Context, grace time.Duration) error {
	t := time.NewTicker(s.opts.BatchInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
			defer cancel()
			return s.flush(fctx, true)
		case <-t.C:
			if err := s.flush(ctx, false); err != nil {
				s.log.Warn("ship", "error", err)
			}
		}
	}
}

// Flush ships what is queued now, lake file included.
func (s *Shipper) Flush(ctx context.Context) error { return s.flush(ctx, true) }

func (s *Shipper) flush(ctx context.Context, final bool) error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()

	s.mu.Lock()
	hot := s.hot
	s.hot = nil
	var cold []event.Event
	if len(s.cold) > 0 && (final || len(s.cold) >= s.opts.RollEvents || s.coldStart.IsZero() ||
		time.Since(s.coldStart) >= s.opts.RollInterval) {
		cold, s.cold = s.cold, nil
	}
	s.mu.Unlock()

	if err := s.encodeHot(hot); err != nil {
		return err
	}
	if err := s.encodeCold(cold); err != nil {
		return err
	}
	streamErr := s.putPending(ctx)
	lakeErr := s.putFiles(ctx)
	if streamErr != nil {
		return streamErr
	}
	return lakeErr
}

// encodeHot appends hot's batches to pending, splitting any batch over a record's
// size.
func (s *Shipper) encodeHot(events []event.Event) error {
	for len(events) > 0 {
		n := min(len(events), s.opts.BatchEvents)
		if err := s.encodeRecords(events[:n]); err != nil {
			return err
		}
		events = events[n:]
	}
	return nil
}

func (s *Shipper) encodeRecords(events []event.Event) error {
	data, err := s.hotEnc.Encode(events)
	if err != nil {
		return fmt.Errorf("encode batch: %w", err)
	}
	if len(data) > event.MaxRecordBytes {
		if len(events) == 1 {
			return fmt.Errorf("one event encodes to %d bytes, over the %d-byte record limit", len(data), event.MaxRecordBytes)
		}
		half := len(events) / 2
		if err := s.encodeRecords(events[:half]); err != nil {
			return err
		}
		return s.encodeRecords(events[half:])
	}
	s.pending = append(s.pending, append([]byte(nil), data...))
	s.pendingSize += len(data)
	for s.pendingSize > s.opts.MaxPendingBytes && len(s.pending) > 1 {
		s.pendingSize -= len(s.pending[0])
		s.pending = s.pending[1:]
		s.count(func(st *Stats) { st.DroppedRecords++ })
	}
	return nil
}

func (s *Shipper) encodeCold(events []event.Event) error {
	if len(events) == 0 {
		return nil
	}
	data, err := s.coldEnc.Encode(events)
	if err != nil {
		return fmt.Errorf("encode lake file: %w", err)
	}
	first := time.Unix(0, events[0].TimeNanos)
	key := event.LakeKey(s.opts.SensorID, first, event.NewID(first))
	s.files = append(s.files, lakeFile{key: key, data: append([]byte(nil), data...)})
	s.filesSize += len(data)
	for s.filesSize > s.opts.MaxPendingBytes && len(s.files) > 1 {
		s.filesSize -= len(s.files[0].data)
		s.files = s.files[1:]
		s.count(func(st *Stats) { st.DroppedFiles++ })
	}
	return nil
}

func (s *Shipper) putPending(ctx context.Context) error {
	if len(s.pending) == 0 {
		return nil
	}
	if err := s.opts.Stream.Put(ctx, s.opts.SensorID, s.pending); err != nil {
		s.count(func(st *Stats) { st.StreamFailures++ })
		return fmt.Errorf("put %d records (kept for retry): %w", len(s.pending), err)
	}
	n := uint64(len(s.pending))
	s.count(func(st *Stats) { st.Records += n })
	s.pending, s.pendingSize = nil, 0
	return nil
}

func (s *Shipper) putFiles(ctx context.Context) error {
	for len(s.files) > 0 {
		f := s.files[0]
		if err := s.opts.Lake.Put(ctx, f.key, f.data); err != nil {
			s.count(func(st *Stats) { st.LakeFailures++ })
			return fmt.Errorf("put lake file %s (kept for retry): %w", f.key, err)
		}
		s.filesSize -= len(f.data)
		s.files = s.files[1:]
		s.count(func(st *Stats) { st.LakeFiles++ })
	}
	return nil
}

func (s *Shipper) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
}
