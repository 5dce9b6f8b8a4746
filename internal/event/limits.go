package event

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/parquet-go/parquet-go/format"
)

// Limits on what an untrusted Parquet file may make the decoder allocate. A page of
// events is a few hundred KiB; a lake file (≤ 64 MiB compressed) stays well within
// the total.
const (
	maxPageBytes  = 64 << 20
	maxTotalBytes = 1 << 30
)

// acceptedCodecs are the compressions Vigil writes (zstd) or that common Parquet
// writers use by default. Others are refused: the LZ4 decoder grows its output
// buffer without bound on corrupt input.
var acceptedCodecs = map[format.CompressionCodec]bool{
	format.Uncompressed: true,
	format.Snappy:       true,
	format.Gzip:         true,
	format.Zstd:         true,
}

// checkFooter refuses a file whose footer, by the length in its last 8 bytes,
// would not fit between the leading and trailing magic: the Parquet reader
// allocates the declared length before reading it, up to 4 GiB for 12 bytes.
func checkFooter(data []byte) error {
	if len(data) < 12 {
		return fmt.Errorf("%w: %d bytes is too short for a Parquet file", ErrNotParquet, len(data))
	}
	n := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	if room := int64(len(data)) - 12; n > room {
		return fmt.Errorf("%w: footer declares %d bytes; the %d-byte file has room for %d", ErrNotParquet, n, len(data), room)
	}
	return nil
}

// checkPages walks the page headers of every column chunk before any page is read,
// refusing codecs outside acceptedCodecs, chunks outside the file, pages whose
// declared sizes exceed the limits, so that a hostile header cannot make the reader
// allocate gigabytes, and data page offsets that are not the chunk's first data
// page.
func checkPages(md *format.FileMetaData, data []byte) error {
	var total int64
	for g, rg := range md.RowGroups {
		for c, cc := range rg.Columns {
			m := &cc.MetaData
			if !acceptedCodecs[m.Codec] {
				return fmt.Errorf("%w: row group %d column %d: compression %s is not accepted", ErrNotParquet, g, c, m.Codec)
			}
			start := chunkStart(m)
			end := start + m.TotalCompressedSize
			if start < 0 || m.TotalCompressedSize < 0 || end > int64(len(data)) || end < start {
				return fmt.Errorf("%w: row group %d column %d: chunk [%d, %d) lies outside the %d-byte file", ErrNotParquet, g, c, start, end, len(data))
			}
			firstData := int64(-1)
			for pos := start; pos < end; {
				h, err := readPageHeader(data[pos:end])
				if err != nil {
					return fmt.Errorf("%w: row group %d column %d: page header at %d: %w", ErrNotParquet, g, c, pos, err)
				}
				if h.typ != pageDictionary && firstData < 0 {
					firstData = pos
				}
				if h.compressed < 0 || h.uncompressed < 0 || h.uncompressed > maxPageBytes {
					return fmt.Errorf("%w: row group %d column %d: page at %d declares %d bytes (%d compressed); the limit is %d",
						ErrNotParquet, g, c, pos, h.uncompressed, h.compressed, maxPageBytes)
				}
				total += int64(h.uncompressed)
				if total > maxTotalBytes {
					return fmt.Errorf("%w: pages declare more than %d bytes in all", ErrNotParquet, maxTotalBytes)
				}
				pos += int64(h.headerLen) + int64(h.compressed)
			}
			// readers differ in where they start a chunk: its data page
			// offset must be where its pages say its data starts
			if firstData >= 0 && m.DataPageOffset != firstData {
				return fmt.Errorf("%w: row group %d column %d: data page offset %d, but its first data page is at %d",
					ErrNotParquet, g, c, m.DataPageOffset, firstData)
			}
		}
	}
	return nil
}

// chunkStart is where the column chunk of metadata m starts: its dictionary
// page, or its first data page.
func chunkStart(m *format.ColumnMetaData) int64 {
	if m.DictionaryPageOffset != 0 {
		return m.DictionaryPageOffset
	}
	return m.DataPageOffset
}

