package event

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/bits"
	"reflect"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The batches and lake files are written by a columnar writer made for Event
// (this file), not by parquet-go's generic one, which spends most of its time
// per value and per column in code that serves any Go type: for each of the
// 90-odd columns and each row it walks reflection-built functions, looks every
// string up in its dictionary's map and, in lake files, compares it again for
// the page's bounds. The writer here reads each column's field straight from
// the rows, looks a string up in the dictionary only when it is not the one
// (or, for a list, the list) it looked up last at the same place, and
// computes a dictionary page's bounds over its distinct values. The files are
// those parquet-go writes with the same options: the schema, encodings, page
// layout (version 1 pages, levels compressed with the values, a CRC per page),
// statistics, column and offset indexes and size statistics are the same (the
// tests compare them), and parquet-go reads them (Decode).

// leafKind is how a leaf column's values are read from an Event field.
type leafKind uint8

const (
	kindInt32     leafKind = iota // uint16, uint32, int32 field: INT32
	kindInt64                     // int64, uint64 field: INT64
	kindBytes                     // string field: BYTE_ARRAY
	kindBytesList                 // []string field: list of BYTE_ARRAY
	kindInt32List                 // []uint32 field: list of INT32
)

// leafColumn is one leaf column of a schema derived from Event, with what the
// writer needs to fill it.
type leafColumn struct {
	path      []string
	offset    uintptr // of the Event field
	size      uintptr // of a number field: 2, 4 or 8
	kind      leafKind
	unsigned  bool // the values order as unsigned numbers
	optional  bool // a zero value is written as null
	maxDef    byte
	maxRep    byte
	encoding  format.Encoding // of the data pages' values (RLE_DICTIONARY: dictionary-encoded)
	encodings []format.Encoding
	typ       parquet.Type
}

// pageBufferSize is when a column's page is written: parquet-go's default.
const pageBufferSize = parquet.DefaultPageBufferSize * 98 / 100

// columnIndexSizeLimit bounds the bytes of a value in the column index:
// parquet-go's default.
const columnIndexSizeLimit = parquet.DefaultColumnIndexSizeLimit

// leaves are the leaf columns of Event's schema, one per field, in order. A
// field the writer cannot write makes the package panic when it starts.
var leaves = leavesOf(eventSchema)

