package event

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unsafe"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
	"github.com/parquet-go/parquet-go/format"
)

// Batches are read column by column (this file): each column chunk's pages are
// decoded by parquet-go into its pooled page buffers, and the values go from
// there straight into the fields of the events, by the leaf columns' offsets
// (columnar.go). Nothing is allocated per row: a page of plain strings becomes
// one Go string that its rows' values are substrings of, a dictionary's values
// become strings once per column chunk, and the elements of a list column share
// one backing array per column chunk. parquet-go's generic row reader, which
// builds every row through reflection-made functions and allocates its
// strings one by one, reads what this reader does not: files whose columns
// are laid out otherwise than Event's (another writer's lists).

// Decoder decodes batches into events it keeps, reusing them from one batch
// to the next: a field is cleared only when the last batches may have set it
// and the next one does not hold its column. It is not safe for concurrent
// use.
type Decoder struct {
	events []Event
	// dirty marks the leaves whose field may be set in events[:hw], the
	// rows the decoder has written since it made events
	dirty []bool
	hw    int
	cols  columnScratch
	// the projection (Project): the columns Decode reads when projected
	only      columnSet
	projected bool
	last      lastBatch // for Complete
	foot      footerReader
	present   []bool // of each leaf, whether the last batch's column is read
}

// lastBatch is what Complete needs of the last batch Decode read.
type lastBatch struct {
	data  []byte
	md    *format.FileMetaData
	f     *parquet.File // nil: read by the stream decoder
	byCol []fileColumn
	evs   []Event
	done  bool // every column is read
}

// NewDecoder returns a Decoder with no events.
func NewDecoder() *Decoder { return &Decoder{dirty: make([]bool, len(leaves))} }

// NewStreamDecoder returns a Decoder for batches from hosts an attacker may
// own (the detect function's): it reads only files laid out as Vigil's
// writers lay them out — version 1 data pages and dictionary pages,
// uncompressed or zstd, in the encodings of Event's columns — whose levels
// and values it checks before they are decoded (bounds.go), and refuses
// others. parquet-go's page and row readers, which read the others, size
// what they allocate by counts a few crafted bytes can set to billions.
func NewStreamDecoder() *Decoder {
	d := NewDecoder()
	d.cols.strict = true
	return d
}

// Decode reads the Parquet batch data as the package's Decode does and
// returns its events, which stay valid until the next call: their strings
// and lists are not reused, the events themselves are.
func (d *Decoder) Decode(data []byte, maxRows int64) (out []Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: malformed file: %v", ErrNotParquet, r)
		}
	}()
	d.last = lastBatch{done: true}
	if d.cols.strict {
		return d.decodeStream(data, maxRows)
	}
	f, err := openChecked(data, maxRows)
	if err != nil {
		return nil, err
	}
	evs := d.rows(int(f.NumRows()))
	byCol, columnar := fileLeaves(f.Schema())
	if !columnar {
		clear(d.events[:d.hw])
		for l := range d.dirty {
			d.dirty[l] = true // whatever the generic reader set
		}
		return readRowGroups(evs[:0], f)
	}
	return d.read(evs, data, f.Metadata(), f, byCol)
}

// decodeStream is Decode of a stream decoder: the footer is read by its
// footerReader, and only Vigil's layouts are read.
func (d *Decoder) decodeStream(data []byte, maxRows int64) ([]Event, error) {
	if err := d.foot.read(data); err != nil {
		return nil, err
	}
	md := &d.foot.md
	if err := checkPages(md, data); err != nil {
		return nil, err
	}
	if err := checkRows(md, maxRows); err != nil {
		return nil, err
	}
	return d.read(d.rows(int(md.NumRows)), data, md, nil, d.foot.byCol)
}

// rows returns the decoder's first n events, made anew when it has fewer.
func (d *Decoder) rows(n int) []Event {
	if cap(d.events) < n {
		d.events = make([]Event, n)
		clear(d.dirty)
		d.hw = 0
	}
	d.hw = max(d.hw, n)
	return d.events[:n]
}