// checkFooterThrift walks the file's footer, a Thrift struct in the compact
// protocol, before parquet-go decodes it: a list declaring more elements than
// the bytes left could hold, a type that does not exist, nesting beyond
// maxDepth or a struct running past the footer's end is refused. parquet-go's
// decoder takes seconds over a few such bytes. checkFooter has checked the
// footer's length.
func checkFooterThrift(data []byte) error {
	n := int(binary.LittleEndian.Uint32(data[len(data)-8:]))
	footer := data[len(data)-8-n : len(data)-8]
	r := compactReader{b: footer}
	if err := r.skip(ctStruct, 0); err != nil {
		return fmt.Errorf("%w: footer at byte %d of %d: %w", ErrNotParquet, r.pos, n, err)
	}
	if r.pos != n {
		return fmt.Errorf("%w: footer of %d bytes ends after %d", ErrNotParquet, n, r.pos)
	}
	return nil
}

// Thrift compact protocol types.
const (
	ctStop   = 0
	ctTrue   = 1
	ctFalse  = 2
	ctByte   = 3
	ctI16    = 4
	ctI32    = 5
	ctI64    = 6
	ctDouble = 7
	ctBinary = 8
	ctList   = 9
	ctSet    = 10
	ctMap    = 11
	ctStruct = 12
)

// compactReader reads the Thrift compact protocol from b.
type compactReader struct {
	b   []byte
	pos int
}

var errHeaderEnd = errors.New("header ends early")

func (r *compactReader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errHeaderEnd
	}
	c := r.b[r.pos]
	r.pos++
	return c, nil
}

func (r *compactReader) varint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		return 0, errors.New("bad varint")
	}
	r.pos += n
	return v, nil
}

// fieldHeader reads a field's header: its id (last is the previous field's)
// and type.
func (r *compactReader) fieldHeader(last int16) (int16, byte, error) {
	c, err := r.byte()
	if err != nil || c == ctStop {
		return 0, ctStop, err
	}
	typ := c & 0x0f
	if d := c >> 4; d != 0 {
		return last + int16(d), typ, nil
	}
	v, err := r.varint()
	return int16(uint16(v>>1) ^ -uint16(v&1)), typ, err
}

// maxDepth bounds the nesting of what skip skips.
const maxDepth = 16

// skip skips a value of type typ.
func (r *compactReader) skip(typ byte, depth int) error {
	if depth > maxDepth {
		return errors.New("nested too deep")
	}
	switch typ {
	case ctTrue, ctFalse:
		return nil
	case ctByte:
		_, err := r.byte()
		return err
	case ctI16, ctI32, ctI64:
		_, err := r.varint()
		return err
	case ctDouble:
		return r.advance(8)
	case ctBinary:
		n, err := r.varint()
		if err != nil {
			return err
		}
		return r.advance(n)
	case ctList, ctSet:
		c, err := r.byte()
		if err != nil {
			return err
		}
		n, elem := uint64(c>>4), c&0x0f
		if n == 15 {
			if n, err = r.varint(); err != nil {
				return err
			}
		}
		return r.skipN(n, depth, elem)
	case ctMap:
		n, err := r.varint()
		if err != nil || n == 0 {
			return err
		}
		c, err := r.byte()
		if err != nil {
			return err
		}
		return r.skipN(n, depth, c>>4, c&0x0f)
	case ctStruct:
		id := int16(0)
		for {
			fid, t, err := r.fieldHeader(id)
			if err != nil {
				return err
			}
			if t == ctStop {
				return nil
			}
			id = fid
			if err := r.skip(t, depth+1); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown type %d", typ)
}

// skipN skips n elements of a list or set (one type) or n key and value pairs
// of a map (two types).
func (r *compactReader) skipN(n uint64, depth int, types ...byte) error {
	if n > uint64(len(r.b)-r.pos) {
		return errHeaderEnd // each element takes a byte at least
	}
	for range n {
		for _, t := range types {
			if t == ctTrue || t == ctFalse {
				// a boolean element is a byte
				if err := r.advance(1); err != nil {
					return err
				}
			} else if err := r.skip(t, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (r *compactReader) advance(n uint64) error {
	if n > uint64(len(r.b)-r.pos) {
		return errHeaderEnd
	}
	r.pos += int(n)
	return nil
}
