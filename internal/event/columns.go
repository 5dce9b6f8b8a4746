package event

import (
	"fmt"
	"reflect"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// A stream batch holds only the columns its events use. Most columns belong
// to a few event types (a NETWORK_CONNECT has no exit code, a FILE_OPEN no
// namespace inode), and in a batch of one kind of activity most of the 90-odd
// columns hold nothing but zeros; yet each one costs the batch its page
// headers and its column chunk in the footer, whatever it holds, and the
// writer the compression of its pages. Decode reads a missing column as the
// zero value, so a batch without its empty columns decodes to the same
// events. Lake files keep every column: the Glue table reads a missing column
// as null, not zero.
//
// Either way the writer finds the columns the rows use as it writes them, a
// block of rows at a time (rowGroupWriter.findUsed), and writes a column only
// from the block in which it first holds a value that is not zero (empty
// strings and lists are zero), after as many zeros as rows came before, in
// bulk. A lake file's columns of zeros all along are written so when it is
// closed.

// maxFields bounds the top-level fields of Event a columnSet can hold.
const maxFields = 192

// columnSet is a set of Event's top-level fields, by index: each is one
// column, or for a list the one column of its elements.
type columnSet [maxFields / 64]uint64

func (s *columnSet) add(i int)     { s[i/64] |= 1 << (i % 64) }
func (s columnSet) has(i int) bool { return s[i/64]&(1<<(i%64)) != 0 }

// field is one top-level field of Event.
type field struct {
	name   string // the Go field name, as parquet.StructTag names it
	offset uintptr
	kind   fieldKind
}

// fieldKind says how a field's zero value is recognized.
type fieldKind uint8

const (
	lengthField fieldKind = iota // string or slice: empty when its length is 0
	word16
	word32
	word64
)

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

// fields are Event's top-level fields; allColumns holds them all, and
// batchAlways the ones every batch holds, so that no batch is without
// columns.
var (
	fields                  = eventFields()
	allColumns, batchAlways = func() (all, always columnSet) {
		for i, f := range fields {
			all.add(i)
			if f.name == "Type" {
				always.add(i)
			}
		}
		return all, always
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

// schemaOf returns the schema of Event's columns in cols.
func schemaOf(cols columnSet) *parquet.Schema {
	if cols == allColumns {
		return eventSchema
	}
	var tags []parquet.SchemaOption
	for i, f := range fields {
		if !cols.has(i) {
			tags = append(tags, parquet.StructTag(`parquet:"-"`, f.name))
		}
	}
	return parquet.SchemaOf(Event{}, tags...)
}

// maxSkeletons bounds the footers of files without rows a writer of batches
// keeps, one per set of columns its batches held.
const maxSkeletons = 64

// skeleton returns the footer of a file without rows of the columns cols:
// the schema, column orders and creator of a file of those columns.
func (w *rowGroupWriter) skeleton(cols columnSet) *format.FileMetaData {
	if md, ok := w.skeletons[cols]; ok {
		return md
	}
	if len(w.skeletons) >= maxSkeletons {
		clear(w.skeletons)
	}
	md := emptyFile(schemaOf(cols))
	w.skeletons[cols] = md
	return md
}