// read reads the columns the decoder wants of the file data, of footer md,
// into evs, clearing the fields of the columns it does not read; f, when
// not nil, reads the pages the decoder's own reader does not.
func (d *Decoder) read(evs []Event, data []byte, md *format.FileMetaData, f *parquet.File, byCol []fileColumn) ([]Event, error) {
	present := d.present[:0]
	present = append(present, make([]bool, len(leaves))...)
	d.present = present
	for _, m := range byCol {
		present[m.leaf] = d.wants(m.leaf)
	}
	for l := range leaves {
		if d.dirty[l] && !present[l] {
			leaves[l].zero(d.events[:d.hw])
		}
		d.dirty[l] = present[l]
	}
	if err := d.cols.readFile(evs, data, md, f, byCol, d.wants); err != nil {
		return nil, err
	}
	d.last = lastBatch{data: data, md: md, f: f, byCol: byCol, evs: evs, done: !d.projected}
	return evs, nil
}

// Decode reads a Parquet batch produced by an Encoder (or any Parquet file with a
// compatible schema) and appends its rows to dst. Input is untrusted: malformed bytes
// give an error wrapping ErrNotParquet, never a panic. Files declaring more than
// maxRows rows (maxRows ≤ 0 means no limit), footers longer than the file and row
// groups whose row counts do not add up to the file's are refused before any row
// is read.
func Decode(dst []Event, data []byte, maxRows int64) (out []Event, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = dst, fmt.Errorf("%w: malformed file: %v", ErrNotParquet, r)
		}
	}()
	f, err := openChecked(data, maxRows)
	if err != nil {
		return dst, err
	}
	byCol, columnar := fileLeaves(f.Schema())
	if !columnar {
		return readRowGroups(dst, f)
	}
	start := len(dst)
	dst = grow(dst, int(f.NumRows()))
	clear(dst[start:])
	var cols columnScratch
	if err := cols.readFile(dst[start:], data, f.Metadata(), f, byCol, nil); err != nil {
		return dst[:start], err
	}
	return dst, nil
}

// openChecked opens the Parquet file data after the checks every untrusted
// file gets: the footer fits the file, the columns are Event's, the pages'
// codecs and declared sizes are within the limits, there are at most maxRows
// rows (maxRows ≤ 0: no limit) and the row groups' counts add up to the
// file's.
func openChecked(data []byte, maxRows int64) (*parquet.File, error) {
	if err := checkFooter(data); err != nil {
		return nil, err
	}
	if err := checkFooterThrift(data); err != nil {
		return nil, err
	}
	f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)),
		parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotParquet, err)
	}
	if err := checkSchema(f.Schema()); err != nil {
		return nil, err
	}
	if err := checkPages(f.Metadata(), data); err != nil {
		return nil, err
	}
	if err := checkRows(f.Metadata(), maxRows); err != nil {
		return nil, err
	}
	return f, nil
}

// checkRows refuses a file of footer md of more than maxRows rows (maxRows ≤
// 0: no limit), or whose row groups' counts do not add up to the file's.
func checkRows(md *format.FileMetaData, maxRows int64) error {
	if maxRows > 0 && md.NumRows > maxRows {
		return fmt.Errorf("%w: %d rows exceeds the limit of %d", ErrNotParquet, md.NumRows, maxRows)
	}
	var rows int64
	for i := range md.RowGroups {
		n := md.RowGroups[i].NumRows
		if n < 0 || n > md.NumRows-rows {
			return fmt.Errorf("%w: row group %d declares %d rows, beyond the file's %d", ErrNotParquet, i, n, md.NumRows)
		}
		rows += n
	}
	if rows != md.NumRows {
		return fmt.Errorf("%w: row groups declare %d rows, the file %d", ErrNotParquet, rows, md.NumRows)
	}
	return nil
}

