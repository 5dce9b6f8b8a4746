package anomaly

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// ModelSource fetches a model object unless it still has the given ETag: it
// returns nil data and the same ETag when unchanged, and an error wrapping
// fs.ErrNotExist when there is no such object.
type ModelSource interface {
	GetIfNoneMatch(ctx context.Context, key, etag string) (data []byte, newETag string, err error)
}

// Live keeps a Scorer loaded from a model object and refreshes it when the object
// changes: at most one conditional GET (If-None-Match on the ETag) per MaxAge, so
// a warm detect function re-reads the model only after training rewrote it. It
// is safe for concurrent use.
type Live struct {
	Source ModelSource
	Key    string
	// MaxAge is how long a loaded model is used before checking for a new one;
	// 0 means 5 minutes.
	MaxAge time.Duration
	// Now is time.Now when nil.
	Now func() time.Time

	mu      sync.Mutex
	scorer  *Scorer
	etag    string
	checked time.Time
}

// Scorer returns the scorer to use — the last one loaded, nil when none has ever
// loaded — and the error of this call's check, if it checked and failed: a
// missing object (wrapping fs.ErrNotExist), a failed read, or a model that does
// not decode (wrapping ErrBadModel). A failed check keeps the previous scorer;
// the next check is MaxAge later.
func (l *Live) Scorer(ctx context.Context) (*Scorer, error) {
	now := time.Now
	if l.Now != nil {
		now = l.Now
	}
	maxAge := l.MaxAge
	if maxAge <= 0 {
		maxAge = 5 * time.Minute
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := now()
	if !l.checked.IsZero() && t.Sub(l.checked) < maxAge {
		return l.scorer, nil
	}
	l.checked = t
	data, etag, err := l.Source.GetIfNoneMatch(ctx, l.Key, l.etag)
	if err != nil {
		return l.scorer, fmt.Errorf("anomaly model %s: %w", l.Key, err)
	}
	if data == nil && l.scorer != nil {
		return l.scorer, nil
	}
	m, err := Decode(data)
	if err != nil {
		return l.scorer, fmt.Errorf("anomaly model %s: %w", l.Key, err)
	}
	sc, err := NewScorer(m)
	if err != nil {
		return l.scorer, fmt.Errorf("anomaly model %s: %w", l.Key, err)
	}
	l.scorer, l.etag = sc, etag
	return sc, nil
}
