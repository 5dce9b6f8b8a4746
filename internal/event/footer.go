package event

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// The stream decoder reads a batch's footer itself, taking only what reading
// Vigil's layout needs: the schema, the row counts and, of each column
// chunk, where its pages are and how they are compressed and encoded.
// parquet-go's OpenFile decodes every field of the footer through
// reflection and builds a schema of its own, which was half of what reading
// a batch of a hundred events cost. A stream's batches have a few schemas
// (the column sets of its hosts' activity), so the mapping of a schema's
// columns to Event's is kept by the schema's bytes.

// parquetMagic opens and closes every Parquet file.
var parquetMagic = []byte("PAR1")

// Thrift field ids of the footer's structs (parquet.thrift).
const (
	fmdSchema    = 2 // FileMetaData
	fmdNumRows   = 3
	fmdRowGroups = 4

	seType        = 1 // SchemaElement
	seRepetition  = 3
	seName        = 4
	seNumChildren = 5

	rgColumns = 1 // RowGroup
	rgNumRows = 3

	ccMetaData = 3 // ColumnChunk

	cmdEncodings          = 2 // ColumnMetaData
	cmdCodec              = 4
	cmdNumValues          = 5
	cmdCompressedSize     = 7
	cmdDataPageOffset     = 9
	cmdDictionaryPageOffs = 11
)

// maxSchemas bounds the schemas a footerReader keeps the mapping of.
const maxSchemas = 64

// footerReader reads stream batches' footers into md, which it reuses, and
// keeps the column mappings of the schemas it has met.
type footerReader struct {
	md      format.FileMetaData
	schemas map[string][]fileColumn
	r       compactReader
	byCol   []fileColumn // of the last footer
}

// read reads the footer of the Parquet file data: the file's row count, its
// row groups' and, of each column chunk, the metadata readFastChunk uses
// (codec, encodings, value count, offsets and size). The columns must be
// Event's as Vigil's writers lay them out (fileLeaves); byCol maps them to
// leaves.
func (fr *footerReader) read(data []byte) error {
	if err := checkFooter(data); err != nil {
		return err
	}
	if !bytes.HasPrefix(data, parquetMagic) || !bytes.HasSuffix(data, parquetMagic) {
		return fmt.Errorf("%w: no PAR1 magic at the start and end", ErrNotParquet)
	}
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	fr.r = compactReader{b: data[len(data)-8-n : len(data)-8]}
	fr.md.NumRows, fr.md.RowGroups, fr.byCol = -1, fr.md.RowGroups[:0], nil
	if err := fr.fileMetaData(); err != nil {
		return fmt.Errorf("%w: footer at byte %d of %d: %w", ErrNotParquet, fr.r.pos, n, err)
	}
	if fr.r.pos != n {
		return fmt.Errorf("%w: footer of %d bytes ends after %d", ErrNotParquet, n, fr.r.pos)
	}
	switch {
	case fr.byCol == nil:
		return fmt.Errorf("%w: footer has no schema", ErrNotParquet)
	case fr.md.NumRows < 0:
		return fmt.Errorf("%w: footer has no row count", ErrNotParquet)
	}
	for g := range fr.md.RowGroups {
		if got := len(fr.md.RowGroups[g].Columns); got != len(fr.byCol) {
			return fmt.Errorf("%w: row group %d has %d column chunks, the schema %d columns", ErrNotParquet, g, got, len(fr.byCol))
		}
	}
	return nil
}

// fields reads the fields of a struct, calling field with each one's id and
// type; field reads or skips its value.
func (fr *footerReader) fields(depth int, field func(id int16, typ byte) error) error {
	if depth > maxDepth {
		return errors.New("nested too deep")
	}
	id := int16(0)
	for {
		fid, typ, err := fr.r.fieldHeader(id)
		if err != nil {
			return err
		}
		if typ == ctStop {
			return nil
		}
		id = fid
		if err := field(id, typ); err != nil {
			return err
		}
	}
}

// want checks that field id has type typ, as parquet.thrift declares it.
func want(id int16, typ, declared byte) error {
	if typ != declared {
		return fmt.Errorf("field %d has Thrift type %d, want %d", id, typ, declared)
	}
	return nil
}

// int reads a value of Thrift type i16, i32 or i64 (zigzag varints).
func (fr *footerReader) int() (int64, error) {
	v, err := fr.r.varint()
	return int64(v>>1) ^ -int64(v&1), err
}

