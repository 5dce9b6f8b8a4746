package event

import (
	"fmt"
	"math/bits"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// A batch holds only the columns its events use. Most columns belong to a few
// event types (a NETWORK_CONNECT has no exit code, a FILE_OPEN no namespace
// inode), and in a batch of one kind of activity most of the 90-odd columns
// hold nothing but zeros; yet each one costs the writer a pass over the rows,
// and the batch its page headers and its column chunk in the footer, whatever
// it holds. Decode reads a missing column as the zero value, so a batch
// without its empty columns decodes to the same events. Lake files keep
// every column: the Glue table reads a missing column as null, not zero.

// maxFields bounds the top-level fields of Event a columnSet can hold.
const maxFields = 128

// columnSet is a set of Event's top-level fields, by index: each is one
// column, or for a list the one column of its elements.
type columnSet [maxFields / 64]uint64

func (s *columnSet) add(i int)     { s[i/64] |= 1 << (i % 64) }
func (s columnSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// contains reports whether s holds every field of t.
func (s columnSet) contains(t columnSet) bool {
	for i := range s {
		if t[i]&^s[i] != 0 {
			return false
		}
	}
	return true
}

func (s columnSet) len() int {
	n := 0
	for _, w := range s {
		n += bits.OnesCount64(w)
	}
	return n
}

// fieldKind says how a field's zero value is recognized.
type fieldKind uint8

const (
	lengthField fieldKind = iota // string or slice: empty when its length is 0
	word16
	word32
	word64
)

// field is one top-level field of Event, as usedColumns reads it.
type field struct {
	name   string // the Go field name, as parquet.StructTag names it
	offset uintptr
	kind   fieldKind
}

// zero reports whether the field of the event at p holds its zero value (an
// empty string or list counts as zero: it reads back empty).
func (f *field) zero(p unsafe.Pointer) bool {
	p = unsafe.Add(p, f.offset)
	switch f.kind {
	case lengthField:
		// A string's and a slice's length follow their data pointer.
		return *(*int)(unsafe.Add(p, unsafe.Sizeof(uintptr(0)))) == 0
	case word16:
		return *(*uint16)(p) == 0
	case word32:
		return *(*uint32)(p) == 0
	default:
		return *(*uint64)(p) == 0
	}
}

// fields are Event's top-level fields; batchAlways the ones every batch
// holds, so that no batch is without columns.
var (
	fields      = eventFields()
	batchAlways = func() columnSet {
		var s columnSet
		for i, f := range fields {
			if f.name == "Type" {
				s.add(i)
			}
		}
		return s
	}()
)

func eventFields() []field {
	t := reflect.TypeFor[Event]()
	if t.NumField() > maxFields {
		panic(fmt.Sprintf("event: Event has %d fields, a columnSet holds %d", t.NumField(), maxFields))
	}
	out := make([]field, t.NumField())
	for i := range out {
		f := t.Field(i)
		out[i] = field{name: f.Name, offset: f.Offset}
		switch k := f.Type.Kind(); {
		case k == reflect.String || k == reflect.Slice:
			out[i].kind = lengthField
		case f.Type.Size() == 2:
			out[i].kind = word16
		case f.Type.Size() == 4:
			out[i].kind = word32
		case f.Type.Size() == 8:
			out[i].kind = word64
		default:
			panic(fmt.Sprintf("event: field %s of kind %s has no zero test", f.Name, k))
		}
	}
	return out
}

// usedColumns returns the fields that are not zero in at least one of
// events, and batchAlways. The events are read one after the other (each
// is over a kilobyte), for the fields not yet found used.
func usedColumns(events []Event) columnSet {
	s := batchAlways
	var unknown [maxFields]uint8
	n := 0
	for i := range fields {
		if !s.has(i) {
			unknown[n] = uint8(i)
			n++
		}
	}
	for j := range events {
		p := unsafe.Pointer(&events[j])
		for k := 0; k < n; {
			i := unknown[k]
			if fields[i].zero(p) {
				k++
				continue
			}
			s.add(int(i))
			n--
			unknown[k] = unknown[n]
		}
		if n == 0 {
			break
		}
	}
	return s
}

// newBatchWriter returns a writer of batches holding the columns of cols.
func newBatchWriter(cols columnSet) *rowGroupWriter {
	var tags []parquet.SchemaOption
	for i, f := range fields {
		if !cols.has(i) {
			tags = append(tags, parquet.StructTag(`parquet:"-"`, f.name))
		}
	}
	return newRowGroupWriter(parquet.SchemaOf(Event{}, tags...), &batchCodec, false)
}

// maxBatchWriters bounds the writers an Encoder keeps, one per set of
// columns: a writer holds its columns' buffers between batches.
const maxBatchWriters = 8

// maxSpareColumns is how many empty columns a batch may carry so as to reuse
// a writer of more columns rather than build one of its own.
const maxSpareColumns = 8

// batchWriter is a writer of the batches of one set of columns.
type batchWriter struct {
	cols columnSet
	w    *rowGroupWriter
}

// writerFor returns the writer of a batch of the columns cols: one kept that
// holds them all with at most maxSpareColumns more (the fewest more), else a
// new one, kept first; the least recently used beyond maxBatchWriters is
// dropped.
func (e *Encoder) writerFor(cols columnSet) *rowGroupWriter {
	best, spare := -1, maxSpareColumns+1
	for i, bw := range e.writers {
		if !bw.cols.contains(cols) {
			continue
		}
		if n := bw.cols.len() - cols.len(); n < spare {
			best, spare = i, n
			if n == 0 {
				break
			}
		}
	}
	var bw batchWriter
	if best >= 0 {
		bw = e.writers[best]
		copy(e.writers[1:best+1], e.writers[:best])
	} else {
		bw = batchWriter{cols: cols, w: newBatchWriter(cols)}
		if len(e.writers) < maxBatchWriters {
			e.writers = append(e.writers, batchWriter{})
		}
		copy(e.writers[1:], e.writers)
	}
	e.writers[0] = bw
	return bw.w
}