// leavesOf returns the leaf columns of schema, Event's.
func leavesOf(schema *parquet.Schema) []leafColumn {
	byName := make(map[string]reflect.StructField)
	t := reflect.TypeFor[Event]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("parquet"), ",")
		byName[name] = f
	}
	var out []leafColumn
	for _, path := range schema.Columns() {
		leaf, _ := schema.Lookup(path...)
		f, ok := byName[path[0]]
		if !ok {
			panic(fmt.Sprintf("event: column %s has no Event field", strings.Join(path, ".")))
		}
		node := leaf.Node
		c := leafColumn{path: path, offset: f.Offset, typ: node.Type(), optional: node.Optional(),
			maxDef: byte(leaf.MaxDefinitionLevel), maxRep: byte(leaf.MaxRepetitionLevel)}
		ft := f.Type
		list := ft.Kind() == reflect.Slice
		if list {
			ft = ft.Elem()
		}
		c.size = ft.Size()
		switch k := ft.Kind(); {
		case k == reflect.String && list:
			c.kind = kindBytesList
		case k == reflect.String:
			c.kind = kindBytes
		case k == reflect.Uint32 && list:
			c.kind, c.unsigned = kindInt32List, true
		case !list && (k == reflect.Uint16 || k == reflect.Uint32 || k == reflect.Int32):
			c.kind, c.unsigned = kindInt32, k != reflect.Int32
		case !list && (k == reflect.Uint64 || k == reflect.Int64):
			c.kind, c.unsigned = kindInt64, k == reflect.Uint64
		default:
			panic(fmt.Sprintf("event: field %s of type %s has no column writer", f.Name, f.Type))
		}
		switch {
		case list && (c.maxRep != 1 || c.maxDef != 1 || c.optional):
			panic(fmt.Sprintf("event: list column %s has levels %d/%d, want a required list of required elements", f.Name, c.maxRep, c.maxDef))
		case !list && (c.maxRep != 0 || c.maxDef != byte(btoi(c.optional))):
			panic(fmt.Sprintf("event: column %s has levels %d/%d", f.Name, c.maxRep, c.maxDef))
		}
		c.encoding = format.Plain
		if c.kind == kindBytes || c.kind == kindBytesList {
			c.encoding = format.DeltaLengthByteArray
		}
		if enc := node.Encoding(); enc != nil {
			c.encoding = enc.Encoding()
		}
		switch c.encoding {
		case format.PlainDictionary, format.RLEDictionary:
			c.encoding = format.RLEDictionary
			if c.kind != kindBytes && c.kind != kindBytesList {
				panic(fmt.Sprintf("event: column %s: only strings are dictionary-encoded", f.Name))
			}
			c.encodings = append(c.encodings, format.Plain)
		case format.Plain:
		case format.DeltaBinaryPacked:
			if c.kind != kindInt32 && c.kind != kindInt64 {
				panic(fmt.Sprintf("event: column %s: delta encoding of numbers on strings", f.Name))
			}
		case format.DeltaLengthByteArray, format.DeltaByteArray:
			if c.kind != kindBytes && c.kind != kindBytesList {
				panic(fmt.Sprintf("event: column %s: delta encoding of strings on numbers", f.Name))
			}
		default:
			panic(fmt.Sprintf("event: column %s: encoding %s has no column writer", f.Name, c.encoding))
		}
		if c.maxDef > 0 {
			c.encodings = append(c.encodings, format.RLE)
		}
		c.encodings = append(c.encodings, c.encoding)
		slices.Sort(c.encodings)
		if len(out) >= len(fields) || fields[len(out)].offset != c.offset {
			panic(fmt.Sprintf("event: column %s is not field %d of Event", strings.Join(path, "."), len(out)))
		}
		out = append(out, c)
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dictionary is the values of a dictionary-encoded column chunk, in the order
// they were first seen.
type dictionary struct {
	index  map[string]int32
	values []byte   // the values, one after the other
	ends   []uint32 // the end of each value in values

	// Strings looked up lately, by where their bytes are: an event's strings
	// are shared by every event of its process (and a batch is mostly a few
	// processes), so most lookups find their string here, by its pointer,
	// without hashing or comparing its bytes. Holding the string keeps its
	// bytes from being reused for another.
	recent [64]recentString
	empty  int32 // the index of "", -1 until seen

	seen []uint32 // per value, the page that last used it (page bounds)
}

type recentString struct {
	s   string
	idx int32
}

func newDictionary() *dictionary {
	return &dictionary{index: make(map[string]int32), empty: -1}
}

func (d *dictionary) reset() {
	clear(d.index)
	d.values, d.ends = d.values[:0], d.ends[:0]
	d.recent = [len(d.recent)]recentString{}
	d.empty = -1
	clear(d.seen)
}

func (d *dictionary) len() int { return len(d.ends) }

func (d *dictionary) value(i int32) []byte {
	start := uint32(0)
	if i > 0 {
		start = d.ends[i-1]
	}
	return d.values[start:d.ends[i]]
}

// lookup returns the index of s, adding it if it is new.
func (d *dictionary) lookup(s string) int32 {
	if len(s) == 0 {
		if d.empty < 0 {
			d.empty = d.add(s)
		}
		return d.empty
	}
	p := unsafe.StringData(s)
	r := &d.recent[(uintptr(unsafe.Pointer(p))>>4)%uintptr(len(d.recent))]
	if unsafe.StringData(r.s) == p && len(r.s) == len(s) {
		return r.idx
	}
	idx, ok := d.index[s]
	if !ok {
		idx = d.add(s)
	}
	r.s, r.idx = s, idx
	return idx
}

func (d *dictionary) add(s string) int32 {
	idx := int32(len(d.ends))
	d.values = append(d.values, s...)
	d.ends = append(d.ends, uint32(len(d.values)))
	d.index[strings.Clone(s)] = idx
	return idx
}

// listCache remembers the dictionary indexes of the lists of a list column
// looked up lately, by the address of their elements: every event of a
// process shares its ancestry's and its arguments' lists. An entry holds the
// list it was made for and is used only for a list of the same strings (the
// same string headers): a list changed in place is looked up again.
type listCache struct {
	recent [16]recentList
}

type recentList struct {
	list []string
	idx  []int32
}

// indexes appends the dictionary indexes of list's strings to dst.
func (lc *listCache) indexes(dst []int32, d *dictionary, list []string) []int32 {
	p := unsafe.SliceData(list)
	r := &lc.recent[(uintptr(unsafe.Pointer(p))>>4)%uintptr(len(lc.recent))]
	if unsafe.SliceData(r.list) == p && len(r.list) == len(list) && sameStrings(r.list, list) {
		return append(dst, r.idx...)
	}
	start := len(dst)
	for _, s := range list {
		dst = append(dst, d.lookup(s))
	}
	r.list = append(r.list[:0], list...)
	r.idx = append(r.idx[:0], dst[start:]...)
	return dst
}

func (lc *listCache) reset() { lc.recent = [len(lc.recent)]recentList{} }

// sameStrings reports whether a and b hold the same string headers (so the
// same strings).
func sameStrings(a, b []string) bool {
	for i := range a {
		if unsafe.StringData(a[i]) != unsafe.StringData(b[i]) || len(a[i]) != len(b[i]) {
			return false
		}
	}
	return true
}

// columnChunk is one column of a row group being written: the page being
// filled, then the pages written, compressed, and what the footer and the page
// index say of them.
type columnChunk struct {
	leaf *leafColumn

	// the page being filled
	reps, defs []byte
	i32        []int32
	i64        []int64
	data       []byte   // byte arrays, one after the other
	ends       []uint32 // the end of each byte array in data
	idx        []int32  // dictionary indexes
	lo, hi     string   // bounds of the strings in data (with statistics)
	pageRows   int

	dict  *dictionary
	lists listCache

	// the pages written (headers and compressed bodies), and what they add up to
	pages        []byte
	dictLen      int // the dictionary page's bytes, at the end of pages once finished
	rows         int64
	numValues    int64
	nulls        int64
	uncompressed int64
	dataPages    int32
	locations    []format.PageLocation // offsets from the first data page

	// lake files only: bounds, the page index and the size statistics
	indexer        parquet.ColumnIndexer
	min, max       parquet.Value // of the chunk
	repHist        []int64
	defHist        []int64
	pageRepHists   []int64
	pageDefHists   []int64
	unencodedBytes int64
}

func newColumnChunk(leaf *leafColumn, stats bool) *columnChunk {
	c := &columnChunk{leaf: leaf}
	if leaf.encoding == format.RLEDictionary {
		c.dict = newDictionary()
	}
	if stats {
		c.indexer = leaf.typ.NewColumnIndexer(columnIndexSizeLimit)
		if leaf.maxRep > 0 {
			c.repHist = make([]int64, leaf.maxRep+1)
		}
		if leaf.maxDef > 0 {
			c.defHist = make([]int64, leaf.maxDef+1)
		}
	}
	return c
}

// reset empties the chunk for the next row group, keeping its buffers.
func (c *columnChunk) reset() {
	c.resetPage()
	if c.dict != nil {
		c.dict.reset()
	}
	c.lists.reset()
	c.pages, c.dictLen = c.pages[:0], 0
	c.rows, c.numValues, c.nulls, c.uncompressed, c.dataPages = 0, 0, 0, 0, 0
	c.locations = c.locations[:0]
	if c.indexer != nil {
		c.indexer.Reset()
		c.min, c.max = parquet.Value{}, parquet.Value{}
		clear(c.repHist)
		clear(c.defHist)
		c.pageRepHists, c.pageDefHists = c.pageRepHists[:0], c.pageDefHists[:0]
		c.unencodedBytes = 0
	}
}

func (c *columnChunk) resetPage() {
	c.reps, c.defs = c.reps[:0], c.defs[:0]
	c.i32, c.i64 = c.i32[:0], c.i64[:0]
	c.data, c.ends = c.data[:0], c.ends[:0]
	c.idx = c.idx[:0]
	c.lo, c.hi = "", ""
	c.pageRows = 0
}

// pageSize is the size of the page being filled, as its values take it
// unencoded.
func (c *columnChunk) pageSize() int {
	return len(c.reps) + len(c.defs) + 4*len(c.i32) + 8*len(c.i64) + len(c.data) + 4*len(c.ends) + 4*len(c.idx)
}

// write appends the column's values of rows to the page being filled. The
// loops keep the slices they fill in local variables, sized beforehand: an
// append to a field through c would store its length back on every value.
func (c *columnChunk) write(rows []Event) {
	l := c.leaf
	stride := unsafe.Sizeof(Event{})
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(rows)), l.offset)
	n := uintptr(len(rows))
	c.pageRows += len(rows)
	switch l.kind {
	case kindInt32:
		vals, defs := slices.Grow(c.i32, len(rows)), c.defs
		for i := range n {
			p := unsafe.Add(base, i*stride)
			v := *(*int32)(p)
			if l.size == 2 {
				v = int32(*(*uint16)(p))
			}
			vals, defs = appendNumber(vals, defs, l.optional, v)
		}
		c.i32, c.defs = vals, defs
	case kindInt64:
		vals, defs := slices.Grow(c.i64, len(rows)), c.defs
		for i := range n {
			vals, defs = appendNumber(vals, defs, l.optional, *(*int64)(unsafe.Add(base, i*stride)))
		}
		c.i64, c.defs = vals, defs
	case kindBytes:
		if l.optional {
			for i := range n {
				s := *(*string)(unsafe.Add(base, i*stride))
				if c.defs = append(c.defs, byte(btoi(s != ""))); s != "" {
					c.appendStrings(unsafe.Slice(&s, 1))
				}
			}
			return
		}
		if c.dict != nil {
			c.idx = c.dict.appendIndexes(slices.Grow(c.idx, len(rows)), base, stride, n)
			return
		}
		data, ends, stats := c.data, slices.Grow(c.ends, len(rows)), c.indexer != nil
		var prev string
		for i := range n {
			s := *(*string)(unsafe.Add(base, i*stride))
			data = append(data, s...)
			ends = append(ends, uint32(len(data)))
			if stats && (unsafe.StringData(s) != unsafe.StringData(prev) || len(s) != len(prev) || len(ends) == 1) {
				c.bound(s, len(ends) == 1)
			}
			prev = s
		}
		c.data, c.ends = data, ends
	case kindBytesList:
		var prev []string // the previous row's, whose indexes end c.idx
		for i := range n {
			list := *(*[]string)(unsafe.Add(base, i*stride))
			c.appendLevels(len(list))
			switch {
			case len(list) == 0:
			case c.dict == nil:
				c.appendStrings(list)
			case unsafe.SliceData(list) == unsafe.SliceData(prev) && len(list) == len(prev):
				// The rows are written together: a list shared with the
				// previous row holds the same strings.
				c.idx = append(c.idx, c.idx[len(c.idx)-len(list):]...)
			default:
				c.idx = c.lists.indexes(c.idx, c.dict, list)
			}
			prev = list
		}
	case kindInt32List:
		for i := range n {
			list := *(*[]uint32)(unsafe.Add(base, i*stride))
			c.appendLevels(len(list))
			for _, v := range list {
				c.i32 = append(c.i32, int32(v))
			}
		}
	}
}

