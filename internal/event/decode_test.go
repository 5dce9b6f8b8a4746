package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// decodeCases are files of events as Vigil's writers and parquet-go's write
// them, with the options that change how their pages are laid out.
func decodeCases(t testing.TB) map[string][]byte {
	storm := execStorm(5000)
	mixed := append(append(append([]Event(nil), sampleEvents()...), filled()), execStorm(40)...)
	out := map[string][]byte{}
	enc := NewEncoder()
	for name, evs := range map[string][]Event{"sample": sampleEvents(), "filled": {filled()}, "storm": storm, "mixed": mixed, "empty": nil} {
		data, err := enc.Encode(evs)
		if err != nil {
			t.Fatal(err)
		}
		out["batch/"+name] = bytes.Clone(data)
	}
	fw := NewFileWriter()
	if err := fw.Write(mixed); err != nil {
		t.Fatal(err)
	}
	lake, err := fw.Close()
	if err != nil {
		t.Fatal(err)
	}
	out["lake/mixed"] = lake
	generic := func(evs []Event, opts ...parquet.WriterOption) []byte {
		var buf bytes.Buffer
		w := parquet.NewGenericWriter[Event](&buf, opts...)
		if _, err := w.Write(evs); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	out["parquet-go/v2 pages"] = generic(mixed)
	out["parquet-go/v1 small pages"] = generic(storm, parquet.DataPageVersion(1), parquet.PageBufferSize(512))
	out["parquet-go/snappy, row groups"] = generic(storm, parquet.Compression(&parquet.Snappy), parquet.MaxRowsPerRowGroup(700))
	out["parquet-go/plain strings"] = optionalFile(t, mixed)
	return out
}

// plainEvent is a few of Event's columns as another writer may lay them out:
// strings plain-encoded, numbers optional.
type plainEvent struct {
	SensorID    string   `parquet:"sensor_id"`
	Type        string   `parquet:"event_type"`
	PID         *uint32  `parquet:"pid,optional"`
	CommandLine string   `parquet:"command_line,plain"`
	Tags        []string `parquet:"tags,list"`
	ExitCode    *int32   `parquet:"exit_code,optional"`
}

func optionalFile(t testing.TB, evs []Event) []byte {
	rows := make([]plainEvent, len(evs))
	for i, e := range evs {
		rows[i] = plainEvent{SensorID: e.SensorID, Type: e.Type, CommandLine: e.CommandLine, Tags: e.Tags}
		if i%3 != 0 {
			pid, code := e.PID, e.ExitCode
			rows[i].PID, rows[i].ExitCode = &pid, &code
		}
	}
	var buf bytes.Buffer
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// genericDecode reads data with parquet-go's generic row reader; a panic of
// its own (it has some on damaged pages) is an error.
func genericDecode(data []byte, maxRows int64) (evs []Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			evs, err = nil, fmt.Errorf("parquet-go's row reader panicked: %v", r)
		}
	}()
	f, err := openChecked(data, maxRows)
	if err != nil {
		return nil, err
	}
	return readRowGroups(nil, f)
}

// normalized returns evs with every empty list nil: the readers differ in
// which of the two they give.
func normalized(evs []Event) []Event {
	out := make([]Event, len(evs))
	for i := range evs {
		out[i] = evs[i]
		v := reflect.ValueOf(&out[i]).Elem()
		for j := range v.NumField() {
			if f := v.Field(j); f.Kind() == reflect.Slice && f.Len() == 0 {
				f.SetZero()
			}
		}
	}
	return out
}

// diffEvents describes the first difference between a and b, "" when there
// is none.
func diffEvents(a, b []Event) string {
	if len(a) != len(b) {
		return "event counts differ"
	}
	na, nb := normalized(a), normalized(b)
	for i := range na {
		if d := diffValues("", reflect.ValueOf(na[i]), reflect.ValueOf(nb[i])); d != "" {
			return "event " + strconv.Itoa(i) + d
		}
	}
	return ""
}

