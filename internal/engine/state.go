package engine

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/vigil-sec/vigil/internal/explain"
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

// EventKeeper is a State that also keeps, beside its markers and counters, the
// events behind them, for explanations (Match.Earlier): the event that set a with
// child or with descendant marker, the events a count counted. Process uses it
// when its State implements it; without it, matches carry no earlier events.
// Keys are the marker and counter keys; the events of a key expire like its
// marker or counter.
type EventKeeper interface {
	// SetEvents replaces the events kept under key, expiring ttl after now.
	SetEvents(ctx context.Context, key string, refs []explain.EventRef, now time.Time, ttl time.Duration) error
	// AddEvent appends ref to the events kept under key, at most max of them (the
	// oldest are dropped). A list that does not exist or has expired at now
	// starts empty and expires at now+ttl, as Incr's counters do.
	AddEvent(ctx context.Context, key string, ref explain.EventRef, now time.Time, ttl time.Duration, max int) error
	// KeptEvents returns the events kept under key and live at now, oldest first.
	KeptEvents(ctx context.Context, key string, now time.Time) ([]explain.EventRef, error)
}

// MemoryState is a State in process memory. Expired entries are dropped as they are
// met and by a sweep every few thousand writes. A bounded one
// (NewBoundedMemoryState) never holds more than its bound of entries.
type MemoryState struct {
	mu       sync.RWMutex
	markers  map[string]int64 // expiry, unix nanoseconds
	counters map[string]counter
	events   map[string]kept // EventKeeper's
	writes   int
	max      int    // bound on markers, counters and kept events together; 0: none
	evicted  uint64 // live entries dropped at the bound
}

type counter struct {
	n   int64
	exp int64
}

type kept struct {
	refs []explain.EventRef
	exp  int64
}

// sweepEvery is how many writes trigger a sweep of expired entries (at least; a
// sweep also waits for half as many writes as there are entries: amortized O(1)).
const sweepEvery = 4096

// NewMemoryState returns an empty in-memory State.
func NewMemoryState() *MemoryState {
	return &MemoryState{markers: map[string]int64{}, counters: map[string]counter{}, events: map[string]kept{}}
}

// NewBoundedMemoryState returns an empty in-memory State that holds at most
// maxEntries markers, counters and kept event lists together (no bound when maxEntries ≤ 0). A
// write that takes it over the bound first drops the expired entries; when too
// few have expired, the live entries that expire soonest are dropped (counted by
// Evicted) until an eighth of the bound is free. A dropped marker is a with child
// or with descendant match missed; a dropped counter starts its count or its
// suppression period again.
func NewBoundedMemoryState(maxEntries int) *MemoryState {
	s := NewMemoryState()
	s.max = max(maxEntries, 0)
	return s
}

// Evicted returns how many live entries were dropped at the bound.
func (s *MemoryState) Evicted() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.evicted
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

// Reset implements State; it also drops the events kept under key.
func (s *MemoryState) Reset(_ context.Context, key string) error {
	s.mu.Lock()
	delete(s.counters, key)
	delete(s.events, key)
	s.mu.Unlock()
	return nil
}

// SetEvents implements EventKeeper.
func (s *MemoryState) SetEvents(_ context.Context, key string, refs []explain.EventRef, now time.Time, ttl time.Duration) error {
	t := now.UnixNano()
	s.mu.Lock()
	s.events[key] = kept{refs: slices.Clone(refs), exp: t + int64(ttl)}
	s.wrote(t)
	s.mu.Unlock()
	return nil
}

// AddEvent implements EventKeeper.
func (s *MemoryState) AddEvent(_ context.Context, key string, ref explain.EventRef, now time.Time, ttl time.Duration, max int) error {
	t := now.UnixNano()
	s.mu.Lock()
	k, ok := s.events[key]
	if !ok || k.exp <= t {
		k = kept{exp: t + int64(ttl)}
	}
	k.refs = append(k.refs, ref)
	if max > 0 && len(k.refs) > max {
		k.refs = slices.Delete(k.refs, 0, len(k.refs)-max)
	}
	s.events[key] = k
	s.wrote(t)
	s.mu.Unlock()
	return nil
}

// KeptEvents implements EventKeeper.
func (s *MemoryState) KeptEvents(_ context.Context, key string, now time.Time) ([]explain.EventRef, error) {
	s.mu.RLock()
	k, ok := s.events[key]
	s.mu.RUnlock()
	if !ok || k.exp <= now.UnixNano() {
		return nil, nil
	}
	return slices.Clone(k.refs), nil
}

// Len returns how many markers, counters and kept event lists are held, expired ones not yet swept
// included.
func (s *MemoryState) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.len()
}

// len counts the entries; s.mu is held.
func (s *MemoryState) len() int { return len(s.markers) + len(s.counters) + len(s.events) }

// Sweep drops the entries expired at now.
func (s *MemoryState) Sweep(now time.Time) {
	s.mu.Lock()
	s.sweep(now.UnixNano())
	s.mu.Unlock()
}

// wrote counts a write made at time t (nanoseconds); s.mu is held.
func (s *MemoryState) wrote(t int64) {
	s.writes++
	n := s.len()
	if s.writes >= sweepEvery && 2*s.writes >= n {
		s.sweep(t)
		n = s.len()
	}
	if s.max > 0 && n > s.max {
		s.sweep(t)
		if n = s.len(); n > s.max {
			s.evict(n - s.max + s.max/8)
		}
	}
}

// evict drops the k live entries that expire soonest (of those expiring at
// the cut, any); s.mu is held. Sorting the expiries costs O(n log n) once per
// n/8 writes at the bound.
func (s *MemoryState) evict(k int) {
	exps := make([]int64, 0, s.len())
	for _, exp := range s.markers {
		exps = append(exps, exp)
	}
	for _, c := range s.counters {
		exps = append(exps, c.exp)
	}
	for _, k := range s.events {
		exps = append(exps, k.exp)
	}
	slices.Sort(exps)
	k = min(k, len(exps))
	cut := exps[k-1]
	atCut := k - (sort.Search(len(exps), func(i int) bool { return exps[i] >= cut })) // entries at the cut to drop
	drop := func(exp int64) bool {
		if exp < cut {
			return true
		}
		if exp == cut && atCut > 0 {
			atCut--
			return true
		}
		return false
	}
	for key, exp := range s.markers {
		if drop(exp) {
			delete(s.markers, key)
		}
	}
	for key, c := range s.counters {
		if drop(c.exp) {
			delete(s.counters, key)
		}
	}
	for key, k := range s.events {
		if drop(k.exp) {
			delete(s.events, key)
		}
	}
	s.evicted += uint64(k)
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
	for k, e := range s.events {
		if e.exp <= t {
			delete(s.events, k)
		}
	}
}
