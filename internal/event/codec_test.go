package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

func sampleEvents() []Event {
	return []Event{
		{SensorID: "s-1", Hostname: "web-1", Tags: []string{"env:prod", "role:web"}, Type: NewProcess,
			TimeNanos: 1763800000123456789, ID: "01J0000000000000000000000A", PID: 4242, PPID: 1, UID: 0,
			User: "root", FilePath: "/usr/bin/docker", CommandLine: "docker run --privileged alpine",
			ParentFilePath: "/bin/bash", ParentCommandLine: "-bash", CgroupID: 77},
		{SensorID: "s-1", Hostname: "web-1", Type: TerminateProcess, TimeNanos: 1763800000223456789,
			ID: "01J0000000000000000000000B", PID: 4242, ExitCode: -9},
		{SensorID: "s-2", Hostname: "db-1", Type: NetworkConnect, Protocol: "tcp", SourceIP: "10.0.0.2",
			SourcePort: 50000, DestIP: "2001:db8::1", DestPort: 443, ID: "c"},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
	}{
		{"empty", nil},
		{"one", sampleEvents()[:1]},
		{"mixed types", sampleEvents()},
		{"every field set", []Event{filled()}},
	}
	enc := NewEncoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := enc.Encode(tc.events)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, got, tc.events)
		})
	}
}

// sameEvents compares decoded events with the ones encoded; a nil Tags may come
// back empty.
func sameEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i := range got {
		w := want[i]
		// a nil list reads back empty
		wv, gv := reflect.ValueOf(&w).Elem(), reflect.ValueOf(got[i])
		for j := range wv.NumField() {
			if f := wv.Field(j); f.Kind() == reflect.Slice && f.IsNil() && gv.Field(j).Len() == 0 {
				f.Set(gv.Field(j))
			}
		}
		if w.MissingCapabilities == nil && got[i].MissingCapabilities != nil {
			w.MissingCapabilities = got[i].MissingCapabilities[:0:0]
		}
		if !reflect.DeepEqual(got[i], w) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], w)
		}
	}
}

// TestBounds checks which files carry the bounds of their columns: lake files
// do, in the column chunk's statistics and the column index, for query engines
// to skip by; batches, read whole, do not. Neither repeats a page's bounds in
// its header.
func TestBounds(t *testing.T) {
	batch, err := NewEncoder().Encode(sampleEvents())
	if err != nil {
		t.Fatal(err)
	}
	fw := NewFileWriter()
	if err := fw.Write(sampleEvents()); err != nil {
		t.Fatal(err)
	}
	lake, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name       string
		data       []byte
		wantBounds bool
	}{{"batch", batch, false}, {"lake file", lake, true}} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := parquet.OpenFile(bytes.NewReader(tc.data), int64(len(tc.data)))
			if err != nil {
				t.Fatal(err)
			}
			for _, col := range []string{"event_time", "event_type", "pid", "command_line"} {
				leaf, ok := f.Schema().Lookup(col)
				if !ok {
					t.Fatalf("no column %s", col)
				}
				chunk := f.Metadata().RowGroups[0].Columns[leaf.ColumnIndex].MetaData
				st := chunk.Statistics
				if got := st.MinValue != nil && st.MaxValue != nil; got != tc.wantBounds {
					t.Errorf("%s: column chunk has bounds = %v, want %v", col, got, tc.wantBounds)
				}
				// Every column's largest value here is non-zero: a bound of
				// zero bytes only is no bound.
				indexed := false
				if ci := f.ColumnIndexes(); leaf.ColumnIndex < len(ci) {
					for _, v := range ci[leaf.ColumnIndex].MaxValues {
						indexed = indexed || strings.Trim(string(v), "\x00") != ""
					}
				}
				if indexed != tc.wantBounds {
					t.Errorf("%s: column index has bounds = %v, want %v", col, indexed, tc.wantBounds)
				}
				if s := pageStatistics(t, tc.data, chunk.DataPageOffset); s.MinValue != nil || s.MaxValue != nil || s.Min != nil || s.Max != nil {
					t.Errorf("%s: page header has bounds %+v, want none", col, s)
				}
			}
		})
	}
}