// TestDecodeMatchesGenericReader reads each file column by column and with
// parquet-go's generic row reader: the events must be the same.
func TestDecodeMatchesGenericReader(t *testing.T) {
	for name, data := range decodeCases(t) {
		t.Run(name, func(t *testing.T) {
			want, err := genericDecode(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			f, err := openChecked(data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, columnar := fileLeaves(f.Schema()); !columnar {
				t.Fatal("the file's columns are not read column by column")
			}
			got, err := Decode(nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffEvents(got, want); d != "" {
				t.Fatalf("columnar and generic readers differ: %s", d)
			}
			// appended after events already there, which stay
			prefix := sampleEvents()[:1]
			both, err := Decode(append([]Event(nil), prefix...), data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffEvents(both, append(append([]Event(nil), prefix...), want...)); d != "" {
				t.Fatalf("appended: %s", d)
			}
		})
	}
}

// TestDecoderReuse decodes files one after the other with one Decoder, whose
// events are reused: fields a file's columns do not hold must not keep the
// values an earlier file gave them.
func TestDecoderReuse(t *testing.T) {
	cases := decodeCases(t)
	order := []string{"batch/filled", "batch/sample", "lake/mixed", "batch/storm", "parquet-go/plain strings",
		"batch/empty", "batch/mixed", "parquet-go/v1 small pages", "batch/sample", "parquet-go/v2 pages", "batch/filled"}
	dec := NewDecoder()
	for _, name := range order {
		sameAsFresh(t, dec, name, cases[name])
	}
}

// sameAsFresh decodes the file name with dec and checks it reads what a
// fresh decoder does.
func sameAsFresh(t *testing.T, dec *Decoder, name string, data []byte) {
	t.Helper()
	want, err := Decode(nil, data, 0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := dec.Decode(data, 0)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if d := diffEvents(got, want); d != "" {
		t.Fatalf("%s after the files before it: %s", name, d)
	}
}

// TestDecodeRefuses checks that damaged files give an error naming what is
// wrong and no events.
func TestDecoderRefuses(t *testing.T) {
	good := decodeCases(t)["batch/mixed"]
	f, err := openChecked(good, 0)
	if err != nil {
		t.Fatal(err)
	}
	// the first data page's first bytes, past its header
	col := f.Metadata().RowGroups[0].Columns[0].MetaData
	at := int(col.DataPageOffset)
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"truncated", good[:len(good)/2], "not a Vigil Parquet batch"},
		// parquet-go's Thrift decoder takes seconds over this footer
		{"list bomb in the footer", []byte("PAR1" + "9\xfd\x9e\x9d\xedL" + "\x06\x00\x00\x00PAR1"), "footer at byte"},
		{"too many rows", good, "rows exceeds the limit of 10"},
		{"damaged page", func() []byte {
			d := bytes.Clone(good)
			for i := at + 8; i < at+40 && i < len(d); i++ {
				d[i] ^= 0x5a
			}
			return d
		}(), "not a Vigil Parquet batch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := int64(0)
			if tc.name == "too many rows" {
				max = 10
			}
			evs, err := NewDecoder().Decode(tc.data, max)
			if err == nil || !errors.Is(err, ErrNotParquet) || !bytes.Contains([]byte(err.Error()), []byte(tc.want)) {
				t.Fatalf("error %v, want one wrapping ErrNotParquet saying %q", err, tc.want)
			}
			if evs != nil {
				t.Fatalf("%d events with the error", len(evs))
			}
		})
	}
}

// listFirst is a file whose first column is a list.
type listFirst struct {
	Tags     []string `parquet:"tags,list"`
	SensorID string   `parquet:"sensor_id"`
}

// withRows returns data with its footer declaring rows rows, in its one row
// group and in all.
func withRows(t *testing.T, data []byte, rows int64) []byte {
	t.Helper()
	return withFooter(t, data, func(md *format.FileMetaData) { md.NumRows, md.RowGroups[0].NumRows = rows, rows })
}

// withFooter returns data with its footer changed by edit.
func withFooter(t *testing.T, data []byte, edit func(md *format.FileMetaData)) []byte {
	t.Helper()
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, data[len(data)-8-n:len(data)-8], &md); err != nil {
		t.Fatal(err)
	}
	edit(&md)
	footer, err := thrift.Marshal(&thrift.CompactProtocol{}, &md)
	if err != nil {
		t.Fatal(err)
	}
	out := append(bytes.Clone(data[:len(data)-8-n]), footer...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(footer)))
	return append(out, "PAR1"...)
}

// TestDecoderAfterErrors decodes with one Decoder files that fail part way
// through a column, then good files: what a failed file left behind must not
// show in the next.
func TestDecoderAfterErrors(t *testing.T) {
	var buf bytes.Buffer
	rows := []listFirst{{Tags: []string{"a", "b"}, SensorID: "s"}, {Tags: []string{"c"}, SensorID: "s"}, {SensorID: "s"}}
	if err := parquet.Write(&buf, rows); err != nil {
		t.Fatal(err)
	}
	short := withRows(t, buf.Bytes(), 1) // the list column holds 3 rows of 1
	cases := decodeCases(t)
	dec := NewDecoder()
	for _, name := range []string{"batch/sample", "batch/mixed", "parquet-go/v2 pages"} {
		if _, err := dec.Decode(short, 0); err == nil || !strings.Contains(err.Error(), "more than the row group's 1 rows") {
			t.Fatalf("a file of more rows than it declares: %v", err)
		}
		sameAsFresh(t, dec, name, cases[name])
	}
}

// TestDecoderRefusesZstdBomb gives a page a zstd frame of a few bytes that
// decompresses to far more than a page may hold.
func TestDecoderRefusesZstdBomb(t *testing.T) {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	bomb := enc.EncodeAll(make([]byte, maxPageBytes+1<<20), nil)
	t.Logf("%d bytes of zstd decompress to %d", len(bomb), maxPageBytes+1<<20)
	var raw []byte
	if _, err := zstdDecoder.DecodeAll(bomb, raw); err == nil {
		t.Fatal("a frame beyond the page limit decompressed")
	}
}

// TestStreamDecoder reads the files laid out as Vigil's writers lay them out
// (parquet-go's version 1 pages, uncompressed, are) and refuses those only
// parquet-go's readers read.
func TestStreamDecoder(t *testing.T) {
	for name, data := range decodeCases(t) {
		t.Run(name, func(t *testing.T) {
			got, err := NewStreamDecoder().Decode(data, 0)
			vigil := strings.HasPrefix(name, "batch/") || strings.HasPrefix(name, "lake/") || strings.Contains(name, "v1")
			if !vigil {
				if err == nil || !errors.Is(err, ErrNotParquet) {
					t.Fatalf("a file of another writer's layout: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want, err := Decode(nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if d := diffEvents(got, want); d != "" {
				t.Fatal(d)
			}
		})
	}
}