// list reads a list header of elements of type elem and returns its length,
// which the bytes left bound (each element takes one at least).
func (fr *footerReader) list(elem byte) (int, error) {
	c, err := fr.r.byte()
	if err != nil {
		return 0, err
	}
	n := uint64(c >> 4)
	if n == 15 {
		if n, err = fr.r.varint(); err != nil {
			return 0, err
		}
	}
	if c&0x0f != elem {
		return 0, fmt.Errorf("list of Thrift type %d, want %d", c&0x0f, elem)
	}
	if n > uint64(len(fr.r.b)-fr.r.pos) {
		return 0, errHeaderEnd
	}
	return int(n), nil
}

// each reads a list field (id, of type typ) of elements of type elem,
// calling read for each element.
func (fr *footerReader) each(id int16, typ, elem byte, read func() error) error {
	if err := want(id, typ, ctList); err != nil {
		return err
	}
	n, err := fr.list(elem)
	if err != nil {
		return err
	}
	for range n {
		if err := read(); err != nil {
			return err
		}
	}
	return nil
}

func (fr *footerReader) fileMetaData() error {
	return fr.fields(0, func(id int16, typ byte) error {
		switch id {
		case fmdSchema:
			if err := want(id, typ, ctList); err != nil {
				return err
			}
			return fr.schema()
		case fmdNumRows:
			if err := want(id, typ, ctI64); err != nil {
				return err
			}
			var err error
			if fr.md.NumRows, err = fr.int(); err == nil && fr.md.NumRows < 0 {
				err = fmt.Errorf("%d rows", fr.md.NumRows)
			}
			return err
		case fmdRowGroups:
			return fr.each(id, typ, ctStruct, fr.rowGroup)
		}
		return fr.r.skip(typ, 1)
	})
}

// schema reads the schema's list of elements, or finds its mapping by its
// bytes among those read before.
func (fr *footerReader) schema() error {
	start := fr.r.pos
	if err := fr.r.skip(ctList, 1); err != nil {
		return err
	}
	raw := fr.r.b[start:fr.r.pos]
	if byCol, ok := fr.schemas[string(raw)]; ok {
		fr.byCol = byCol
		return nil
	}
	fr.r.pos = start
	n, err := fr.list(ctStruct)
	if err != nil {
		return err
	}
	elems := make([]schemaElement, n)
	for i := range elems {
		e := &elems[i]
		err := fr.fields(1, func(id int16, typ byte) error {
			switch id {
			case seType, seRepetition, seNumChildren:
				if err := want(id, typ, ctI32); err != nil {
					return err
				}
				v, err := fr.int()
				if v < 0 || v > 1<<30 {
					return fmt.Errorf("schema element %d: field %d is %d", i, id, v)
				}
				switch id {
				case seType:
					e.typ, e.hasType = format.Type(v), true
				case seRepetition:
					e.rep = format.FieldRepetitionType(v)
				default:
					e.children = int32(v)
				}
				return err
			case seName:
				if err := want(id, typ, ctBinary); err != nil {
					return err
				}
				l, err := fr.r.varint()
				if err != nil {
					return err
				}
				start := fr.r.pos
				if err := fr.r.advance(l); err != nil {
					return err
				}
				e.name = string(fr.r.b[start:fr.r.pos])
				return nil
			}
			return fr.r.skip(typ, 2)
		})
		if err != nil {
			return err
		}
	}
	byCol, err := schemaLeaves(elems)
	if err != nil {
		return err
	}
	if len(fr.schemas) >= maxSchemas || fr.schemas == nil {
		fr.schemas = make(map[string][]fileColumn)
	}
	fr.schemas[string(raw)] = byCol
	fr.byCol = byCol
	return nil
}

// schemaElement is what schemaLeaves needs of a SchemaElement.
type schemaElement struct {
	name     string
	typ      format.Type
	hasType  bool
	rep      format.FieldRepetitionType // Required when absent
	children int32
}

