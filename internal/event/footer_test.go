package event

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/format"
)

// TestFooterReader reads the footers of the files the stream decoder reads
// with one footerReader, twice each (the second time from its kept schema):
// what it reads must be what parquet-go's OpenFile reads.
func TestFooterReader(t *testing.T) {
	cases := decodeCases(t)
	var fr footerReader
	for _, name := range []string{"batch/sample", "batch/filled", "lake/mixed", "batch/empty", "batch/storm", "parquet-go/v1 small pages", "batch/mixed", "batch/sample"} {
		data := cases[name]
		f, err := openChecked(data, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := f.Metadata()
		wantCols, _ := fileLeaves(f.Schema())
		for range 2 {
			if err := fr.read(data); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			got := &fr.md
			if got.NumRows != want.NumRows || len(got.RowGroups) != len(want.RowGroups) {
				t.Fatalf("%s: %d rows in %d row groups, want %d in %d", name, got.NumRows, len(got.RowGroups), want.NumRows, len(want.RowGroups))
			}
			for g := range want.RowGroups {
				wg, gg := &want.RowGroups[g], &got.RowGroups[g]
				if gg.NumRows != wg.NumRows || len(gg.Columns) != len(wg.Columns) {
					t.Fatalf("%s: row group %d: %d rows, %d columns, want %d, %d", name, g, gg.NumRows, len(gg.Columns), wg.NumRows, len(wg.Columns))
				}
				for c := range wg.Columns {
					w, m := &wg.Columns[c].MetaData, &gg.Columns[c].MetaData
					if m.Codec != w.Codec || !slices.Equal(m.Encoding, w.Encoding) || m.NumValues != w.NumValues ||
						m.TotalCompressedSize != w.TotalCompressedSize || m.DataPageOffset != w.DataPageOffset ||
						m.DictionaryPageOffset != w.DictionaryPageOffset {
						t.Fatalf("%s: row group %d column %d:\n got %+v\nwant %+v", name, g, c, *m, *w)
					}
				}
			}
			if !slices.Equal(fr.byCol, wantCols) {
				t.Fatalf("%s: columns %v, want %v", name, fr.byCol, wantCols)
			}
		}
	}
}

// TestFooterReaderRefuses checks the footers the stream decoder refuses, by
// what its error says.
func TestFooterReaderRefuses(t *testing.T) {
	good := decodeCases(t)["batch/mixed"]
	edit := func(f func(md *format.FileMetaData)) []byte { return withFooter(t, good, f) }
	column := func(md *format.FileMetaData, name string) *format.SchemaElement {
		for i := range md.Schema {
			if md.Schema[i].Name == name {
				return &md.Schema[i]
			}
		}
		t.Fatalf("no column %s", name)
		return nil
	}
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"no magic", append([]byte("PAR2"), good[4:]...), "no PAR1 magic"},
		{"footer too long", append(bytes.Clone(good[:len(good)-8]), 0xff, 0xff, 0xff, 0x7f, 'P', 'A', 'R', '1'), "footer declares"},
		{"unknown column", edit(func(md *format.FileMetaData) { column(md, "command_line").Name = "cmd" }), `unknown column "cmd"`},
		{"physical type", edit(func(md *format.FileMetaData) {
			column(md, "command_line").Type.Set(format.Int64)
		}), "column command_line has another physical type"},
		{"optional list element", edit(func(md *format.FileMetaData) {
			column(md, "element").RepetitionType.Set(format.Optional)
		}), "which Vigil's writers do not write"},
		{"more children than elements", edit(func(md *format.FileMetaData) { addChildren(md, 3) }), "more children than its"},
		{"fewer children than elements", edit(func(md *format.FileMetaData) { addChildren(md, -1) }), "of them under its root"},
		{"a column chunk short", edit(func(md *format.FileMetaData) {
			md.RowGroups[0].Columns = md.RowGroups[0].Columns[1:]
		}), "column chunks, the schema"},
		{"negative rows", edit(func(md *format.FileMetaData) { md.NumRows = -5 }), "-5 rows"},
		{"row groups short of the file's rows", edit(func(md *format.FileMetaData) { md.NumRows++ }), "row groups declare"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			evs, err := NewStreamDecoder().Decode(tc.data, 0)
			if err == nil || !errors.Is(err, ErrNotParquet) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one wrapping ErrNotParquet saying %q", err, tc.want)
			}
			if evs != nil {
				t.Fatalf("%d events with the error", len(evs))
			}
		})
	}
}

// addChildren adds n to the children of md's schema root.
func addChildren(md *format.FileMetaData, n int32) {
	c, _ := md.Schema[0].NumChildren.Get()
	md.Schema[0].NumChildren.Set(c + n)
}