// readRowGroups appends the rows of every row group of f to dst with the
// generic row reader.
func readRowGroups(dst []Event, f *parquet.File) ([]Event, error) {
	var err error
	for _, rg := range f.RowGroups() {
		if dst, err = readRowGroup(dst, rg); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// leafByPath maps the dotted path of each leaf column to its index in leaves.
var leafByPath = func() map[string]int {
	m := make(map[string]int, len(leaves))
	for i := range leaves {
		m[strings.Join(leaves[i].path, ".")] = i
	}
	return m
}()

// fileColumn is a column of a file read into an Event leaf.
type fileColumn struct {
	leaf   int  // in leaves
	maxDef byte // the file's: a column may be optional in the file and not in Event
}

// fileLeaves maps the columns of file schema s to Event's leaves; columnar is
// false when a column has no leaf of the same path and levels (a list laid out
// otherwise), which the generic reader then reads.
func fileLeaves(s *parquet.Schema) (byCol []fileColumn, columnar bool) {
	cols := s.Columns()
	byCol = make([]fileColumn, len(cols))
	for ci, path := range cols {
		l, ok := leafByPath[strings.Join(path, ".")]
		if !ok {
			return nil, false
		}
		leaf, _ := s.Lookup(path...)
		c := &leaves[l]
		if byte(leaf.MaxRepetitionLevel) != c.maxRep || leaf.MaxDefinitionLevel > 1 ||
			(c.maxRep > 0 && leaf.MaxDefinitionLevel != 1) {
			return nil, false
		}
		byCol[ci] = fileColumn{leaf: l, maxDef: byte(leaf.MaxDefinitionLevel)}
	}
	return byCol, true
}

// zero clears the leaf's field in every event of evs.
func (c *leafColumn) zero(evs []Event) {
	if len(evs) == 0 {
		return
	}
	stride := unsafe.Sizeof(Event{})
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(evs)), c.offset)
	for i := range uintptr(len(evs)) {
		p := unsafe.Add(base, i*stride)
		switch c.kind {
		case kindBytes:
			*(*string)(p) = ""
		case kindBytesList:
			*(*[]string)(p) = nil
		case kindInt32List:
			*(*[]uint32)(p) = nil
		default:
			switch c.size {
			case 2:
				*(*uint16)(p) = 0
			case 4:
				*(*uint32)(p) = 0
			default:
				*(*uint64)(p) = 0
			}
		}
	}
}

// columnScratch holds what reading a column chunk needs between its pages; a
// reader reuses it from one chunk to the next.
type columnScratch struct {
	strict   bool               // refuse chunks readFastChunk does not read
	dict     parquet.Dictionary // whose values dictStrs/dictNums hold
	fastDict bool               // or they are a dictionary page's read by readFastChunk
	pages    pageScratchBuffers
	dictStrs []string
	dictNums []int64
	// of each row's elements in the list being read
	starts, ends []int32
}

// readFile reads every row group of the file data, of footer md, into evs,
// which has room for all of its rows; byCol maps the file's columns to
// leaves, and read, when not nil, says which leaves to read. f, when not nil,
// reads the pages readFastChunk does not.
func (s *columnScratch) readFile(evs []Event, data []byte, md *format.FileMetaData, f *parquet.File, byCol []fileColumn, read func(leaf int) bool) error {
	at := 0
	for g := range md.RowGroups {
		rg := &md.RowGroups[g]
		n := int(rg.NumRows)
		rows := evs[at : at+n]
		for ci := range rg.Columns {
			if read != nil && !read(byCol[ci].leaf) {
				continue
			}
			var pages func() parquet.Pages
			if f != nil {
				pages = f.RowGroups()[g].ColumnChunks()[ci].Pages
			}
			if err := s.readChunk(rows, data, &rg.Columns[ci].MetaData, pages, byCol[ci]); err != nil {
				return fmt.Errorf("%w: row group %d column %s: %w", ErrNotParquet, g, strings.Join(leaves[byCol[ci].leaf].path, "."), err)
			}
		}
		at += n
	}
	return nil
}

