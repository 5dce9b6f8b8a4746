package event

import (
	"bytes"
	"fmt"
	"reflect"
	"strconv"
	"testing"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// referenceFile writes events as parquet-go's own writer does with the options
// of a lake file (stats) or of a batch (no bounds, page index or size
// statistics) of the columns of cols: the files the columnar writer must
// match.
func referenceFile(t testing.TB, events []Event, cols columnSet, stats bool) []byte {
	t.Helper()
	codec := &fileCodec
	opts := []parquet.WriterOption{createdBy, parquet.DataPageStatistics(false), parquet.DataPageVersion(1)}
	var tags []parquet.SchemaOption
	for i, f := range fields {
		if !cols.has(i) {
			tags = append(tags, parquet.StructTag(`parquet:"-"`, f.name))
			opts = append(opts, parquet.StructTag(`parquet:"-"`, f.name).(parquet.WriterOption))
		}
	}
	if !stats {
		codec = &batchCodec
		for _, path := range parquet.SchemaOf(Event{}, tags...).Columns() {
			opts = append(opts, parquet.SkipPageBounds(path...))
		}
	}
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[Event](&buf, append(opts, parquet.Compression(codec))...)
	if _, err := w.Write(events); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if stats {
		return buf.Bytes()
	}
	return withoutPageIndex(t, buf.Bytes())
}

// withoutPageIndex returns a file without its page index and size statistics,
// as batches are written.
func withoutPageIndex(t testing.TB, data []byte) []byte {
	t.Helper()
	md, err := footerOf(data)
	if err != nil {
		t.Fatal(err)
	}
	cut := int64(len(data)) - 8 - int64(len(footerBytes(t, md)))
	for i := range md.RowGroups {
		for j := range md.RowGroups[i].Columns {
			c := &md.RowGroups[i].Columns[j]
			if c.ColumnIndexLength > 0 {
				cut = min(cut, c.ColumnIndexOffset)
			}
			c.ColumnIndexOffset, c.ColumnIndexLength, c.OffsetIndexOffset, c.OffsetIndexLength = 0, 0, 0, 0
			c.MetaData.SizeStatistics = format.SizeStatistics{}
		}
	}
	footer := footerBytes(t, md)
	out := append(bytes.Clone(data[:cut]), footer...)
	out = append(out, byte(len(footer)), byte(len(footer)>>8), byte(len(footer)>>16), byte(len(footer)>>24))
	return append(out, "PAR1"...)
}

func footerBytes(t testing.TB, md *format.FileMetaData) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := newRowGroupWriter(&batchCodec, false, false)
	if err := w.encodeFooter(&buf, md); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// usedColumns returns the fields that are not zero (empty strings and lists
// are zero) in at least one of events, and batchAlways: the columns of a
// batch of events.
func usedColumns(events []Event) columnSet {
	s := batchAlways
	for _, e := range events {
		v := reflect.ValueOf(e)
		for i := range v.NumField() {
			if f := v.Field(i); !f.IsZero() && !(f.Kind() == reflect.Slice && f.Len() == 0) {
				s.add(i)
			}
		}
	}
	return s
}

// columnarCases are sets of events that exercise every kind of column: all
// of Event's fields set, lists empty and not, optional columns null and not,
// strings repeated (dictionaries, the caches of recent strings and lists)
// and changed in place.
func columnarCases() map[string][]Event {
	storm := execStorm(300)
	changed := execStorm(4)
	for i := range changed {
		changed[i].AncestorPaths = append([]string(nil), changed[i].AncestorPaths...)
	}
	// The same list, changed in place between two events: the cache of
	// recent lists must not give the first event's indexes to the second.
	shared := []string{"/a", "/b"}
	inPlace := []Event{{Type: NewProcess, Args: shared}, {Type: NewProcess, Args: shared}}
	inPlace[1].Args = shared[:1:1]
	mixed := append(sampleEvents(), filled(), Event{Type: Ptrace}, filled())
	mixed[len(mixed)-1].VPID, mixed[len(mixed)-1].ProcessStartTime = 0, 0
	unsigned := []Event{{Type: FileChown, OwnerUID: -1, OwnerGID: 5, PID: 1 << 31, FileSize: 1 << 63, Args: []string{"", "x"}},
		{Type: FileChown, OwnerUID: 3, OwnerGID: -2, PID: 7, FileSize: 1, AncestorPIDs: []uint32{1 << 31, 1}}}
	return map[string][]Event{
		"one": sampleEvents()[:1], "sample": sampleEvents(), "every field": {filled()}, "mixed": mixed,
		"exec storm": storm, "lists copied": changed, "list changed in place": inPlace, "unsigned": unsigned,
		"zero events": {{}, {}},
		"lists of empty strings": {{Type: NewProcess, Args: []string{""}, Environment: []string{""}, AncestorPIDs: []uint32{0}},
			{Type: NewProcess, User: "", CWD: ""}},
	}
}

// TestColumnarMatchesParquetGo checks that the columnar writer writes, byte for
// byte, the files parquet-go writes of the same events with the same options:
// lake files with their bounds, page index and size statistics, batches of
// every column and of the columns they use.
func TestColumnarMatchesParquetGo(t *testing.T) {
	all := allColumns
	for name, events := range columnarCases() {
		t.Run(name, func(t *testing.T) {
			fw := NewFileWriter()
			if err := fw.Write(events); err != nil {
				t.Fatal(err)
			}
			lake, err := fw.Close()
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, "lake file", lake, referenceFile(t, events, all, true))
			full, err := NewLakeEncoder().Encode(events)
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, "batch of every column", full, referenceFile(t, events, all, false))
			batch, err := NewEncoder().Encode(events)
			if err != nil {
				t.Fatal(err)
			}
			sameFile(t, "batch", batch, referenceFile(t, events, usedColumns(events), false))
		})
	}
}

