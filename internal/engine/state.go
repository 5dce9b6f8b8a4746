package engine

import (
	"context"
	"sync"
	"time"
)

// State is where stateful rules (with child, with descendant, count) and action
// suppression keep what must outlive one event: markers and counters, each with an
// expiry, keyed by strings the engine builds (they start with the kind of entry and
// the rule's name). It is declared here, where it is used; NewMemoryState is the
// in-process implementation, and a shared store (DynamoDB) implements it for state
// that must outlive one Lambda batch.
//
// Implementations must be safe for concurrent use, and must not retain the key
// passed to Marker after the call returns (the engine may build it in a reused
// buffer so that a lookup costs no allocation).
type State interface {
	// Mark sets the marker key, expiring ttl after now (an existing marker's expiry
	// is replaced).
	Mark(ctx context.Context, key string, now time.Time, ttl time.Duration) error
	// Marker returns the expiry of the marker key when it is set and not expired at
	// now.
	Marker(ctx context.Context, key string, now time.Time) (exp time.Time, ok bool, err error)
	// Incr adds one to the counter key and returns its new value. A counter that does
	// not exist or has expired at now starts from zero and expires at now+ttl; Incr
	// does not move the expiry of a live counter (windows are fixed, starting at the
	// first increment).
	Incr(ctx context.Context, key string, now time.Time, ttl time.Duration) (int64, error)
	// Reset deletes the counter key.
	Reset(ctx context.Context, key string) error
}

// MemoryState is a State in process memory. Expired entries are dropped as they are
// met and by a sweep every few thousand writes.
type MemoryState struct {
	mu       sync.RWMutex
	markers  map[string]int64 // expiry, unix nanoseconds
	counters map[string]counter
	writes   int
}

type counter struct {
	n   int64
	exp int64
}

// sweepEvery is how many writes trigger a sweep of expired entries (at least; a
// sweep also waits for half as many writes as there are entries: amortized O(1)).
const sweepEvery = 4096

// NewMemoryState returns an empty in-memory State.
func NewMemoryState() *MemoryState {
	return &MemoryState{markers: map[string]int64{}, counters: map[string]counter{}}
}

// Mark implements State.
func (s *MemoryState) Mark(_ context.Context, key string, now time.Time, ttl time.Duration) error {
	t := now.UnixNano()
	s.mu.Lock()
	s.markers[key] = t + int64(ttl)
	s.wrote(t)
	s.mu.Unlock()
	return nil
}

// Marker implements State.
func (s *MemoryState) Marker(_ context.Context, key string, now time.Time) (time.Time, bool, error) {
	s.mu.RLock()
	exp, ok := s.markers[key]
	s.mu.RUnlock()
	if !ok || exp <= now.UnixNano() {
		return time.Time{}, false, nil
	}
	return time.Unix(0, exp), true, nil
}

// Incr implements State.
func (s *MemoryState) Incr(_ context.Context, key string, now time.Time, ttl time.Duration) (int64, error) {
	t := now.UnixNano()
	s.mu.Lock()
	c, ok := s.counters[key]
	if !ok || c.exp <= t {
		c = counter{exp: t + int64(ttl)}
	}
	c.n++
	s.counters[key] = c
	s.wrote(t)
	s.mu.Unlock()
	return c.n, nil
}

// Reset implements State.
func (s *MemoryState) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.counters, key)
	s.mu.Unlock()
	return nil
}

// Len returns how many markers and counters are held, expired ones not yet swept
// included.
func (s *MemoryState) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.markers) + len(s.counters)
}

// Sweep drops the entries expired at now.
func (s *MemoryState) Sweep(now time.Time) {
	s.mu.Lock()
	s.sweep(now.UnixNano())
	s.mu.Unlock()
}

// wrote counts a write made at time t (nanoseconds); s.mu is held.
func (s *MemoryState) wrote(t int64) {
	s.writes++
	if s.writes >= sweepEvery && 2*s.writes >= len(s.markers)+len(s.counters) {
		s.sweep(t)
	}
}

func (s *MemoryState) sweep(t int64) {
	s.writes = 0
	for k, exp := range s.markers {
		if exp <= t {
			delete(s.markers, k)
		}
	}
	for k, c := range s.counters {
		if c.exp <= t {
			delete(s.counters, k)
		}
	}
}