// readChunk stores the values of the column chunk of file data, of column fc
// and metadata md, in rows; pages, when not nil, reads the chunk's pages
// through parquet-go when readFastChunk does not read them.
func (s *columnScratch) readChunk(rows []Event, data []byte, md *format.ColumnMetaData, pages func() parquet.Pages, fc fileColumn) error {
	r := s.startChunk(rows, fc, md.NumValues)
	if fastChunk(md) {
		// checkPages checked the chunk lies within the file
		start := chunkStart(md)
		err := r.readFastChunk(data, start, start+md.TotalCompressedSize, md.Codec)
		if err == nil {
			return r.finish()
		}
		if !errors.Is(err, errOtherPage) {
			return err
		}
		if s.strict || pages == nil {
			return errors.New("version 2 data pages, which Vigil's writers do not write")
		}
		// read again, all of it, through parquet-go's pages
		r = s.startChunk(rows, fc, md.NumValues)
	}
	if s.strict || pages == nil {
		return fmt.Errorf("compression %s and encodings %v, which Vigil's writers do not use together", md.Codec, md.Encoding)
	}
	ps := pages()
	defer ps.Close()
	for {
		p, err := ps.ReadPage()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		err = r.page(p)
		parquet.Release(p)
		if err != nil {
			return err
		}
	}
	return r.finish()
}

// startChunk returns the reader of a column chunk of column fc, of values
// values, into rows, with the scratch's state of the last chunk cleared.
func (s *columnScratch) startChunk(rows []Event, fc fileColumn, values int64) chunkReader {
	s.dict, s.fastDict = nil, false
	r := chunkReader{rows: rows, c: &leaves[fc.leaf], s: s, maxDef: fc.maxDef, row: -1}
	if r.c.maxRep > 0 {
		// room for the first elements: the lists of a batch's rows are most
		// often the previous row's, which takes no room
		s.starts, s.ends = slices.Grow(s.starts[:0], len(rows)), slices.Grow(s.ends[:0], len(rows))
		n := int(min(max(values, 0), 256))
		if r.c.kind == kindBytesList {
			r.strs = make([]string, 0, n)
		} else {
			r.nums = make([]uint32, 0, n)
		}
	}
	return r
}

// chunkReader is the state of one column chunk being read.
type chunkReader struct {
	rows   []Event
	c      *leafColumn
	maxDef byte // of the file's column
	s      *columnScratch
	row    int // the row being filled; -1 before the first
	// elements of a list column, in order; s.starts[r] and s.ends[r] bound row r's
	strs []string
	nums []uint32
	// lastIdx are the dictionary indexes of the last row read, when it lies
	// in the page being read
	lastIdx []int32
}

// values is a page's values in a form the column's kind reads.
type values struct {
	str  string   // a plain page's byte arrays, one string
	offs []uint32 // of each value in str, and the end
	idx  []int32  // of each value in the dictionary
	n    int      // how many values
	i32  []int32  // a plain page's numbers, by the column's width
	i64  []int64
}

func (r *chunkReader) page(p parquet.Page) error {
	var v values
	if err := r.values(p, &v); err != nil {
		return err
	}
	return r.pageValues(p.DefinitionLevels(), p.RepetitionLevels(), int(p.NumValues()), &v)
}

// pageValues stores the values v of a page of nv values (nulls and empty
// lists included), whose levels are defs and reps.
func (r *chunkReader) pageValues(defs, reps []byte, nv int, v *values) error {
	c := r.c
	if c.maxRep == 0 {
		if r.maxDef == 0 && len(defs) == 0 {
			if nv != v.n {
				return fmt.Errorf("page holds %d values for %d rows", v.n, nv)
			}
		} else if len(defs) != nv {
			return fmt.Errorf("page holds %d definition levels for %d values", len(defs), nv)
		}
		return r.flat(defs, nv, v)
	}
	if len(reps) != nv || len(defs) != nv {
		return fmt.Errorf("page holds %d repetition and %d definition levels for %d values", len(reps), len(defs), nv)
	}
	return r.list(reps, defs, v)
}