// sameFile fails unless got and want are the same bytes, saying where their
// footers differ if they do.
func sameFile(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if bytes.Equal(got, want) {
		return
	}
	gm, err1 := footerOf(got)
	wm, err2 := footerOf(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: footers: %v, %v", what, err1, err2)
	}
	if !reflect.DeepEqual(gm, wm) {
		t.Fatalf("%s: footers differ:\n%s", what, diffValues("footer", reflect.ValueOf(gm), reflect.ValueOf(wm)))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("%s: %d bytes, want %d; first difference at byte %d", what, len(got), len(want), i)
		}
	}
	t.Fatalf("%s: %d bytes, want %d", what, len(got), len(want))
}

// diffValues describes the first differences between a and b.
func diffValues(path string, a, b reflect.Value) string {
	if a.Kind() != b.Kind() {
		return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
			}
			return ""
		}
		return diffValues(path, a.Elem(), b.Elem())
	case reflect.Struct:
		out := ""
		for i := range a.NumField() {
			out += diffValues(path+"."+a.Type().Field(i).Name, a.Field(i), b.Field(i))
		}
		return out
	case reflect.Slice:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			return fmt.Sprintf("%s: %d elements vs %d: %v vs %v\n", path, a.Len(), b.Len(), a, b)
		}
		out := ""
		for i := range a.Len() {
			if out += diffValues(path+"["+strconv.Itoa(i)+"]", a.Index(i), b.Index(i)); len(out) > 2000 {
				break
			}
		}
		return out
	}
	if !reflect.DeepEqual(a.Interface(), b.Interface()) {
		return fmt.Sprintf("%s: %v vs %v\n", path, a, b)
	}
	return ""
}

// TestLakeFilePages writes a lake file of many pages per column, in ticks,
// and checks that it decodes to its events, that its column chunks have the
// statistics parquet-go gives them (which cuts pages elsewhere: the files
// differ in bytes) and that its column index has the bounds and null counts
// of the pages as parquet-go reads them.
func TestLakeFilePages(t *testing.T) {
	events := execStorm(60000)
	for i := range events {
		events[i].CommandLine = "true " + strconv.Itoa(i) // distinct strings
		events[i].ExitCode = int32(i % 7)
		if i%3 == 0 {
			events[i].Args = []string{"true", strconv.Itoa(i)} // a growing dictionary
		}
	}
	fw := NewFileWriter()
	for off := 0; off < len(events); off += 2000 {
		if err := fw.Write(events[off : off+2000]); err != nil {
			t.Fatal(err)
		}
	}
	data, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(nil, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	sameEvents(t, got, events)

	all := allColumns
	gm, err := footerOf(data)
	if err != nil {
		t.Fatal(err)
	}
	wm, err := footerOf(referenceFile(t, events, all, true))
	if err != nil {
		t.Fatal(err)
	}
	for j, gc := range gm.RowGroups[0].Columns {
		g, w := gc.MetaData, wm.RowGroups[0].Columns[j].MetaData
		if !reflect.DeepEqual(g.Statistics, w.Statistics) || !reflect.DeepEqual(g.SizeStatistics, w.SizeStatistics) ||
			g.NumValues != w.NumValues || !reflect.DeepEqual(g.Encoding, w.Encoding) {
			t.Errorf("column %v:\n%s", g.PathInSchema, diffValues("metadata", reflect.ValueOf(g), reflect.ValueOf(w)))
		}
	}

	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	multi := 0
	for col, chunk := range f.RowGroups()[0].ColumnChunks() {
		ci, oi := f.ColumnIndexes()[col], f.OffsetIndexes()[col]
		if len(oi.PageLocations) > 1 {
			multi++
		}
		indexer := chunk.Type().NewColumnIndexer(columnIndexSizeLimit)
		pages := chunk.Pages()
		n := 0
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			lo, hi, _ := p.Bounds()
			indexer.IndexPage(p.NumValues(), p.NumNulls(), lo, hi)
			parquet.Release(p)
			n++
		}
		pages.Close()
		want := indexer.ColumnIndex()
		ci.RepetitionLevelHistogram, ci.DefinitionLevelHistogram = nil, nil
		if n != len(oi.PageLocations) || !reflect.DeepEqual(ci, want) {
			t.Errorf("column %d: %d pages, %d in the offset index; column index:\n%s", col, n, len(oi.PageLocations),
				diffValues("index", reflect.ValueOf(ci), reflect.ValueOf(want)))
		}
	}
	if multi == 0 {
		t.Fatal("no column has more than one page")
	}
}

// TestProbeWords checks that the words a row is tested by see each field, and
// nothing else: an event with one field set is seen when that field is among
// those tested, and not when every other is.
func TestProbeWords(t *testing.T) {
	full := filled()
	for i, f := range fields {
		var e Event
		reflect.ValueOf(&e).Elem().Field(i).Set(reflect.ValueOf(full).Field(i))
		var all, others []uint8
		for j := range fields {
			all = append(all, uint8(j))
			if j != i {
				others = append(others, uint8(j))
			}
		}
		test := func(unused []uint8) bool {
			var any uint64
			for _, pw := range probeWords(nil, unused) {
				any |= *(*uint64)(unsafe.Add(unsafe.Pointer(&e), pw.offset)) & pw.mask
			}
			return any != 0
		}
		if !test(all) {
			t.Errorf("field %s set: not seen", f.name)
		}
		if test(others) {
			t.Errorf("field %s set: seen by the words of the other fields", f.name)
		}
	}
}
