package local

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// Record is one batch on the in-process stream, as a Kinesis record would carry it.
type Record struct {
	PartitionKey   string
	SequenceNumber uint64
	Data           []byte
}

// ErrClosed is returned by Put after Close.
var ErrClosed = errors.New("local stream closed")

// Stream is an in-process, ordered stream of Parquet batches. Put blocks while the
// buffer is full (back-pressure, like a throttled stream) until ctx is done.
type Stream struct {
	ch     chan Record
	mu     sync.Mutex
	seq    uint64
	closed bool
}

// NewStream returns a stream buffering up to size records.
func NewStream(size int) *Stream {
	return &Stream{ch: make(chan Record, size)}
}

// Put appends records in order. The data is copied. When ctx ends while the
// stream is full, the error is a *PutError naming the records not appended.
func (s *Stream) Put(ctx context.Context, partitionKey string, records [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	for i, r := range records {
		s.seq++
		rec := Record{PartitionKey: partitionKey, SequenceNumber: s.seq, Data: append([]byte(nil), r...)}
		select {
		case s.ch <- rec: // room: appended whatever ctx says
			continue
		default:
		}
		select {
		case s.ch <- rec:
		case <-ctx.Done():
			s.seq--
			return &PutError{from: i, n: len(records), err: fmt.Errorf("local stream put: %w", ctx.Err())}
		}
	}
	return nil
}

// PutError is a Put that appended only the records before the first it names.
type PutError struct {
	from, n int
	err     error
}

func (e *PutError) Error() string {
	return fmt.Sprintf("%v (%d of %d records not appended)", e.err, e.n-e.from, e.n)
}

func (e *PutError) Unwrap() error { return e.err }

// Unaccepted lists the indexes of the records not appended.
func (e *PutError) Unaccepted() []int {
	out := make([]int, 0, e.n-e.from)
	for i := e.from; i < e.n; i++ {
		out = append(out, i)
	}
	return out
}

// Records is the consumer's side; it is closed by Close.
func (s *Stream) Records() <-chan Record { return s.ch }

// Close ends the stream after the records already put.
func (s *Stream) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.closed = true
		close(s.ch)
	}
}