// values sets v to the values of page p.
func (r *chunkReader) values(p parquet.Page, v *values) error {
	data := p.Data()
	dict := p.Dictionary()
	if dict != nil {
		if data.Kind() != encoding.Int32 {
			return fmt.Errorf("dictionary page indexes of kind %s", data.Kind())
		}
		v.idx = data.Int32()
		v.n = len(v.idx)
		if dict != r.s.dict {
			if err := r.s.loadDictionary(dict, r.c.kind); err != nil {
				return err
			}
		}
		return r.checkIndexes(v.idx)
	}
	switch r.c.kind {
	case kindBytes, kindBytesList:
		if data.Kind() != encoding.ByteArray {
			return fmt.Errorf("values of kind %s, want byte arrays", data.Kind())
		}
		b, offs := data.ByteArray()
		if len(offs) == 0 {
			return nil
		}
		v.n = len(offs) - 1
		if int(offs[v.n]) > len(b) {
			return fmt.Errorf("byte arrays end at %d of %d bytes", offs[v.n], len(b))
		}
		v.str, v.offs = string(b), offs
	case kindInt32, kindInt32List:
		if data.Kind() != encoding.Int32 {
			return fmt.Errorf("values of kind %s, want int32", data.Kind())
		}
		v.i32 = data.Int32()
		v.n = len(v.i32)
	default:
		if data.Kind() != encoding.Int64 {
			return fmt.Errorf("values of kind %s, want int64", data.Kind())
		}
		v.i64 = data.Int64()
		v.n = len(v.i64)
	}
	return nil
}

// checkIndexes checks that the dictionary indexes idx are within the
// current dictionary.
func (r *chunkReader) checkIndexes(idx []int32) error {
	limit := len(r.s.dictNums)
	if r.c.kind == kindBytes || r.c.kind == kindBytesList {
		limit = len(r.s.dictStrs)
	}
	for _, i := range idx {
		if uint(i) >= uint(limit) {
			return fmt.Errorf("dictionary index %d beyond its %d values", i, limit)
		}
	}
	return nil
}

// loadDictionary makes the values of dict, of a column of kind, the current
// dictionary.
func (s *columnScratch) loadDictionary(dict parquet.Dictionary, kind leafKind) error {
	s.dict = dict
	s.dictStrs, s.dictNums = s.dictStrs[:0], s.dictNums[:0]
	data := dict.Page().Data()
	switch kind {
	case kindBytes, kindBytesList:
		if data.Kind() != encoding.ByteArray {
			return fmt.Errorf("dictionary of kind %s, want byte arrays", data.Kind())
		}
		b, offs := data.ByteArray()
		if len(offs) == 0 {
			return nil
		}
		all := string(b)
		for i := range len(offs) - 1 {
			if offs[i] > offs[i+1] || int(offs[i+1]) > len(all) {
				return fmt.Errorf("dictionary value %d at [%d, %d) of %d bytes", i, offs[i], offs[i+1], len(all))
			}
			s.dictStrs = append(s.dictStrs, all[offs[i]:offs[i+1]])
		}
	case kindInt32, kindInt32List:
		if data.Kind() != encoding.Int32 {
			return fmt.Errorf("dictionary of kind %s, want int32", data.Kind())
		}
		for _, x := range data.Int32() {
			s.dictNums = append(s.dictNums, int64(x))
		}
	default:
		if data.Kind() != encoding.Int64 {
			return fmt.Errorf("dictionary of kind %s, want int64", data.Kind())
		}
		s.dictNums = append(s.dictNums, data.Int64()...)
	}
	return nil
}

// str returns string value i of v.
func (r *chunkReader) str(v *values, i int) string {
	if v.idx != nil {
		return r.s.dictStrs[v.idx[i]]
	}
	a, b := v.offs[i], v.offs[i+1]
	if a > b {
		panic(fmt.Sprintf("byte array %d at [%d, %d)", i, a, b))
	}
	return v.str[a:b]
}

// num returns number value i of v.
func (r *chunkReader) num(v *values, i int) int64 {
	switch {
	case v.idx != nil:
		return r.s.dictNums[v.idx[i]]
	case v.i32 != nil:
		return int64(v.i32[i])
	}
	return v.i64[i]
}

