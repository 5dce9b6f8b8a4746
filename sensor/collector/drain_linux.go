package collector

import (
	"errors"
	"iter"
	"os"

	"github.com/cilium/ebpf/ringbuf"
)

// drained holds records copied out of the kernel ring buffer, to be handled
// after. While the bytes waiting in the ring buffer are over the wakeup
// threshold, every record the kernel queues asks for a wakeup of the reader
// (BPF_RB_FORCE_WAKEUP), and each wakeup the reader has not taken yet costs
// the process that made the record an interrupt (an APIC write, a VM exit in a
// virtual machine). Records handled one by one as they are read leave the
// ring buffer over the threshold for as long as handling a threshold's worth
// takes; copied out first, a batch at a time, they leave it there only as
// long as the copy takes.
type drained struct {
	buf  []byte
	ends []int // the end of each record in buf
}

// minDrainBytes is the least a batch of records copied out may hold.
const minDrainBytes = 64 << 10

// fill copies the records waiting in rd into d, replacing what d held, until
// limit bytes are copied or none is left, and reports whether none is left.
// The reader must not block (its deadline passed).
func (d *drained) fill(rd *ringbuf.Reader, rec *ringbuf.Record, limit int) (empty bool, err error) {
	d.buf, d.ends = d.buf[:0], d.ends[:0]
	for len(d.buf) < limit {
		err := rd.ReadInto(rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return true, nil
		}
		if err != nil {
			return false, err
		}
		d.buf = append(d.buf, rec.RawSample...)
		d.ends = append(d.ends, len(d.buf))
	}
	return false, nil
}

// records yields the records d holds, in order.
func (d *drained) records() iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		start := 0
		for _, end := range d.ends {
			if !yield(d.buf[start:end]) {
				return
			}
			start = end
		}
	}
}
