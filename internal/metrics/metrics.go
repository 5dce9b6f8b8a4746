package metrics

import (
	"fmt"
	"time"

	"github.com/DataDog/datadog-go/v5/statsd"
)

// Client sends metrics; safe for concurrent use.
type Client struct {
	c statsd.ClientInterface
}

// New returns a client sending to addr (host:port or unix:///path) with tags on
// every metric; an empty addr returns nil (metrics off).
func New(addr string, tags []string) (*Client, error) {
	if addr == "" {
		return nil, nil
	}
	c, err := statsd.New(addr, statsd.WithTags(tags), statsd.WithoutTelemetry(), statsd.WithoutOriginDetection())
	if err != nil {
		return nil, fmt.Errorf("metrics: statsd %s: %w", addr, err)
	}
	return &Client{c: c}, nil
}

// Count adds n to the counter name.
func (m *Client) Count(name string, n int64, tags ...string) {
	if m != nil {
		_ = m.c.Count(name, n, tags, 1)
	}
}

// Timing records a duration.
func (m *Client) Timing(name string, d time.Duration, tags ...string) {
	if m != nil {
		_ = m.c.Timing(name, d, tags, 1)
	}
}

// Flush sends what is buffered: call it before a Lambda invocation returns, as the
// execution environment may be frozen right after.
func (m *Client) Flush() error {
	if m == nil {
		return nil
	}
	return m.c.Flush()
}

// Close flushes and releases the client.
func (m *Client) Close() error {
	if m == nil {
		return nil
	}
	return m.c.Close()
}