// flat stores the nv values of a page of a column that is not a list, whose
// definition levels are defs (empty: every value is defined).
func (r *chunkReader) flat(defs []byte, nv int, v *values) error {
	c := r.c
	first := r.row + 1
	if first+nv > len(r.rows) {
		return fmt.Errorf("pages hold more than the row group's %d rows", len(r.rows))
	}
	defined := nv
	if len(defs) > 0 {
		defined = 0
		for _, d := range defs {
			if d == r.maxDef {
				defined++
			}
		}
	}
	if defined > v.n {
		return fmt.Errorf("page holds %d values, fewer than its %d defined rows", v.n, defined)
	}
	stride := unsafe.Sizeof(Event{})
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(r.rows)), c.offset+uintptr(first)*stride)
	if len(defs) > 0 {
		r.sparse(base, defs, v)
		r.row += nv
		return nil
	}
	switch {
	case c.kind == kindBytes && v.idx != nil:
		dict := r.s.dictStrs
		for i, x := range v.idx[:nv] {
			*(*string)(unsafe.Add(base, uintptr(i)*stride)) = dict[x]
		}
	case c.kind == kindBytes:
		offs, str := v.offs[:nv+1], v.str
		for i := range nv {
			*(*string)(unsafe.Add(base, uintptr(i)*stride)) = str[offs[i]:offs[i+1]]
		}
	case v.idx != nil:
		nums := make([]int64, nv)
		for i, x := range v.idx[:nv] {
			nums[i] = r.s.dictNums[x]
		}
		storeNums(base, stride, c.size, nums)
	case v.i32 != nil:
		storeNums(base, stride, c.size, v.i32[:nv])
	default:
		storeNums(base, stride, c.size, v.i64[:nv])
	}
	r.row += nv
	return nil
}

// storeNums stores nums in the number fields at base, base+stride, ..., of
// size bytes.
func storeNums[T int32 | int64](base unsafe.Pointer, stride, size uintptr, nums []T) {
	switch size {
	case 2:
		for i, x := range nums {
			*(*uint16)(unsafe.Add(base, uintptr(i)*stride)) = uint16(x)
		}
	case 4:
		for i, x := range nums {
			*(*int32)(unsafe.Add(base, uintptr(i)*stride)) = int32(x)
		}
	default:
		for i, x := range nums {
			*(*int64)(unsafe.Add(base, uintptr(i)*stride)) = int64(x)
		}
	}
}

// sparse stores the values of a page of an optional column, whose rows
// without a value get the zero value; flat checked there are enough values.
func (r *chunkReader) sparse(base unsafe.Pointer, defs []byte, v *values) {
	c := r.c
	stride := unsafe.Sizeof(Event{})
	vi := 0
	for i, d := range defs {
		p := unsafe.Add(base, uintptr(i)*stride)
		if c.kind == kindBytes {
			s := ""
			if d == r.maxDef {
				s = r.str(v, vi)
				vi++
			}
			*(*string)(p) = s
			continue
		}
		var x int64
		if d == r.maxDef {
			x = r.num(v, vi)
			vi++
		}
		storeNums(p, 0, c.size, []int64{x})
	}
}

// list gathers the elements of a page of a list column; finish stores them in
// the rows. A row whose list is the previous row's (the sensor's rows share
// their ancestries) keeps no elements of its own: it is given the previous
// row's.
func (r *chunkReader) list(reps, defs []byte, v *values) error {
	n := len(reps)
	i, vi := 0, 0
	if n > 0 && reps[0] != 0 {
		// the rest of the last page's last row (version 1 pages may split a row)
		if r.row < 0 {
			return fmt.Errorf("the first value continues a row")
		}
		r.ownLastRow()
		for ; i < n && reps[i] != 0; i++ {
			if defs[i] != r.maxDef {
				continue
			}
			if vi >= v.n {
				return fmt.Errorf("page holds %d values, fewer than its definition levels say", v.n)
			}
			r.appendElem(v, vi)
			vi++
		}
		r.s.ends[len(r.s.ends)-1] = int32(r.elems())
	}
	for i < n {
		r.row++
		if r.row >= len(r.rows) {
			return fmt.Errorf("pages hold more than the row group's %d rows", len(r.rows))
		}
		j, k := i, 0 // the row's levels end at j; k of them are elements
		for j < n && (j == i || reps[j] != 0) {
			if defs[j] == r.maxDef {
				k++
			}
			j++
		}
		if vi+k > v.n {
			return fmt.Errorf("page holds %d values, fewer than its definition levels say", v.n)
		}
		at := int32(r.elems())
		switch {
		case k == 0:
			r.s.starts, r.s.ends = append(r.s.starts, at), append(r.s.ends, at)
		case r.sameAsLast(v, vi, k):
			last := len(r.s.ends) - 1
			r.s.starts, r.s.ends = append(r.s.starts, r.s.starts[last]), append(r.s.ends, r.s.ends[last])
		default:
			r.appendElems(v, vi, k)
			r.s.starts, r.s.ends = append(r.s.starts, at), append(r.s.ends, at+int32(k))
		}
		if v.idx != nil {
			r.lastIdx = v.idx[vi : vi+k]
		}
		vi += k
		i = j
	}
	r.lastIdx = nil // the page's indexes are not kept
	return nil
}

