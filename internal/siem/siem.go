package siem

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry configures retries of one request.
type Retry struct {
	Attempts int           // total attempts; default 5
	Backoff  time.Duration // before the first retry, doubled each time; default 500ms
	Max      time.Duration // cap; default 30s
	Timeout  time.Duration // per attempt; default 30s
}

func (r Retry) attempts() int {
	if r.Attempts <= 0 {
		return 5
	}
	return r.Attempts
}

func (r Retry) delay(attempt int, retryAfter time.Duration) time.Duration {
	base, max := r.Backoff, r.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if max <= 0 {
		max = 30 * time.Second
	}
	d := base << attempt
	if d <= 0 || d > max {
		d = max
	}
	d = d/2 + rand.N(d/2+1)
	if retryAfter > d && retryAfter <= max {
		d = retryAfter
	}
	return d
}

// StatusError is a non-2xx answer.
type StatusError struct {
	Product    string
	Status     int
	Body       string
	retryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s: %d %s: %s", e.Product, e.Status, http.StatusText(e.Status), e.Body)
}

// Temporary reports whether retrying may help (5xx and 429).
func (e *StatusError) Temporary() bool {
	return e.Status >= 500 || e.Status == http.StatusTooManyRequests
}

func retryable(err error) bool {
	var se *StatusError
	if errors.As(err, &se) {
		return se.Temporary()
	}
	var pe *permanentError
	return !errors.As(err, &pe)
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// post sends body and returns the 2xx answer's body.
func post(ctx context.Context, hc *http.Client, r Retry, product, url string, header http.Header, body []byte) ([]byte, error) {
	if hc == nil {
		hc = http.DefaultClient
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, &permanentError{fmt.Errorf("%s: %w", product, err)}
	}
	req.Header = header.Clone()
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", product, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("%s: read answer: %w", product, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := strings.TrimSpace(string(raw))
		if len(msg) > 500 {
			msg = msg[:500] + "…"
		}
		se := &StatusError{Product: product, Status: resp.StatusCode, Body: msg}
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
			se.retryAfter = time.Duration(s) * time.Second
		}
		return raw, se
	}
	return raw, nil
}

// withRetry runs fn until it succeeds, fails permanently, or attempts run out.
func withRetry(ctx context.Context, r Retry, fn func() error) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = fn(); err == nil || !retryable(err) || attempt+1 >= r.attempts() {
			if err != nil && attempt > 0 {
				err = fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return err
		}
		var ra time.Duration
		var se *StatusError
		if errors.As(err, &se) {
			ra = se.retryAfter
		}
		t := time.NewTimer(r.delay(attempt, ra))
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

func asStatus(err error, se **StatusError) bool { return errors.As(err, se) }
