package event

import (
	"bytes"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pageHeaders returns the bytes from each page header of data to its column
// chunk's end.
func pageHeaders(t testing.TB, data []byte) [][]byte {
	f, err := openChecked(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, rg := range f.Metadata().RowGroups {
		for _, cc := range rg.Columns {
			m := cc.MetaData
			pos := chunkStart(&m)
			end := pos + m.TotalCompressedSize
			for pos < end {
				h, n := thriftPageHeader(data[pos:end])
				if n < 0 {
					t.Fatalf("page header at %d does not decode", pos)
				}
				out = append(out, data[pos:end])
				pos += int64(n) + int64(h.CompressedPageSize)
			}
		}
	}
	return out
}

// thriftPageHeader decodes the page header at the start of b with
// parquet-go's Thrift decoder; n is its length, -1 when it does not decode.
func thriftPageHeader(b []byte) (h format.PageHeader, n int) {
	r := bytes.NewReader(b)
	var proto thrift.CompactProtocol
	if err := thrift.NewDecoder(proto.NewReader(r)).Decode(&h); err != nil {
		return h, -1
	}
	return h, len(b) - r.Len()
}

// TestReadPageHeader reads every page header of files of every layout, version
// 2 pages and statistics included, and compares with the Thrift decoder.
func TestReadPageHeader(t *testing.T) {
	for name, data := range decodeCases(t) {
		for i, b := range pageHeaders(t, data) {
			want, n := thriftPageHeader(b)
			got, err := readPageHeader(b)
			if err != nil || got.uncompressed != want.UncompressedPageSize || got.compressed != want.CompressedPageSize || got.headerLen != n ||
				got.typ != int32(want.Type) || got.crc != want.CRC {
				t.Fatalf("%s page %d: got %+v, %v; want sizes %d, %d and length %d", name, i, got, err,
					want.UncompressedPageSize, want.CompressedPageSize, n)
			}
		}
	}
}

// FuzzReadPageHeader checks that whatever a page header holds, readPageHeader
// does not panic and agrees with the Thrift decoder on what both read.
func FuzzReadPageHeader(f *testing.F) {
	for name, data := range decodeCases(f) {
		if name == "batch/mixed" || name == "parquet-go/v2 pages" {
			for _, b := range pageHeaders(f, data) {
				f.Add(b[:min(len(b), 256)])
			}
		}
	}
	f.Add([]byte("9\xfd\x9e\x9d\xedL")) // a list of 160 million elements in 6 bytes
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := readPageHeader(b)
		if err != nil {
			return
		}
		if got.headerLen <= 0 || got.headerLen > len(b) {
			t.Fatalf("header length %d of %d bytes", got.headerLen, len(b))
		}
		// what readPageHeader reads whole, the Thrift decoder (which parquet-go
		// reads page headers with, and which takes seconds over some
		// malformed ones) reads too, quickly, with the same sizes
		want, n := thriftPageHeader(b)
		if n >= 0 && (got.uncompressed != want.UncompressedPageSize || got.compressed != want.CompressedPageSize || got.headerLen != n) {
			t.Fatalf("got %+v; the Thrift decoder reads sizes %d, %d and length %d", got, want.UncompressedPageSize, want.CompressedPageSize, n)
		}
	})
}