// appendElems gathers the k values of v from vi as elements.
func (r *chunkReader) appendElems(v *values, vi, k int) {
	switch {
	case r.c.kind == kindBytesList && v.idx != nil:
		dict := r.s.dictStrs
		for _, x := range v.idx[vi : vi+k] {
			r.strs = append(r.strs, dict[x])
		}
	default:
		for t := range k {
			r.appendElem(v, vi+t)
		}
	}
}

// elems is the number of elements gathered.
func (r *chunkReader) elems() int { return len(r.strs) + len(r.nums) }

// appendElem gathers value vi of v as an element.
func (r *chunkReader) appendElem(v *values, vi int) {
	if r.c.kind == kindBytesList {
		r.strs = append(r.strs, r.str(v, vi))
	} else {
		r.nums = append(r.nums, uint32(r.num(v, vi)))
	}
}

// sameAsLast reports whether the k values of v from vi are the elements of
// the last row read.
func (r *chunkReader) sameAsLast(v *values, vi, k int) bool {
	last := len(r.s.ends) - 1
	if last < 0 || int(r.s.ends[last]-r.s.starts[last]) != k {
		return false
	}
	if v.idx != nil && r.lastIdx != nil {
		// the last row's dictionary indexes, in the same page
		return slices.Equal(r.lastIdx, v.idx[vi:vi+k])
	}
	s := int(r.s.starts[last])
	if r.c.kind == kindBytesList {
		prev := r.strs[s : s+k]
		for t := range prev {
			if prev[t] != r.str(v, vi+t) {
				return false
			}
		}
		return true
	}
	prev := r.nums[s : s+k]
	for t := range prev {
		if prev[t] != uint32(r.num(v, vi+t)) {
			return false
		}
	}
	return true
}

// ownLastRow gives the last row read elements of its own at the end of those
// gathered (it may share the row before it's), for more to be added.
func (r *chunkReader) ownLastRow() {
	last := len(r.s.ends) - 1
	s, e := int(r.s.starts[last]), int(r.s.ends[last])
	if e == r.elems() {
		return
	}
	at := int32(r.elems())
	if r.c.kind == kindBytesList {
		r.strs = append(r.strs, r.strs[s:e]...)
	} else {
		r.nums = append(r.nums, r.nums[s:e]...)
	}
	r.s.starts[last], r.s.ends[last] = at, at+int32(e-s)
}

// finish checks the chunk held every row, and stores a list column's lists.
func (r *chunkReader) finish() error {
	c := r.c
	if r.row+1 != len(r.rows) {
		return fmt.Errorf("column holds %d of the row group's %d rows", r.row+1, len(r.rows))
	}
	if c.maxRep == 0 {
		return nil
	}
	stride := unsafe.Sizeof(Event{})
	base := unsafe.Add(unsafe.Pointer(unsafe.SliceData(r.rows)), c.offset)
	for i, end := range r.s.ends {
		start := r.s.starts[i]
		p := unsafe.Add(base, uintptr(i)*stride)
		switch {
		case end == start && c.kind == kindBytesList:
			*(*[]string)(p) = nil
		case end == start:
			*(*[]uint32)(p) = nil
		case c.kind == kindBytesList:
			*(*[]string)(p) = r.strs[start:end:end]
		default:
			*(*[]uint32)(p) = r.nums[start:end:end]
		}
	}
	r.s.starts, r.s.ends = r.s.starts[:0], r.s.ends[:0]
	return nil
}