// pageStatistics decodes the header of the data page at offset off of a
// Parquet file and returns its statistics.
func pageStatistics(t *testing.T, data []byte, off int64) format.Statistics {
	t.Helper()
	if off < 0 || off >= int64(len(data)) {
		t.Fatalf("page offset %d outside the file's %d bytes", off, len(data))
	}
	var h format.PageHeader
	r := (&thrift.CompactProtocol{}).NewReader(bytes.NewReader(data[off:]))
	if err := thrift.NewDecoder(r).Decode(&h); err != nil {
		t.Fatalf("page header at %d: %v", off, err)
	}
	if v2, ok := h.DataPageHeaderV2.Get(); ok {
		return v2.Statistics
	}
	if v1, ok := h.DataPageHeader.Get(); ok {
		return v1.Statistics
	}
	t.Fatalf("page at %d is not a data page: %+v", off, h)
	return format.Statistics{}
}

func TestFileWriter(t *testing.T) {
	many := benchEvents(20000) // several pages per column
	tests := []struct {
		name   string
		writes [][]Event
	}{
		{"empty file", nil},
		{"one write", [][]Event{sampleEvents()}},
		{"empty writes", [][]Event{nil, sampleEvents()[:1], {}, sampleEvents()[1:]}},
		{"every field set", [][]Event{{filled()}, {filled(), filled()}}},
		{"many writes across pages", [][]Event{many[:1], many[1:70], many[70:5000], many[5000:5001], many[5001:]}},
		{"after a large file", [][]Event{sampleEvents()[2:]}},
	}
	// one writer for every case: each runs on the writer the previous one closed
	fw := NewFileWriter()
	var prev []byte
	var prevWant []Event
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var want []Event
			for _, w := range tc.writes {
				if err := fw.Write(w); err != nil {
					t.Fatal(err)
				}
				want = append(want, w...)
				if fw.Rows() != len(want) {
					t.Fatalf("Rows = %d after writing %d", fw.Rows(), len(want))
				}
			}
			data, err := fw.Close()
			if err != nil {
				t.Fatal(err)
			}
			if fw.Rows() != 0 {
				t.Errorf("Rows = %d after Close", fw.Rows())
			}
			got, err := Decode(nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			sameEvents(t, got, want)
			f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatal(err)
			}
			if n, w := len(f.RowGroups()), min(len(want), 1); n != w {
				t.Errorf("%d row groups, want %d", n, w)
			}
			if cb := f.Metadata().CreatedBy; !strings.HasPrefix(cb, "vigil") {
				t.Errorf("created by %q", cb)
			}
			// the previous file is the caller's: reusing the writer left it intact
			if prev != nil {
				got, err := Decode(nil, prev, 0)
				if err != nil {
					t.Fatalf("previous file: %v", err)
				}
				sameEvents(t, got, prevWant)
			}
			prev, prevWant = data, want
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("hello, this is not parquet at all")},
		{"magic only", []byte("PAR1PAR1")},
		// the footer's declared length is read from the file's last 8 bytes
		{"footer past the start", []byte("PAR1\x05\x00\x00\x00PAR1")},
		{"footer of 1 GiB", []byte("PAR1\x00\x00\x00\x40PAR1")},
		{"footer of 4 GiB", []byte("PAR1\xff\xff\xff\xffPAR1")},
		// a batch of 3 events whose row group declares other than the file's 3 rows
		{"row group of 65536 rows", withGroupRows(t, 1<<16)},
		{"row group of 1 row", withGroupRows(t, 1)},
		{"row group of -1 rows", withGroupRows(t, -1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := Decode(nil, tc.data, 0)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrNotParquet) {
				t.Fatalf("err = %v, want ErrNotParquet", err)
			}
			// a few bytes must not make the decoder allocate what they declare
			if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
				t.Errorf("refusing %d bytes allocated %d", len(tc.data), n)
			}
		})
	}
}

// withGroupRows encodes sampleEvents and rewrites the footer so that its one row
// group declares rows rows; the file still declares len(sampleEvents()).
func withGroupRows(t *testing.T, rows int64) []byte {
	t.Helper()
	data, err := NewEncoder().Encode(sampleEvents())
	if err != nil {
		t.Fatal(err)
	}
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, data[len(data)-8-n:len(data)-8], &md); err != nil {
		t.Fatal(err)
	}
	if md.NumRows != int64(len(sampleEvents())) || len(md.RowGroups) != 1 {
		t.Fatalf("footer declares %d rows in %d row groups", md.NumRows, len(md.RowGroups))
	}
	md.RowGroups[0].NumRows = rows
	footer, err := thrift.Marshal(&thrift.CompactProtocol{}, &md)
	if err != nil {
		t.Fatal(err)
	}
	out := append(data[:len(data)-8-n:len(data)-8-n], footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...)
}

