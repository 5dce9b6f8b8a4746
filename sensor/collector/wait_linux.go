package collector

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// ringWaiter waits for the kernel to wake the ring buffer's readers, or for a
// deadline, through the Go runtime's network poller: a waiting collector holds
// no thread in a blocking system call (a thread blocked in epoll_wait has the
// runtime's monitor thread keep checking whether to take its processor back).
type ringWaiter struct {
	f  *os.File
	rc syscall.RawConn
}

// newRingWaiter registers a duplicate of the ring buffer map's descriptor with
// the runtime poller; closing the waiter leaves the map open.
func newRingWaiter(mapFD int) (*ringWaiter, error) {
	fd, err := unix.FcntlInt(uintptr(mapFD), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("duplicate ring buffer descriptor: %w", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("ring buffer descriptor: %w", err)
	}
	f := os.NewFile(uintptr(fd), "ringbuf")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("ring buffer descriptor: %w", err)
	}
	// SetReadDeadline fails on a descriptor the poller did not take.
	if err := f.SetReadDeadline(time.Time{}); err != nil {
		f.Close()
		return nil, fmt.Errorf("ring buffer descriptor is not pollable: %w", err)
	}
	return &ringWaiter{f: f, rc: rc}, nil
}

// wait returns when ready reports true, checked first and again after each
// wakeup of the ring buffer's readers, or when timeout has passed, or when
// interrupt is called.
func (w *ringWaiter) wait(timeout time.Duration, ready func() bool) error {
	if err := w.f.SetReadDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	err := w.rc.Read(func(uintptr) bool { return ready() })
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return nil
	}
	return err
}

// interrupt ends a wait in progress (and the next one, if none is).
func (w *ringWaiter) interrupt() { _ = w.f.SetReadDeadline(time.Unix(1, 0)) }

func (w *ringWaiter) Close() error { return w.f.Close() }
