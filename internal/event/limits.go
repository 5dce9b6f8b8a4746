package event

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/parquet-go/parquet-go/encoding/thrift"
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
// refusing codecs outside acceptedCodecs, chunks outside the file and pages whose
// declared sizes exceed the limits, so that a hostile header cannot make the reader
// allocate gigabytes.
func checkPages(md *format.FileMetaData, data []byte) error {
	var total int64
	var proto thrift.CompactProtocol
	for g, rg := range md.RowGroups {
		for c, cc := range rg.Columns {
			m := &cc.MetaData
			if !acceptedCodecs[m.Codec] {
				return fmt.Errorf("%w: row group %d column %d: compression %s is not accepted", ErrNotParquet, g, c, m.Codec)
			}
			start := m.DataPageOffset
			if m.DictionaryPageOffset != 0 {
				start = m.DictionaryPageOffset
			}
			end := start + m.TotalCompressedSize
			if start < 0 || m.TotalCompressedSize < 0 || end > int64(len(data)) || end < start {
				return fmt.Errorf("%w: row group %d column %d: chunk [%d, %d) lies outside the %d-byte file", ErrNotParquet, g, c, start, end, len(data))
			}
			for pos := start; pos < end; {
				r := bytes.NewReader(data[pos:end])
				var h format.PageHeader
				if err := thrift.NewDecoder(proto.NewReader(r)).Decode(&h); err != nil {
					return fmt.Errorf("%w: row group %d column %d: page header at %d: %w", ErrNotParquet, g, c, pos, err)
				}
				if h.CompressedPageSize < 0 || h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageBytes {
					return fmt.Errorf("%w: row group %d column %d: page at %d declares %d bytes (%d compressed); the limit is %d",
						ErrNotParquet, g, c, pos, h.UncompressedPageSize, h.CompressedPageSize, maxPageBytes)
				}
				total += int64(h.UncompressedPageSize)
				if total > maxTotalBytes {
					return fmt.Errorf("%w: pages declare more than %d bytes in all", ErrNotParquet, maxTotalBytes)
				}
				pos = end - int64(r.Len()) + int64(h.CompressedPageSize)
			}
		}
	}
	return nil
}
