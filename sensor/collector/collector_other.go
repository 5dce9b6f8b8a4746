//go:build !linux

package collector

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/vigil-sec/vigil/internal/event"
)

// Supported reports why process capture cannot run here: it needs Linux.
func Supported() error {
	return fmt.Errorf("%w: needs Linux, this is %s", ErrUnsupported, runtime.GOOS)
}

// Collector is unavailable on this OS.
type Collector struct{}

// New returns the error from Supported.
func New(Options) (*Collector, error) { return nil, Supported() }

// Run returns the error from Supported.
func (*Collector) Run(context.Context, func(*event.Event)) error { return Supported() }

// Stats returns zero counters.
func (*Collector) Stats() Stats { return Stats{} }

// Close does nothing.
func (*Collector) Close() error { return nil }

// EnableKernelTime returns the error from Supported.
func EnableKernelTime() (io.Closer, error) { return nil, Supported() }

// Unavailable returns nil.
func (*Collector) Unavailable() []string { return nil }

// Missing returns nil.
func (*Collector) Missing() []string { return nil }

// SyscallHook returns "".
func (*Collector) SyscallHook() string { return "" }

// OpenHook returns "".
func (*Collector) OpenHook() string { return "" }
