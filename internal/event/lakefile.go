package event

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// LakeFile is a lake file opened for searching: its row groups are read one at
// a time, each with only the columns asked for, and the bounds (minimum and
// maximum) its footer keeps per column let a search skip a row group without
// reading it. The file is checked as Decode checks it (untrusted input): a
// malformed one gives an error wrapping ErrNotParquet, never a panic.
type LakeFile struct {
	f *parquet.File
}

// OpenLakeFile opens the Parquet file data (the bytes stay in use while the
// LakeFile is). Files declaring more than maxRows rows (maxRows ≤ 0: no
// limit) are refused.
func OpenLakeFile(data []byte, maxRows int64) (lf *LakeFile, err error) {
	defer func() {
		if r := recover(); r != nil {
			lf, err = nil, fmt.Errorf("%w: malformed file: %v", ErrNotParquet, r)
		}
	}()
	f, err := openChecked(data, maxRows)
	if err != nil {
		return nil, err
	}
	return &LakeFile{f: f}, nil
}

// RowGroups is the number of row groups in the file.
func (l *LakeFile) RowGroups() int { return len(l.f.RowGroups()) }

// Rows is the number of rows of row group i.
func (l *LakeFile) Rows(i int) int64 { return l.f.RowGroups()[i].NumRows() }

// Bounds returns the minimum and maximum of the top-level column named column
// in row group i, as its footer keeps them; ok is false when the file keeps
// none (a stream batch, a list column, a column the file lacks).
func (l *LakeFile) Bounds(i int, column string) (lo, hi parquet.Value, ok bool) {
	leaf, found := l.f.Schema().Lookup(column)
	if !found || !leaf.Node.Leaf() {
		return lo, hi, false
	}
	chunks := l.f.RowGroups()[i].ColumnChunks()
	if leaf.ColumnIndex >= len(chunks) {
		return lo, hi, false
	}
	fc, isFile := chunks[leaf.ColumnIndex].(*parquet.FileColumnChunk)
	if !isFile {
		return lo, hi, false
	}
	return fc.Bounds()
}

// ReadRowGroup appends the rows of row group i to dst, reading only the
// top-level columns named in columns (nil: every column); the other fields
// of the events are left at their zero values.
func (l *LakeFile) ReadRowGroup(dst []Event, i int, columns []string) (out []Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("%w: malformed row group %d: %v", ErrNotParquet, i, r)
		}
	}()
	rg := l.f.RowGroups()[i]
	target := l.f.Schema()
	if columns != nil {
		target = projection(target, columns)
		conv, err := parquet.Convert(target, rg.Schema())
		if err != nil {
			return dst, fmt.Errorf("%w: row group %d: %w", ErrNotParquet, i, err)
		}
		rg = parquet.ConvertRowGroup(rg, conv)
	}
	byCol, ok := columnLeaves(target)
	if !ok {
		// columns laid out otherwise than Event's (another writer's lists)
		return readRowGroup(dst, rg)
	}
	return readProjected(dst, rg, byCol)
}

// columnLeaves maps the columns of schema s to Event's leaf columns; ok is
// false when one has no leaf of the same path.
func columnLeaves(s *parquet.Schema) (byCol []*leafColumn, ok bool) {
	byCol = make([]*leafColumn, len(s.Columns()))
	for ci, path := range s.Columns() {
		for li := range leaves {
			if slices.Equal(leaves[li].path, path) {
				byCol[ci] = &leaves[li]
			}
		}
		if byCol[ci] == nil {
			return nil, false
		}
	}
	return byCol, true
}

// readProjected appends the rows of rg, whose columns are the leaves byCol,
// to dst: the values of each row are stored straight into the fields of an
// Event, by the leaf columns' offsets, without building the whole struct
// through the generic reader (which converts every one of the 90-odd
// columns of every row, missing ones included).
func readProjected(dst []Event, rg parquet.RowGroup, byCol []*leafColumn) ([]Event, error) {
	n := int(rg.NumRows())
	// rows are added as they are read, not as many as the footer declares
	// (an untrusted count)
	start := len(dst)
	rows := rg.Rows()
	defer rows.Close()
	buf := make([]parquet.Row, 128)
	got := 0
	for got < n {
		k, err := rows.ReadRows(buf[:min(len(buf), n-got)])
		for _, row := range buf[:k] {
			dst = append(dst, Event{})
			e := &dst[start+got]
			for _, v := range row {
				c := v.Column()
				if c < 0 || c >= len(byCol) {
					return dst[:start+got], fmt.Errorf("%w: row %d: value of column %d", ErrNotParquet, got, c)
				}
				setLeaf(e, byCol[c], v)
			}
			got++
		}
		if err == io.EOF || k == 0 {
			break
		}
		if err != nil {
			return dst[:start+got], fmt.Errorf("%w: row %d: %w", ErrNotParquet, got, err)
		}
	}
	if got != n {
		return dst[:start+got], fmt.Errorf("%w: row group declares %d rows, holds %d", ErrNotParquet, n, got)
	}
	return dst, nil
}

// setLeaf stores value v of leaf column c in e (a list value is appended).
func setLeaf(e *Event, c *leafColumn, v parquet.Value) {
	if v.IsNull() || int(v.DefinitionLevel()) < int(c.maxDef) {
		return // null, or an empty list
	}
	p := unsafe.Add(unsafe.Pointer(e), c.offset)
	switch c.kind {
	case kindBytes:
		*(*string)(p) = string(v.ByteArray())
	case kindBytesList:
		l := (*[]string)(p)
		*l = append(*l, string(v.ByteArray()))
	case kindInt32List:
		l := (*[]uint32)(p)
		*l = append(*l, uint32(v.Int32()))
	case kindInt32:
		switch c.size {
		case 2:
			*(*uint16)(p) = uint16(v.Int32())
		default:
			*(*int32)(p) = v.Int32()
		}
	default:
		*(*int64)(p) = v.Int64()
	}
}