// schemaLeaves maps the leaf columns of the flattened schema elems (its root
// first) to Event's leaves, as fileLeaves does with a parquet-go schema, and
// checks every top-level column is one of Event's, of its type.
func schemaLeaves(elems []schemaElement) ([]fileColumn, error) {
	if len(elems) == 0 {
		return nil, errors.New("empty schema")
	}
	var byCol []fileColumn
	next := 1
	var walk func(path []string, def, rep byte, children int32) error
	walk = func(path []string, def, rep byte, children int32) error {
		for range children {
			if next >= len(elems) {
				return fmt.Errorf("schema's groups declare more children than its %d elements", len(elems))
			}
			e := &elems[next]
			next++
			d, r := def, rep
			switch e.rep {
			case format.Optional:
				d++
			case format.Repeated:
				d, r = d+1, r+1
			}
			p := append(path, e.name)
			if len(p) > 3 {
				return fmt.Errorf("column %s is nested deeper than Event's lists", strings.Join(p, "."))
			}
			top, ok := schemaFields[p[0]]
			if !ok {
				return fmt.Errorf("unknown column %q", p[0])
			}
			if e.children > 0 {
				if len(p) == 1 && top.Leaf() {
					return fmt.Errorf("column %q is a group, want %s", p[0], top.Type())
				}
				if err := walk(p, d, r, e.children); err != nil {
					return err
				}
				continue
			}
			if len(p) == 1 && !top.Leaf() {
				return fmt.Errorf("column %q is a leaf, want a list", p[0])
			}
			l, ok := leafByPath[strings.Join(p, ".")]
			if !ok {
				return fmt.Errorf("column %s is not one of Event's as Vigil's writers lay them out", strings.Join(p, "."))
			}
			c := &leaves[l]
			if !e.hasType || parquet.Kind(e.typ) != c.typ.Kind() {
				return fmt.Errorf("column %s has another physical type than %s", strings.Join(p, "."), c.typ)
			}
			if r != c.maxRep || d > 1 || (c.maxRep > 0 && d != 1) {
				return fmt.Errorf("column %s has levels (%d, %d), which Vigil's writers do not write", strings.Join(p, "."), d, r)
			}
			byCol = append(byCol, fileColumn{leaf: l, maxDef: d})
		}
		return nil
	}
	if err := walk(nil, 0, 0, elems[0].children); err != nil {
		return nil, err
	}
	if next != len(elems) {
		return nil, fmt.Errorf("schema has %d elements, %d of them under its root", len(elems), next)
	}
	return byCol, nil
}

// reuseOne returns s one element longer, the element an earlier footer's (whose
// slices are reused) when s has room.
func reuseOne[T any](s []T) []T {
	if len(s) < cap(s) {
		return s[:len(s)+1]
	}
	var zero T
	return append(s, zero)
}

func (fr *footerReader) rowGroup() error {
	fr.md.RowGroups = reuseOne(fr.md.RowGroups)
	g := len(fr.md.RowGroups) - 1
	rg := &fr.md.RowGroups[g]
	*rg = format.RowGroup{NumRows: -1, Columns: rg.Columns[:0]}
	err := fr.fields(1, func(id int16, typ byte) error {
		switch id {
		case rgColumns:
			return fr.each(id, typ, ctStruct, func() error {
				rg.Columns = reuseOne(rg.Columns)
				return fr.columnChunk(&rg.Columns[len(rg.Columns)-1].MetaData)
			})
		case rgNumRows:
			if err := want(id, typ, ctI64); err != nil {
				return err
			}
			var err error
			rg.NumRows, err = fr.int()
			return err
		}
		return fr.r.skip(typ, 2)
	})
	if err == nil && rg.NumRows < 0 {
		err = fmt.Errorf("row group %d has no row count", g)
	}
	return err
}

func (fr *footerReader) columnChunk(m *format.ColumnMetaData) error {
	*m = format.ColumnMetaData{Encoding: m.Encoding[:0]}
	seen := false
	err := fr.fields(2, func(id int16, typ byte) error {
		if id != ccMetaData {
			return fr.r.skip(typ, 3)
		}
		if err := want(id, typ, ctStruct); err != nil {
			return err
		}
		seen = true
		return fr.fields(3, func(id int16, typ byte) error {
			switch id {
			case cmdEncodings:
				return fr.each(id, typ, ctI32, func() error {
					v, err := fr.int()
					m.Encoding = append(m.Encoding, format.Encoding(v))
					return err
				})
			case cmdCodec, cmdNumValues, cmdCompressedSize, cmdDataPageOffset, cmdDictionaryPageOffs:
				declared := byte(ctI64)
				if id == cmdCodec {
					declared = ctI32
				}
				if err := want(id, typ, declared); err != nil {
					return err
				}
				v, err := fr.int()
				switch id {
				case cmdCodec:
					m.Codec = format.CompressionCodec(v)
				case cmdNumValues:
					m.NumValues = v
				case cmdCompressedSize:
					m.TotalCompressedSize = v
				case cmdDataPageOffset:
					m.DataPageOffset = v
				default:
					m.DictionaryPageOffset = v
				}
				return err
			}
			return fr.r.skip(typ, 4)
		})
	})
	if err == nil && !seen {
		err = errors.New("a column chunk has no metadata")
	}
	return err
}
