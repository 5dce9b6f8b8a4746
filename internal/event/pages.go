package event

import (
	"errors"
	"fmt"
	"hash/crc32"
	"math/bits"
	"unsafe"

	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/plain"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"
)

// The pages of the column chunks Vigil's writer makes (version 1 data pages
// and dictionary pages, compressed with zstd or not at all, in the encodings
// leavesOf gives the columns) are read here, straight from the file's bytes
// into the decoder's reused buffers: the page header by the bounded Thrift
// reader of limits.go, the levels and values by parquet-go's encodings. Other
// chunks (version 2 pages, other codecs and encodings, as other writers
// make) are read through parquet-go's pages.

// fastCodecs are the compressions of the chunks read here.
var fastCodecs = map[format.CompressionCodec]bool{format.Uncompressed: true, format.Zstd: true}

// fastEncodings are the encodings of the pages read here.
var fastEncodings = map[format.Encoding]bool{
	format.Plain: true, format.PlainDictionary: true, format.RLEDictionary: true, format.RLE: true,
	format.DeltaBinaryPacked: true, format.DeltaLengthByteArray: true, format.DeltaByteArray: true,
}

// errOtherPage stops readFastChunk at a page it does not read.
var errOtherPage = errors.New("page read by parquet-go")

// fastChunk reports whether the chunk of metadata m is read here.
func fastChunk(m *format.ColumnMetaData) bool {
	if !fastCodecs[m.Codec] {
		return false
	}
	for _, e := range m.Encoding {
		if !fastEncodings[e] {
			return false
		}
	}
	return true
}

// Page types.
const (
	pageData       = 0
	pageDictionary = 2
)

// pageHeader is what the reader needs of a page header.
type pageHeader struct {
	typ                      int32
	uncompressed, compressed int32
	numValues                int32
	encoding                 int32
	defEncoding, repEncoding int32
	crc                      int32 // of the page's bytes as stored, when hasCRC
	hasCRC                   bool
	headerLen                int
}

// readPageHeader reads the page header at the start of b (checkPages and
// readFastChunk both read headers with it). Fields it does not need are
// skipped, and checked as they are (see compactReader); a header without
// its two sizes is refused.
func readPageHeader(b []byte) (pageHeader, error) {
	h := pageHeader{typ: -1}
	r := compactReader{b: b}
	sizes := 0
	err := r.fields(func(id int16, typ byte) (bool, error) {
		switch {
		case id == 1 && typ == ctI32:
			return true, r.i32(&h.typ)
		case id == 2 && typ == ctI32:
			sizes |= 1
			return true, r.i32(&h.uncompressed)
		case id == 3 && typ == ctI32:
			sizes |= 2
			return true, r.i32(&h.compressed)
		case id == 4 && typ == ctI32:
			h.hasCRC = true
			return true, r.i32(&h.crc)
		case (id == 5 || id == 7) && typ == ctStruct: // data_page_header, dictionary_page_header
			return true, r.fields(func(id int16, typ byte) (bool, error) {
				if typ != ctI32 {
					return false, nil
				}
				switch id {
				case 1:
					return true, r.i32(&h.numValues)
				case 2:
					return true, r.i32(&h.encoding)
				case 3:
					return true, r.i32(&h.defEncoding)
				case 4:
					return true, r.i32(&h.repEncoding)
				}
				return false, nil
			}, 1)
		}
		return false, nil
	}, 0)
	if err == nil && sizes != 3 {
		err = errors.New("no page sizes")
	}
	h.headerLen = r.pos
	return h, err
}

// fields reads the fields of a struct up to its end, calling field with each
// one's id and type: field reads the value and returns true, or returns
// false for the value to be skipped.
func (r *compactReader) fields(field func(id int16, typ byte) (bool, error), depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deep")
	}
	id := int16(0)
	for {
		fid, typ, err := r.fieldHeader(id)
		if err != nil {
			return err
		}
		if typ == ctStop {
			return nil
		}
		id = fid
		read, err := field(id, typ)
		if err != nil {
			return err
		}
		if !read {
			if err := r.skip(typ, depth+1); err != nil {
				return err
			}
		}
	}
}

// i32 reads a zigzag varint into v.
func (r *compactReader) i32(v *int32) error {
	u, err := r.varint()
	*v = int32(uint32(u>>1) ^ -uint32(u&1))
	return err
}