// appendNumber appends v to vals; in an optional column a zero is a null: a
// definition level of 0 in defs, and no value.
func appendNumber[T int32 | int64](vals []T, defs []byte, optional bool, v T) ([]T, []byte) {
	if optional {
		if defs = append(defs, byte(btoi(v != 0))); v == 0 {
			return vals, defs
		}
	}
	return append(vals, v), defs
}

// writeZeros appends n rows of zeros (empty strings and lists; nulls in an
// optional column), writing the pages that fill up.
func (c *columnChunk) writeZeros(n int64, codec *zstdCodec, s *pageScratch) error {
	l := c.leaf
	for n > 0 {
		k := int(min(n, pageBufferSize/8+1)) // a page's worth, at most 8 bytes a row
		n -= int64(k)
		c.pageRows += k
		switch {
		case l.optional:
			c.defs = appendZeros(c.defs, k)
		case l.kind == kindBytesList || l.kind == kindInt32List:
			c.reps, c.defs = appendZeros(c.reps, k), appendZeros(c.defs, k)
		case l.kind == kindInt32:
			c.i32 = appendZeros(c.i32, k)
		case l.kind == kindInt64:
			c.i64 = appendZeros(c.i64, k)
		case c.dict != nil:
			c.idx = appendZeros(c.idx, k)
			empty := c.dict.lookup("")
			for i := range c.idx[len(c.idx)-k:] {
				c.idx[len(c.idx)-k+i] = empty
			}
		default:
			if c.indexer != nil {
				c.bound("", len(c.ends) == 0)
			}
			c.ends = appendZeros(c.ends, k)
			for i := range c.ends[len(c.ends)-k:] {
				c.ends[len(c.ends)-k+i] = uint32(len(c.data))
			}
		}
		if c.pageSize() >= pageBufferSize {
			if err := c.flushPage(codec, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// appendZeros appends n zero values to s.
func appendZeros[T any](s []T, n int) []T {
	s = slices.Grow(s, n)
	s = s[:len(s)+n]
	clear(s[len(s)-n:])
	return s
}

// appendStrings appends strings to the page's values; with statistics, the
// page's bounds follow them.
func (c *columnChunk) appendStrings(strs []string) {
	if c.dict != nil {
		for _, s := range strs {
			c.idx = append(c.idx, c.dict.lookup(s))
		}
		return
	}
	for _, s := range strs {
		c.data = append(c.data, s...)
		c.ends = append(c.ends, uint32(len(c.data)))
		if c.indexer != nil {
			c.bound(s, len(c.ends) == 1)
		}
	}
}

// bound makes s one of the bounds of the page's strings if it is beyond them,
// or if it is the page's first.
func (c *columnChunk) bound(s string, first bool) {
	switch {
	case first:
		c.lo, c.hi = s, s
	case s < c.lo:
		c.lo = s
	case s > c.hi:
		c.hi = s
	}
}

// appendLevels appends the levels of a list of n elements (a required list of
// required elements).
func (c *columnChunk) appendLevels(n int) {
	c.reps = append(c.reps, 0)
	c.defs = append(c.defs, byte(btoi(n > 0)))
	for range n - 1 {
		c.reps = append(c.reps, 1)
		c.defs = append(c.defs, 1)
	}
}

// appendIndexes appends the indexes of the strings at base, base+stride, ...
// (n of them) to dst.
func (d *dictionary) appendIndexes(dst []int32, base unsafe.Pointer, stride, n uintptr) []int32 {
	var prev string
	for i := range n {
		s := *(*string)(unsafe.Add(base, i*stride))
		if i > 0 && unsafe.StringData(s) == unsafe.StringData(prev) && len(s) == len(prev) {
			dst = append(dst, dst[len(dst)-1]) // the previous row's string
			continue
		}
		prev = s
		dst = append(dst, d.lookup(s))
	}
	return dst
}

// pageScratch holds what writing a page needs for a moment, shared by the
// columns of a writer.
type pageScratch struct {
	levels  []byte
	values  []byte
	body    []byte
	zipped  []byte
	offsets []uint32
	header  bytes.Buffer
	enc     *thrift.Encoder
	proto   thrift.CompactProtocol
	hdr     format.PageHeader
}

func newPageScratch() *pageScratch {
	s := &pageScratch{}
	s.enc = thrift.NewEncoder(s.proto.NewWriter(&s.header))
	return s
}

// flushPage encodes, compresses and appends the page being filled to the
// chunk's pages, with the page's bounds and levels in the chunk's statistics
// when it keeps them.
func (c *columnChunk) flushPage(codec *zstdCodec, s *pageScratch) error {
	l := c.leaf
	numValues := len(c.defs)
	if l.maxDef == 0 {
		numValues = c.pageRows
	}
	if numValues == 0 {
		return nil
	}
	var err error
	s.body = s.body[:0]
	for _, lv := range [...]struct {
		levels []byte
		max    byte
	}{{c.reps, l.maxRep}, {c.defs, l.maxDef}} {
		if lv.max == 0 {
			continue
		}
		enc := rle.Encoding{BitWidth: bits.Len8(lv.max)}
		if s.levels, err = enc.EncodeLevels(s.levels, lv.levels); err != nil {
			return fmt.Errorf("column %s: levels: %w", c.name(), err)
		}
		s.body = binary.LittleEndian.AppendUint32(s.body, uint32(len(s.levels)))
		s.body = append(s.body, s.levels...)
	}
	if s.values, err = c.encodeValues(s); err != nil {
		return fmt.Errorf("column %s: %w", c.name(), err)
	}
	s.body = append(s.body, s.values...)
	nulls := len(c.defs) - countOnes(c.defs) // levels are 0 or 1
	if err := c.appendPage(codec, s, format.DataPage, numValues); err != nil {
		return err
	}
	if c.indexer != nil {
		c.pageStatistics(numValues, nulls)
	}
	c.numValues += int64(numValues)
	c.nulls += int64(nulls)
	c.rows += int64(c.pageRows)
	c.resetPage()
	return nil
}

// appendPage compresses s.body and appends it to the chunk's pages with its
// header: a data page of numValues values, or the dictionary page.
func (c *columnChunk) appendPage(codec *zstdCodec, s *pageScratch, typ format.PageType, numValues int) error {
	var err error
	if codec == nil {
		s.zipped = append(s.zipped[:0], s.body...)
	} else if s.zipped, err = codec.Encode(s.zipped, s.body); err != nil {
		return fmt.Errorf("column %s: compress page: %w", c.name(), err)
	}
	s.hdr = format.PageHeader{Type: typ, UncompressedPageSize: int32(len(s.body)),
		CompressedPageSize: int32(len(s.zipped)), CRC: int32(crc32.ChecksumIEEE(s.zipped))}
	if typ == format.DataPage {
		s.hdr.DataPageHeader = thrift.New(format.DataPageHeader{NumValues: int32(numValues), Encoding: c.leaf.encoding,
			DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE})
	} else {
		s.hdr.DictionaryPageHeader = thrift.New(format.DictionaryPageHeader{NumValues: int32(numValues), Encoding: format.Plain})
	}
	s.header.Reset()
	if err := s.enc.Encode(&s.hdr); err != nil {
		return fmt.Errorf("column %s: page header: %w", c.name(), err)
	}
	if typ == format.DataPage {
		c.locations = append(c.locations, format.PageLocation{Offset: int64(len(c.pages)),
			CompressedPageSize: int32(s.header.Len() + len(s.zipped)), FirstRowIndex: c.rows})
		c.dataPages++
	}
	c.pages = append(c.pages, s.header.Bytes()...)
	c.pages = append(c.pages, s.zipped...)
	c.uncompressed += int64(s.header.Len() + len(s.body))
	return nil
}

func (c *columnChunk) name() string { return strings.Join(c.leaf.path, ".") }

// encodeValues returns the page's values in the column's encoding.
func (c *columnChunk) encodeValues(s *pageScratch) ([]byte, error) {
	out := s.values[:0]
	switch c.leaf.encoding {
	case format.RLEDictionary:
		return (&rle.DictionaryEncoding{}).EncodeInt32(out, c.idx)
	case format.DeltaBinaryPacked:
		if c.leaf.kind == kindInt64 {
			return (&delta.BinaryPackedEncoding{}).EncodeInt64(out, c.i64)
		}
		return (&delta.BinaryPackedEncoding{}).EncodeInt32(out, c.i32)
	case format.DeltaLengthByteArray, format.DeltaByteArray:
		s.offsets = append(append(s.offsets[:0], 0), c.ends...)
		if c.leaf.encoding == format.DeltaByteArray {
			return (&delta.ByteArrayEncoding{}).EncodeByteArray(out, c.data, s.offsets)
		}
		return (&delta.LengthByteArrayEncoding{}).EncodeByteArray(out, c.data, s.offsets)
	}
	// PLAIN numbers: little-endian, as they lie in memory on the platforms
	// the sensor runs on.
	for _, v := range c.i32 {
		out = binary.LittleEndian.AppendUint32(out, uint32(v))
	}
	for _, v := range c.i64 {
		out = binary.LittleEndian.AppendUint64(out, uint64(v))
	}
	return out, nil
}

// pageStatistics adds the page just written to the column index, the
// chunk's bounds and the level histograms.
func (c *columnChunk) pageStatistics(numValues, nulls int) {
	l := c.leaf
	lo, hi, ok := c.pageBounds()
	c.indexer.IndexPage(int64(numValues), int64(nulls), lo, hi)
	if ok {
		if c.min.IsNull() || l.typ.Compare(lo, c.min) < 0 {
			c.min = lo.Clone()
		}
		if c.max.IsNull() || l.typ.Compare(hi, c.max) > 0 {
			c.max = hi.Clone()
		}
	}
	if l.maxRep > 0 {
		c.pageRepHists = appendHistogram(c.pageRepHists, c.repHist, c.reps)
	}
	if l.maxDef > 0 {
		c.pageDefHists = appendHistogram(c.pageDefHists, c.defHist, c.defs)
	}
	if c.dict == nil && (l.kind == kindBytes || l.kind == kindBytesList) {
		c.unencodedBytes += int64(len(c.data))
	}
}

// appendHistogram appends the histogram of a page's levels (0 or 1: the
// writer's columns are a level deep) to pages, and adds it to chunk.
func appendHistogram(pages, chunk []int64, levels []byte) []int64 {
	ones := int64(countOnes(levels))
	pages = append(pages, int64(len(levels))-ones, ones)
	chunk[0] += int64(len(levels)) - ones
	chunk[1] += ones
	return pages
}

// countOnes returns how many of levels (each 0 or 1) are 1.
func countOnes(levels []byte) int {
	n := 0
	for len(levels) >= 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64(levels))
		levels = levels[8:]
	}
	for _, lv := range levels {
		n += int(lv)
	}
	return n
}

// pageBounds returns the least and greatest value of the page being written;
// false if it has none (all null).
func (c *columnChunk) pageBounds() (lo, hi parquet.Value, ok bool) {
	l := c.leaf
	switch {
	case c.dict != nil:
		if len(c.idx) == 0 {
			return lo, hi, false
		}
		d := c.dict
		if len(d.seen) < d.len() {
			d.seen = append(d.seen, make([]uint32, d.len()-len(d.seen))...)
		}
		page := uint32(c.dataPages) // pages are numbered from 1 once written
		min, max := d.value(c.idx[0]), d.value(c.idx[0])
		for _, i := range c.idx {
			if d.seen[i] == page {
				continue
			}
			d.seen[i] = page
			v := d.value(i)
			if bytes.Compare(v, min) < 0 {
				min = v
			}
			if bytes.Compare(v, max) > 0 {
				max = v
			}
		}
		return parquet.ByteArrayValue(min), parquet.ByteArrayValue(max), true
	case l.kind == kindBytes || l.kind == kindBytesList:
		if len(c.ends) == 0 {
			return lo, hi, false
		}
		return parquet.ByteArrayValue([]byte(c.lo)), parquet.ByteArrayValue([]byte(c.hi)), true
	case len(c.i32) > 0 && l.unsigned:
		min, max := bounds(unsafe.Slice((*uint32)(unsafe.Pointer(&c.i32[0])), len(c.i32)))
		return parquet.Int32Value(int32(min)), parquet.Int32Value(int32(max)), true
	case len(c.i32) > 0:
		min, max := bounds(c.i32)
		return parquet.Int32Value(min), parquet.Int32Value(max), true
	case len(c.i64) > 0 && l.unsigned:
		min, max := bounds(unsafe.Slice((*uint64)(unsafe.Pointer(&c.i64[0])), len(c.i64)))
		return parquet.Int64Value(int64(min)), parquet.Int64Value(int64(max)), true
	case len(c.i64) > 0:
		min, max := bounds(c.i64)
		return parquet.Int64Value(min), parquet.Int64Value(max), true
	}
	return lo, hi, false
}

// bounds returns the least and greatest of vals, which is not empty.
func bounds[T int32 | uint32 | int64 | uint64](vals []T) (T, T) {
	lo, hi := vals[0], vals[0]
	for _, v := range vals[1:] {
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi
}

// finish writes the chunk's last page and its dictionary page, which is kept
// after the data pages (dictLen bytes) and goes before them in the file.
func (c *columnChunk) finish(codec *zstdCodec, s *pageScratch) error {
	if err := c.flushPage(codec, s); err != nil {
		return err
	}
	if c.dict == nil {
		return nil
	}
	s.body = s.body[:0]
	for i := range int32(c.dict.len()) {
		v := c.dict.value(i)
		s.body = binary.LittleEndian.AppendUint32(s.body, uint32(len(v)))
		s.body = append(s.body, v...)
	}
	start := len(c.pages)
	if err := c.appendPage(codec, s, format.DictionaryPage, c.dict.len()); err != nil {
		return err
	}
	c.dictLen = len(c.pages) - start
	return nil
}

// chunkPages returns the dictionary page (nil if none) and the data pages.
func (c *columnChunk) chunkPages() (dict, data []byte) {
	n := len(c.pages) - c.dictLen
	return c.pages[n:], c.pages[:n]
}

// rowGroupWriter writes Event rows as a Parquet file of one row group: of
// every column of Event (lake files), or of those that hold a value that is
// not zero (stream batches, see columns.go).
type rowGroupWriter struct {
	chunks  []*columnChunk // one per field of Event, in order
	stats   bool           // bounds, the page index and size statistics (lake files)
	prune   bool           // leave out the columns of zeros
	cols    columnSet      // the columns written
	active  []*columnChunk // their chunks
	unused  []uint8        // the fields of the other columns
	probe   []probeWord    // where a row holds the unused fields (prune)
	codec   *zstdCodec
	scratch *pageScratch
	rows    int64

	skeletons map[columnSet]*format.FileMetaData // of files without rows, by their columns
	footer    bytes.Buffer
}

// newRowGroupWriter returns a writer of files that keep statistics (stats)
// or leave out the columns of zeros (prune), compressed with codec (nil:
// not compressed).
func newRowGroupWriter(codec *zstdCodec, stats, prune bool) *rowGroupWriter {
	w := &rowGroupWriter{stats: stats, prune: prune, codec: codec, scratch: newPageScratch(),
		skeletons: map[columnSet]*format.FileMetaData{}}
	for i := range leaves {
		w.chunks = append(w.chunks, newColumnChunk(&leaves[i], stats))
	}
	w.reset()
	return w
}

// emptyFile returns the footer of a file of schema without rows as
// parquet-go writes it: its schema, column orders and creator are the
// writer's.
func emptyFile(schema *parquet.Schema) *format.FileMetaData {
	var buf bytes.Buffer
	w := parquet.NewWriter(&buf, schema, createdBy)
	if err := w.Close(); err != nil {
		panic(fmt.Sprintf("event: write an empty file of the schema: %v", err))
	}
	md, err := footerOf(buf.Bytes())
	if err != nil {
		panic(fmt.Sprintf("event: read the footer of an empty file of the schema: %v", err))
	}
	return md
}

var createdBy = parquet.CreatedBy("vigil", "", "")

// footerOf decodes the footer of a Parquet file.
func footerOf(data []byte) (*format.FileMetaData, error) {
	if len(data) < 12 {
		return nil, fmt.Errorf("%d bytes is too short for a Parquet file", len(data))
	}
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	start := len(data) - 8 - n
	if start < 4 {
		return nil, fmt.Errorf("footer of %d bytes in %d", n, len(data))
	}
	var md format.FileMetaData
	if err := thrift.Unmarshal(&thrift.CompactProtocol{}, data[start:len(data)-8], &md); err != nil {
		return nil, err
	}
	return &md, nil
}

// writeBlock is how many rows the columns are written for at a time: an Event
// is over a kilobyte, and each column reads one field of every row, so the
// rows are read a block at a time, while they lie in the CPU's cache.
var writeBlock = 32

// write appends rows to the row group, writing the pages that fill up.
func (w *rowGroupWriter) write(rows []Event) error {
	for off := 0; off < len(rows); off += writeBlock {
		block := rows[off:min(off+writeBlock, len(rows))]
		if err := w.findUsed(block, w.rows+int64(off)); err != nil {
			return err
		}
		for _, c := range w.active {
			c.write(block)
		}
	}
	for _, c := range w.active {
		if c.pageSize() >= pageBufferSize {
			if err := c.flushPage(w.codec, w.scratch); err != nil {
				return err
			}
		}
	}
	w.rows += int64(len(rows))
	return nil
}

// findUsed adds to the columns written those that hold a value that is not
// zero in block, the rows from row on; the rows before are zeros for them.
// Columns of zeros cost nothing until then: a file of one kind of activity
// leaves most of the 90-odd columns so. A row is first tested whole, by
// or-ing the words of the columns not written (w.probe); only a row in which
// one of them is not zero is tested field by field.
func (w *rowGroupWriter) findUsed(block []Event, row int64) error {
	for j := range block {
		p := unsafe.Pointer(&block[j])
		var any uint64
		for _, pw := range w.probe {
			any |= *(*uint64)(unsafe.Add(p, pw.offset)) & pw.mask
		}
		if any == 0 {
			continue
		}
		for k := 0; k < len(w.unused); {
			i := w.unused[k]
			if fields[i].zero(p) {
				k++
				continue
			}
			w.unused[k] = w.unused[len(w.unused)-1]
			w.unused = w.unused[:len(w.unused)-1]
			if err := w.use(int(i), row); err != nil {
				return err
			}
		}
		w.probe = probeWords(w.probe[:0], w.unused)
	}
	return nil
}

// probeWord is an aligned word of an Event, and the bytes of it that hold
// fields (their values, or their lengths) a row is tested for.
type probeWord struct {
	offset uintptr
	mask   uint64
}

// probeWords appends to dst the words that hold the values or lengths of the
// fields unused, in order, each once. Event's fields are aligned: each one's
// value or length lies within one word.
func probeWords(dst []probeWord, unused []uint8) []probeWord {
	for _, i := range unused {
		f := fields[i]
		off, size := f.offset, uintptr(8)
		switch f.kind {
		case lengthField:
			off += unsafe.Sizeof(uintptr(0)) // the length after the data pointer
		case word16:
			size = 2
		case word32:
			size = 4
		}
		word := off &^ 7
		mask := ^uint64(0) >> (64 - 8*size) << (8 * (off - word)) // little-endian
		if k := slices.IndexFunc(dst, func(pw probeWord) bool { return pw.offset == word }); k >= 0 {
			dst[k].mask |= mask
		} else {
			dst = append(dst, probeWord{word, mask})
		}
	}
	slices.SortFunc(dst, func(a, b probeWord) int { return int(a.offset) - int(b.offset) })
	return dst
}

// use adds the column of field i to the columns written, after rows zeros.
func (w *rowGroupWriter) use(i int, rows int64) error {
	w.cols.add(i)
	w.active = append(w.active, w.chunks[i])
	return w.chunks[i].writeZeros(rows, w.codec, w.scratch)
}

// close appends the file to out and resets the writer for the next one.
func (w *rowGroupWriter) close(out *bytes.Buffer) error {
	defer w.reset()
	out.WriteString("PAR1")
	if !w.prune {
		// every column: those of zeros all along are written now
		for _, i := range w.unused {
			if err := w.use(int(i), w.rows); err != nil {
				return err
			}
		}
		w.unused = w.unused[:0]
	}
	cols := w.cols
	md := *w.skeleton(cols)
	if w.rows > 0 {
		for i, c := range w.chunks {
			if !cols.has(i) {
				continue
			}
			if err := c.finish(w.codec, w.scratch); err != nil {
				return err
			}
		}
		rg := format.RowGroup{NumRows: w.rows, SortingColumns: []format.SortingColumn{}, FileOffset: int64(out.Len())}
		var indexes []format.ColumnIndex
		var offsets []format.OffsetIndex
		for i, c := range w.chunks {
			if !cols.has(i) {
				continue
			}
			dict, data := c.chunkPages()
			cc := c.metadata(int64(out.Len()), w.stats)
			if w.codec == nil {
				cc.MetaData.Codec = format.Uncompressed
			}
			out.Write(dict)
			out.Write(data)
			rg.TotalByteSize += cc.MetaData.TotalUncompressedSize
			rg.TotalCompressedSize += cc.MetaData.TotalCompressedSize
			rg.Columns = append(rg.Columns, cc)
			if w.stats {
				indexes = append(indexes, c.columnIndex())
				offsets = append(offsets, c.offsetIndex(cc.MetaData.DataPageOffset))
			}
		}
		if w.stats {
			if err := w.writePageIndex(out, rg.Columns, indexes, offsets); err != nil {
				return err
			}
		}
		md.NumRows = w.rows
		md.RowGroups = []format.RowGroup{rg}
	}
	w.footer.Reset()
	if err := w.encodeFooter(&w.footer, &md); err != nil {
		return err
	}
	out.Write(w.footer.Bytes())
	out.Write(binary.LittleEndian.AppendUint32(nil, uint32(w.footer.Len())))
	out.WriteString("PAR1")
	return nil
}

func (w *rowGroupWriter) encodeFooter(out *bytes.Buffer, md *format.FileMetaData) error {
	if err := thrift.NewEncoder(w.scratch.proto.NewWriter(out)).Encode(md); err != nil {
		return fmt.Errorf("write footer: %w", err)
	}
	return nil
}

// writePageIndex appends the column indexes, then the offset indexes, and
// sets where they are in the column chunks.
func (w *rowGroupWriter) writePageIndex(out *bytes.Buffer, cols []format.ColumnChunk, indexes []format.ColumnIndex, offsets []format.OffsetIndex) error {
	enc := thrift.NewEncoder(w.scratch.proto.NewWriter(out))
	for i := range cols {
		start := out.Len()
		if err := enc.Encode(&indexes[i]); err != nil {
			return fmt.Errorf("write column index: %w", err)
		}
		cols[i].ColumnIndexOffset, cols[i].ColumnIndexLength = int64(start), int32(out.Len()-start)
	}
	for i := range cols {
		start := out.Len()
		if err := enc.Encode(&offsets[i]); err != nil {
			return fmt.Errorf("write offset index: %w", err)
		}
		cols[i].OffsetIndexOffset, cols[i].OffsetIndexLength = int64(start), int32(out.Len()-start)
	}
	return nil
}

func (w *rowGroupWriter) reset() {
	for _, c := range w.active {
		c.reset()
	}
	w.cols, w.active, w.unused = batchAlways, w.active[:0], w.unused[:0]
	for i, c := range w.chunks {
		if batchAlways.has(i) {
			w.active = append(w.active, c)
		} else {
			w.unused = append(w.unused, uint8(i))
		}
	}
	w.probe = probeWords(w.probe[:0], w.unused)
	w.rows = 0
}

// metadata returns the chunk's metadata for a file in which it starts at
// offset (with its dictionary page, if dictionary-encoded).
func (c *columnChunk) metadata(offset int64, stats bool) format.ColumnChunk {
	l := c.leaf
	dictPage, _ := c.chunkPages()
	m := format.ColumnMetaData{Type: format.Type(l.typ.Kind()), Encoding: l.encodings, PathInSchema: l.path,
		Codec: format.Zstd, NumValues: c.numValues, DataPageOffset: offset,
		TotalUncompressedSize: c.uncompressed, TotalCompressedSize: int64(len(c.pages)),
		Statistics: format.Statistics{NullCount: c.nulls}}
	if c.dataPages > 0 {
		m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DataPage, Encoding: l.encoding, Count: c.dataPages})
	}
	if c.dict != nil {
		m.DictionaryPageOffset = offset
		m.DataPageOffset = offset + int64(len(dictPage))
		m.EncodingStats = append(m.EncodingStats, format.PageEncodingStats{PageType: format.DictionaryPage, Encoding: format.Plain, Count: 1})
	}
	if stats {
		if !c.min.IsNull() {
			m.Statistics.MinValue = c.min.AppendBytes(make([]byte, 0, 8))
			m.Statistics.MaxValue = c.max.AppendBytes(make([]byte, 0, 8))
		}
		m.SizeStatistics = format.SizeStatistics{UnencodedByteArrayDataBytes: c.unencodedBytes,
			RepetitionLevelHistogram: slices.Clone(c.repHist), DefinitionLevelHistogram: slices.Clone(c.defHist)}
	}
	return format.ColumnChunk{MetaData: m}
}

func (c *columnChunk) columnIndex() format.ColumnIndex {
	ci := c.indexer.ColumnIndex()
	ci.RepetitionLevelHistogram = slices.Clone(c.pageRepHists)
	ci.DefinitionLevelHistogram = slices.Clone(c.pageDefHists)
	return ci
}

// offsetIndex returns the chunk's offset index, its data pages starting at
// dataOffset in the file.
func (c *columnChunk) offsetIndex(dataOffset int64) format.OffsetIndex {
	locs := slices.Clone(c.locations)
	for i := range locs {
		locs[i].Offset += dataOffset
	}
	return format.OffsetIndex{PageLocations: locs}
}