// FuzzDecode feeds the stream decoder (NewStreamDecoder), the first code
// every Kinesis record meets, damaged and made-up files. Whatever it reads
// must be what parquet-go's generic row reader reads, what a decoder reusing
// its events from the inputs before reads, and must encode again to the same
// events. Seeds are small files of every layout decodeCases has; run it with a
// short minimization (-fuzzminimizetime 100x): minimizing a file of a few KiB
// runs it thousands of times.
func FuzzDecode(f *testing.F) {
	for name, data := range decodeCases(f) {
		if !strings.Contains(name, "storm") && !strings.Contains(name, "small pages") && !strings.Contains(name, "row groups") {
			f.Add(data) // the files of thousands of rows are for the tests
		}
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	reused, enc := NewStreamDecoder(), NewEncoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxRows = 300 // an input's runs stay within milliseconds
		events, err := NewStreamDecoder().Decode(data, maxRows)
		again, rerr := reused.Decode(data, maxRows)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("a fresh decoder: %v; a reused one: %v", err, rerr)
		}
		if err != nil {
			if !errors.Is(err, ErrNotParquet) || !errors.Is(rerr, ErrNotParquet) {
				t.Fatalf("errors do not wrap ErrNotParquet: %v; %v", err, rerr)
			}
			return
		}
		if d := diffEvents(again, events); d != "" {
			t.Fatalf("a reused decoder reads otherwise: %s", d)
		}
		// what the stream decoder read whole, parquet-go reads too
		if generic, err := genericDecode(data, maxRows); err == nil {
			if d := diffEvents(events, generic); d != "" {
				t.Fatalf("the generic reader reads otherwise: %s", d)
			}
		}
		data, err = enc.Encode(events)
		if err != nil {
			t.Fatalf("decoded events do not encode: %v", err)
		}
		back, err := Decode(nil, data, maxRows)
		if err != nil {
			t.Fatalf("encoded events do not decode: %v", err)
		}
		if d := diffEvents(back, events); d != "" {
			t.Fatalf("changed in a round trip: %s", d)
		}
	})
}

func benchEvents(n int) []Event {
	out := make([]Event, n)
	s := sampleEvents()
	for i := range out {
		out[i] = s[i%len(s)]
		out[i].PID = uint32(1000 + i)
		out[i].TimeNanos += int64(i) * 1000
		out[i].ID = NewID(time.Unix(0, out[i].TimeNanos))
	}
	return out
}

func BenchmarkEncode(b *testing.B) { benchEncode(b, benchEvents(1000)) }

// benchEncode encodes events as one batch, over and over.
func benchEncode(b *testing.B, events []Event) {
	enc := NewEncoder()
	var size int
	b.ReportAllocs()
	for b.Loop() {
		data, err := enc.Encode(events)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(len(events)), "bytes/event")
}

func BenchmarkDecode(b *testing.B) {
	events := benchEvents(1000)
	data, err := NewEncoder().Encode(events)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Event, 0, len(events))
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = Decode(dst[:0], data, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(data))/float64(len(events)), "bytes/event")
}

// BenchmarkFileWriter writes ticks of 1000 events into lake files of 100000.
func BenchmarkFileWriter(b *testing.B) { benchFileWriter(b, benchEvents(1000)) }

// benchFileWriter writes events, a tick's, into lake files of 100000 events,
// over and over.
func benchFileWriter(b *testing.B, events []Event) {
	fw := NewFileWriter()
	var files, size int
	b.ReportAllocs()
	for b.Loop() {
		if err := fw.Write(events); err != nil {
			b.Fatal(err)
		}
		if fw.Rows() >= 100_000 {
			data, err := fw.Close()
			if err != nil {
				b.Fatal(err)
			}
			files++
			size += len(data)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	if files > 0 {
		b.ReportMetric(float64(size)/float64(files*100_000), "bytes/event")
	}
}