// pageScratchBuffers are the buffers a decoder reuses from page to page.
type pageScratchBuffers struct {
	raw        []byte // a page's decompressed bytes
	reps, defs []byte
	i32        []int32
	i64        []int64
	offs       []uint32
}

// readFastChunk reads the pages of the column chunk in data[start:end] into
// r, as readChunk does from parquet-go's pages.
func (r *chunkReader) readFastChunk(data []byte, start, end int64, codec format.CompressionCodec) error {
	s := r.s
	for pos := start; pos < end; {
		h, err := readPageHeader(data[pos:end])
		if err != nil {
			return fmt.Errorf("page header at %d: %w", pos, err)
		}
		at := pos + int64(h.headerLen)
		if h.compressed < 0 || at+int64(h.compressed) > end {
			return fmt.Errorf("page at %d of %d bytes runs past its column chunk", pos, h.compressed)
		}
		payload := data[at : at+int64(h.compressed)]
		pos = at + int64(h.compressed)
		if h.hasCRC && crc32.ChecksumIEEE(payload) != uint32(h.crc) {
			return fmt.Errorf("page at %d: its checksum does not match", at)
		}
		if codec == format.Zstd {
			if s.pages.raw, err = zstdDecoder.DecodeAll(payload, s.pages.raw[:0]); err != nil {
				return fmt.Errorf("page at %d: %w", at, err)
			}
			payload = s.pages.raw
		}
		if len(payload) != int(h.uncompressed) {
			return fmt.Errorf("page at %d holds %d bytes, its header says %d", at, len(payload), h.uncompressed)
		}
		if h.numValues < 0 {
			return fmt.Errorf("page at %d declares %d values", at, h.numValues)
		}
		switch h.typ {
		case pageDictionary:
			if err := r.fastDictionary(payload, h); err != nil {
				return fmt.Errorf("dictionary page at %d: %w", at, err)
			}
		case pageData:
			if err := r.fastData(payload, h); err != nil {
				return fmt.Errorf("data page at %d: %w", at, err)
			}
		default:
			return errOtherPage // a version 2 data page, which parquet-go reads
		}
	}
	return nil
}

// fastDictionary loads a dictionary page's values.
func (r *chunkReader) fastDictionary(payload []byte, h pageHeader) error {
	s := r.s
	if f := format.Encoding(h.encoding); f != format.Plain && f != format.PlainDictionary {
		return fmt.Errorf("encoding %s", f)
	}
	s.dict = nil
	s.fastDict = true
	s.dictStrs, s.dictNums = s.dictStrs[:0], s.dictNums[:0]
	var v values
	if err := r.decodeValues(payload, format.Plain, &v, true); err != nil {
		return err
	}
	if v.n != int(h.numValues) {
		return fmt.Errorf("%d values, its header says %d", v.n, h.numValues)
	}
	for i := range v.n {
		if r.c.kind == kindBytes || r.c.kind == kindBytesList {
			s.dictStrs = append(s.dictStrs, v.str[v.offs[i]:v.offs[i+1]])
		} else {
			s.dictNums = append(s.dictNums, r.num(&v, i))
		}
	}
	return nil
}

// fastData reads a version 1 data page: its repetition and definition
// levels, then its values.
func (r *chunkReader) fastData(payload []byte, h pageHeader) error {
	s := r.s
	nv := int(h.numValues)
	var reps, defs []byte
	var err error
	if r.c.maxRep > 0 {
		if reps, payload, err = decodeLevelsV1(s.pages.reps[:0], payload, format.Encoding(h.repEncoding), r.c.maxRep, nv); err != nil {
			return fmt.Errorf("repetition levels: %w", err)
		}
		s.pages.reps = reps
	}
	if r.maxDef > 0 {
		if defs, payload, err = decodeLevelsV1(s.pages.defs[:0], payload, format.Encoding(h.defEncoding), r.maxDef, nv); err != nil {
			return fmt.Errorf("definition levels: %w", err)
		}
		s.pages.defs = defs
	}
	if err := checkValues(payload, format.Encoding(h.encoding), nv); err != nil {
		return err
	}
	var v values
	if err := r.decodeValues(payload, format.Encoding(h.encoding), &v, false); err != nil {
		return err
	}
	return r.pageValues(defs, reps, nv, &v)
}