// projection is the schema of the columns of file schema s named in columns.
func projection(s *parquet.Schema, columns []string) *parquet.Schema {
	group := parquet.Group{}
	for _, f := range s.Fields() {
		if slices.Contains(columns, f.Name()) {
			group[f.Name()] = f
		}
	}
	return parquet.NewSchema("projection", group)
}

// ColumnNames are the top-level columns of the lake's schema, in order.
func ColumnNames() []string {
	out := make([]string, len(fields))
	for i := range fields {
		out[i] = columnName(i)
	}
	return out
}

func columnName(i int) string {
	f, _ := reflect.TypeFor[Event]().FieldByName(fields[i].name)
	name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
	return name
}

// Columns returns the top-level lake columns field's value is read from, found
// by setting each column of probe events and watching the field's value
// change, and those of the field it is derived from (an image's tag, which no
// probe value holds, is read from the image's); a variable of
// event/ENV/<NAME>, whose name no probe holds, is read from
// event/ENVIRONMENT's. nil means the columns could not be told apart: read
// every column.
func (f *Field) Columns() []string {
	if f.source != "" {
		src, err := Lookup(f.source)
		if err != nil {
			return nil
		}
		return src.Columns()
	}
	if c, ok := fieldColumns.Load(f.Path); ok {
		return slices.Clone(c.([]string))
	}
	out := f.probeColumns()
	if f.Derived != "" {
		if src, err := Lookup(f.Derived); err == nil {
			for _, c := range src.Columns() {
				if !slices.Contains(out, c) {
					out = append(out, c)
				}
			}
		}
	}
	fieldColumns.Store(f.Path, out)
	return slices.Clone(out)
}

// ColumnsOf returns the top-level lake columns the fields fs are read from
// (Columns of each), each once, in the order of Event's fields; ok is false
// when the columns of one of them cannot be told apart: read every column.
func ColumnsOf(fs ...*Field) (cols []string, ok bool) {
	var want columnSet
	for _, f := range fs {
		fc := f.Columns()
		if fc == nil {
			return nil, false
		}
		for _, c := range fc {
			i, _ := columnIndex(c)
			want.add(i)
		}
	}
	for i := range fields {
		if want.has(i) {
			cols = append(cols, columnName(i))
		}
	}
	return cols, true
}

// fieldColumns caches Columns by path (the probes cost milliseconds).
var fieldColumns sync.Map

func (f *Field) probeColumns() []string {
	var out []string
	for _, p := range probes() {
		if !f.same(&p.base, &p.set) {
			if name := columnName(p.field); !slices.Contains(out, name) {
				out = append(out, name)
			}
		}
	}
	return out
}

// probe is a pair of events that differ in one top-level field.
type probe struct {
	base, set Event
	field     int
}

// probes are the pairs probeColumns compares, made once: from a zero event
// and from one of middling values, each field set to a small and to a large
// value.
var probes = sync.OnceValue(func() []probe {
	var out []probe
	t := reflect.TypeFor[Event]()
	for _, base := range []func(reflect.Value){func(reflect.Value) {}, probeFill} {
		var e0 Event
		base(reflect.ValueOf(&e0).Elem())
		for i := range t.NumField() {
			for _, alt := range []int{0, 1} {
				p := probe{base: e0, set: e0, field: i}
				probeSet(reflect.ValueOf(&p.set).Elem().Field(i), alt)
				out = append(out, p)
			}
		}
	}
	return out
})

// probeFill sets every field of the event at v to a middling probe value.
func probeFill(v reflect.Value) {
	for i := range v.NumField() {
		switch fv := v.Field(i); fv.Kind() {
		case reflect.String:
			fv.SetString("base/base")
		case reflect.Slice:
			fv.Set(reflect.MakeSlice(fv.Type(), 1, 1))
			probeSet(fv.Index(0), 2)
		case reflect.Int16, reflect.Int32, reflect.Int64:
			fv.SetInt(1000)
		default:
			fv.SetUint(1000)
		}
	}
}

// probeSet sets v to probe value alt (0: small, 1: large, 2: a list item).
func probeSet(v reflect.Value, alt int) {
	switch v.Kind() {
	case reflect.String:
		v.SetString([]string{"probe/a=1", "probe/zz=2", "base=1"}[alt])
	case reflect.Slice:
		// as long as the positions a path may name (event/ARGS/<N>)
		v.Set(reflect.MakeSlice(v.Type(), MaxPosition, MaxPosition))
		for j := range MaxPosition {
			probeSet(v.Index(j), alt)
		}
	case reflect.Int16, reflect.Int32, reflect.Int64:
		v.SetInt([]int64{500, 2000, 7}[alt])
	default:
		v.SetUint([]uint64{500, 2000, 7}[alt])
	}
}

// same reports whether f reads the same value from a and b.
func (f *Field) same(a, b *Event) bool {
	switch f.Kind {
	case String:
		return f.Str(a) == f.Str(b)
	case Number:
		return f.Num(a) == f.Num(b)
	}
	return slices.Equal(f.List(a), f.List(b))
}
