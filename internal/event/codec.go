package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
)

// MaxRecordBytes is the largest Parquet batch that travels as one Kinesis record.
const MaxRecordBytes = 1 << 20

var (
	batchCodec = zstdCodec{level: zstd.SpeedFastest}
	// lake files are kept for the retention: zstd's "better" level makes them
	// 5 % smaller than its default (12.3 against 13.0 bytes an event on the
	// recorded host) for 3 % more of the time a file takes to write, which
	// building the Parquet file dominates (docs/BENCHMARKS.md)
	fileCodec = zstdCodec{level: zstd.SpeedBetterCompression}
)

// What the files keep. Batches leave out the bounds (minimum and maximum) of
// their columns, the page index (column and offset indexes) and the size
// statistics (histograms of the levels): a batch is read whole by the detect
// function, never searched. Lake files keep them, for query engines to skip
// row groups and pages by. Neither repeats a page's bounds in the page's
// header (query engines skip pages by the column index). Data pages are
// written in the first version of the format: its pages compress their
// repetition and definition levels with their values, where the second
// version stores them uncompressed. The levels of the list columns (tags,
// arguments, the ancestry) repeat from row to row, so compressed they cost
// next to nothing. Every Parquet reader reads both versions. columnar.go
// writes the files.

// Encoder writes batches of events as zstd-compressed Parquet. It reuses its
// writers and buffers across batches; it is not safe for concurrent use.
//
// Batches use zstd's fastest level: a batch is small and short-lived, and lake
// files, which are kept, use the "better" level. A batch made by NewEncoder
// holds only the columns its events use (see columns.go); one made by
// NewLakeEncoder holds every column, as a lake file must.
type Encoder struct {
	buf bytes.Buffer
	w   *rowGroupWriter
}

// NewEncoder returns an Encoder of stream batches, each holding the columns its
// events use.
func NewEncoder() *Encoder { return &Encoder{w: newRowGroupWriter(&batchCodec, false, true)} }

// NewLakeEncoder returns an Encoder whose batches hold every column of the
// schema, for batches that go to the lake.
func NewLakeEncoder() *Encoder { return &Encoder{w: newRowGroupWriter(&batchCodec, false, false)} }

// Encode returns one Parquet file holding events. The returned slice is owned by the
// Encoder and valid until the next call; copy it to keep it.
func (e *Encoder) Encode(events []Event) ([]byte, error) {
	w := e.w
	e.buf.Reset()
	if err := w.write(events); err != nil {
		w.reset()
		return nil, fmt.Errorf("encode parquet batch: %w", err)
	}
	if err := w.close(&e.buf); err != nil {
		return nil, fmt.Errorf("encode parquet batch: %w", err)
	}
	return e.buf.Bytes(), nil
}

// FileWriter builds one lake file incrementally: each Write encodes its events
// into the file's compressed column pages, so what stays in memory between writes
// is those pages (plus the dictionaries of the dictionary-encoded columns and one
// page per column being filled), not the events. The file has the Encoder's
// schema, compression and CreatedBy, in one row group, and Decode reads it. A
// FileWriter is reusable: Close finishes the file and starts the next one. It is
// not safe for concurrent use.
type FileWriter struct {
	buf  bytes.Buffer
	w    *rowGroupWriter
	rows int
	err  error // from a failed Write: the file is dropped at Close
}

// NewFileWriter returns a FileWriter with an empty file open.
func NewFileWriter() *FileWriter {
	return &FileWriter{w: newRowGroupWriter(&fileCodec, true, false)}
}

// Write appends events to the file as rows. After an error the file is unusable:
// further writes return the same error and Close drops the file.
func (f *FileWriter) Write(events []Event) error {
	if f.err != nil {
		return f.err
	}
	if err := f.w.write(events); err != nil {
		f.err = fmt.Errorf("write parquet rows: %w", err)
		return f.err
	}
	f.rows += len(events)
	return nil
}

// Rows is the number of rows written to the open file.
func (f *FileWriter) Rows() int { return f.rows }

// Close finishes the open file and returns it; the slice belongs to the caller. A
// file with no rows is a valid empty file. Whatever the outcome, the FileWriter is
// then reset with an empty file open.
func (f *FileWriter) Close() ([]byte, error) {
	defer f.reset()
	if f.err != nil {
		return nil, fmt.Errorf("close parquet file: %w", f.err)
	}
	if err := f.w.close(&f.buf); err != nil {
		return nil, fmt.Errorf("close parquet file: %w", err)
	}
	return bytes.Clone(f.buf.Bytes()), nil
}

func (f *FileWriter) reset() {
	f.buf.Reset()
	f.w.reset()
	f.rows, f.err = 0, nil
}

// ErrNotParquet is returned (wrapped) for input that is not a Parquet file of events.
var ErrNotParquet = errors.New("not a Vigil Parquet batch")

func readRowGroup(dst []Event, rg parquet.RowGroup) ([]Event, error) {
	r := parquet.NewGenericRowGroupReader[Event](rg)
	defer r.Close()
	n := rg.NumRows() // checked by Decode
	start := len(dst)
	dst = grow(dst, int(n))
	got := 0
	for got < int(n) {
		k, err := r.Read(dst[start+got:])
		got += k
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst[:start+got], fmt.Errorf("%w: row %d: %w", ErrNotParquet, got, err)
		}
		if k == 0 {
			break
		}
	}
	if got != int(n) {
		return dst[:start+got], fmt.Errorf("%w: row group declares %d rows, holds %d", ErrNotParquet, n, got)
	}
	return dst, nil
}

func grow(dst []Event, n int) []Event {
	need := len(dst) + n
	if cap(dst) < need {
		nd := make([]Event, len(dst), need)
		copy(nd, dst)
		dst = nd
	}
	return dst[:need]
}

var eventSchema = parquet.SchemaOf(Event{})

// Schema returns the Parquet schema of Event: the lake's table definition.
func Schema() *parquet.Schema { return eventSchema }

// checkSchema accepts files whose columns are all known Event columns with the same
// physical type; missing columns read as zero values (older sensors), unknown or
// mistyped columns are refused with their name.
func checkSchema(s *parquet.Schema) error {
	for _, col := range s.Fields() {
		want, ok := schemaFields[col.Name()]
		if !ok {
			return fmt.Errorf("%w: unknown column %q", ErrNotParquet, col.Name())
		}
		if want.Leaf() != col.Leaf() || (want.Leaf() && want.Type().Kind() != col.Type().Kind()) {
			return fmt.Errorf("%w: column %q has type %s, want %s", ErrNotParquet, col.Name(), col.Type(), want.Type())
		}
	}
	return nil
}

// schemaFields are the top-level fields of Event's schema by name.
var schemaFields = func() map[string]parquet.Field {
	m := make(map[string]parquet.Field)
	for _, f := range eventSchema.Fields() {
		m[f.Name()] = f
	}
	return m
}()
