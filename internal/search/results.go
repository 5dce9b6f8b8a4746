package search

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/vigil-sec/vigil/internal/event"
)

// Search states.
const (
	StateRunning   = "running"
	StateSucceeded = "succeeded"
	StateFailed    = "failed"
)

// Page is one page of a search's results.
type Page struct {
	State string
	// Error says why a failed search failed.
	Error  string
	Events []event.Event
	// NextCursor asks for the next page; empty on the last one.
	NextCursor string
	// Stats are the local search's counts (nil from Athena).
	Stats *Stats
}

// ErrUnknownSearch is returned (wrapped) for a search id that is not held.
var ErrUnknownSearch = errors.New("unknown search")

// ErrBadCursor is returned (wrapped) for a cursor a search did not issue.
var ErrBadCursor = errors.New("invalid cursor")

// Results runs searches of a Searcher at once, when they start, and holds the
// last MaxHeld searches' results in memory to be read a page at a time (the
// local API's searches: a local lake answers in the time of the request).
type Results struct {
	Searcher Searcher
	// PageSize is the events of a page (0: 100).
	PageSize int

	mu    sync.Mutex
	next  int
	held  map[string]*heldSearch
	order []string
}

// MaxHeld bounds the searches Results keeps.
const MaxHeld = 16

type heldSearch struct {
	events []event.Event
	stats  Stats
	err    error
}

// DefaultLimit is a search's limit when it gives none.
const DefaultLimit = 10_000

// StartSearch runs q and returns the id its results are held under. A query
// without a limit gets DefaultLimit.
func (r *Results) StartSearch(ctx context.Context, q Query) (string, error) {
	if q.Limit == 0 {
		q.Limit = DefaultLimit
	}
	h := &heldSearch{}
	h.stats, h.err = r.Searcher.Search(ctx, q, func(e *event.Event) error {
		h.events = append(h.events, *e)
		return nil
	})
	if err := ctx.Err(); err != nil {
		return "", err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.held == nil {
		r.held = map[string]*heldSearch{}
	}
	r.next++
	id := "q-" + strconv.Itoa(r.next)
	r.held[id] = h
	r.order = append(r.order, id)
	if len(r.order) > MaxHeld {
		delete(r.held, r.order[0])
		r.order = r.order[1:]
	}
	return id, nil
}

// SearchPage returns the page of search id at cursor ("" for the first).
func (r *Results) SearchPage(_ context.Context, id, cursor string) (Page, error) {
	r.mu.Lock()
	h, ok := r.held[id]
	r.mu.Unlock()
	if !ok {
		return Page{}, fmt.Errorf("%w %q (a local search's results are held for the last %d searches)", ErrUnknownSearch, id, MaxHeld)
	}
	if h.err != nil {
		return Page{State: StateFailed, Error: h.err.Error()}, nil
	}
	from := 0
	if cursor != "" {
		n, err := strconv.Atoi(cursor)
		if err != nil || n < 0 || n > len(h.events) {
			return Page{}, fmt.Errorf("%w %q", ErrBadCursor, cursor)
		}
		from = n
	}
	size := r.PageSize
	if size <= 0 {
		size = 100
	}
	to := min(from+size, len(h.events))
	p := Page{State: StateSucceeded, Events: h.events[from:to], Stats: &h.stats}
	if to < len(h.events) {
		p.NextCursor = strconv.Itoa(to)
	}
	return p, nil
}

// Search runs q on the Searcher (Searcher), for callers that read all of a
// search at once.
func (r *Results) Search(ctx context.Context, q Query, fn func(*event.Event) error) (Stats, error) {
	return r.Searcher.Search(ctx, q, fn)
}