// decodeLevelsV1 decodes n levels of at most max, as a version 1 page holds
// them (a 4-byte length, then the RLE/bit-packed hybrid), and returns them and
// what follows them.
func decodeLevelsV1(dst, payload []byte, enc format.Encoding, max byte, n int) ([]byte, []byte, error) {
	if enc != format.RLE {
		return nil, nil, fmt.Errorf("encoding %s", enc)
	}
	if len(payload) < 4 {
		return nil, nil, errors.New("no length")
	}
	l := int(uint32(payload[0]) | uint32(payload[1])<<8 | uint32(payload[2])<<16 | uint32(payload[3])<<24)
	if l < 0 || l > len(payload)-4 {
		return nil, nil, fmt.Errorf("%d bytes of levels in %d", l, len(payload)-4)
	}
	if _, err := hybridValues(payload[4:4+l], bits.Len8(max), n); err != nil {
		return nil, nil, err
	}
	e := rle.Encoding{BitWidth: bits.Len8(max)}
	levels, err := e.DecodeLevels(dst, payload[4:4+l])
	if err != nil {
		return nil, nil, err
	}
	if len(levels) < n {
		return nil, nil, fmt.Errorf("%d levels for %d values", len(levels), n)
	}
	levels = levels[:n]
	for _, x := range levels {
		if x > max {
			return nil, nil, fmt.Errorf("level %d above %d", x, max)
		}
	}
	return levels, payload[4+l:], nil
}

// decodeValues decodes the values of a page, encoded with enc, into v:
// dictionary indexes, numbers or byte arrays by the column's kind. The byte
// arrays are copied into memory of their own, which v.str is.
func (r *chunkReader) decodeValues(payload []byte, enc format.Encoding, v *values, dictionary bool) error {
	s := &r.s.pages
	var err error
	if !dictionary && (enc == format.RLEDictionary || enc == format.PlainDictionary) {
		if !r.s.fastDict {
			return errors.New("dictionary-encoded values without a dictionary page")
		}
		var re rle.DictionaryEncoding
		if s.i32, err = re.DecodeInt32(s.i32[:0], payload); err != nil {
			return err
		}
		v.idx, v.n = s.i32, len(s.i32)
		return r.checkIndexes(v.idx)
	}
	switch r.c.kind {
	case kindBytes, kindBytesList:
		var b []byte
		switch enc {
		case format.Plain:
			var pe plain.Encoding
			b, s.offs, err = pe.DecodeByteArray(nil, payload, s.offs[:0])
		case format.DeltaLengthByteArray:
			var de delta.LengthByteArrayEncoding
			b, s.offs, err = de.DecodeByteArray(nil, payload, s.offs[:0])
		case format.DeltaByteArray:
			var de delta.ByteArrayEncoding
			b, s.offs, err = de.DecodeByteArray(nil, payload, s.offs[:0])
		default:
			return fmt.Errorf("encoding %s of byte arrays", enc)
		}
		if err != nil {
			return err
		}
		if len(s.offs) == 0 {
			return nil
		}
		v.n, v.offs = len(s.offs)-1, s.offs
		if int(s.offs[v.n]) > len(b) {
			return fmt.Errorf("byte arrays end at %d of %d bytes", s.offs[v.n], len(b))
		}
		v.str = unsafe.String(unsafe.SliceData(b), len(b)) // b is not written again
	case kindInt32, kindInt32List:
		var pe plain.Encoding
		var de delta.BinaryPackedEncoding
		s.i32, err = decodeNums(s.i32[:0], payload, enc, pe.DecodeInt32, de.DecodeInt32)
		v.i32, v.n = s.i32, len(s.i32)
	default:
		var pe plain.Encoding
		var de delta.BinaryPackedEncoding
		s.i64, err = decodeNums(s.i64[:0], payload, enc, pe.DecodeInt64, de.DecodeInt64)
		v.i64, v.n = s.i64, len(s.i64)
	}
	return err
}

// decodeNums appends the numbers of payload, of encoding enc (PLAIN or
// DELTA_BINARY_PACKED, decoded by plainDec and deltaDec), to dst.
func decodeNums[T int32 | int64](dst []T, payload []byte, enc format.Encoding, plainDec, deltaDec func([]T, []byte) ([]T, error)) ([]T, error) {
	switch enc {
	case format.Plain:
		return plainDec(dst, payload)
	case format.DeltaBinaryPacked:
		return deltaDec(dst, payload)
	}
	var zero T
	return dst, fmt.Errorf("encoding %s of %T values", enc, zero)
}
