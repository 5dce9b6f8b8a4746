package collector

import (
	"errors"

	"github.com/vigil-sec/vigil/internal/event"
)

// DefaultRingBufferSize is the size of the kernel ring buffer when Options leaves it
// at zero: room for about 2,600 exec records in flight.
const DefaultRingBufferSize = 4 << 20

// ErrUnsupported is wrapped by the errors Supported and New return when this host
// cannot run the collector (wrong OS, not privileged, no BTF, BPF not permitted).
var ErrUnsupported = errors.New("eBPF process capture unsupported")

// Enricher adds context the kernel record does not carry (user name, parent
// process, the path and command line of an exiting process). The collector calls
// Enrich before emitting an event and Forget after emit returns, so a table keyed
// by process can drop a process once its TERMINATE_PROCESS has been emitted.
type Enricher interface {
	Enrich(ev *event.Event)
	Forget(ev *event.Event)
}

// Options configures a Collector. The zero value is usable.
type Options struct {
	// RingBufferSize is the kernel ring buffer's size in bytes: a power of two and a
	// multiple of the page size. Zero means DefaultRingBufferSize.
	RingBufferSize int
	// Enricher, if set, is called for every event (see Enricher).
	Enricher Enricher
	// SensorID, Hostname and Tags are set in every event's routing fields (every
	// event shares the Tags slice: do not modify it).
	SensorID string
	Hostname string
	Tags     []string
}

// Stats are the collector's counters since New.
type Stats struct {
	// Received is the number of records read from the ring buffer.
	Received uint64
	// Dropped is the number of records the kernel could not queue because the ring
	// buffer was full (summed over CPUs).
	Dropped uint64
	// Invalid is the number of records that failed to decode (never expected).
	Invalid uint64
}
