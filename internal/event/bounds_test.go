package event

import (
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
)

// TestHybridValues walks RLE/bit-packed hybrid data as parquet-go encodes it
// and as a few crafted bytes declare it.
func TestHybridValues(t *testing.T) {
	encode := func(width int, vals []int32) []byte {
		e := rle.Encoding{BitWidth: width}
		out, err := e.EncodeInt32(nil, vals)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	ramp := make([]int32, 100)
	for i := range ramp {
		ramp[i] = int32(i % 7)
	}
	tests := []struct {
		name         string
		src          []byte
		width, limit int
		want         int    // values, when no error
		err          string // part of the error
	}{
		{"a run", encode(1, make([]int32, 50)), 1, 50, 50, ""},
		{"bit-packed", encode(3, ramp), 3, 100, 100, ""},
		{"bit-packed, padded", []byte{0x03, 0xff, 0xff, 0xff}, 3, 3, 8, ""}, // 8 values, 5 of them padding
		{"empty", nil, 1, 10, 0, ""},
		{"a run of a billion values", []byte{0xfe, 0xff, 0xff, 0xff, 0x07, 0x01}, 1, 1000, 0, "more than 1000 values"},
		{"groups past the data", []byte{0x03, 0xff}, 8, 100, 0, "past the data"},
		{"more groups than the data holds", []byte{0xff, 0xff, 0xff, 0x7f}, 1, 1 << 30, 0, "past the data"},
		{"a run past the data", []byte{0x08}, 16, 100, 0, "past the data"},
		{"a header cut short", []byte{0x80}, 1, 100, 0, "bad run header"},
		{"too wide", []byte{0x02, 0x00}, 33, 100, 0, "bit width 33"},
		{"over the limit beyond padding", encode(3, ramp), 3, 90, 0, "more than 90 values"},
		{"padding after a repeated run", []byte{0x0a, 0x01, 0x03, 0xff}, 8, 5, 0, "more than 5 values"},
	}
	for _, tc := range tests {
		got, err := hybridValues(tc.src, tc.width, tc.limit)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%s: %d values, %v; want %d", tc.name, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %d values, %v; want an error saying %q", tc.name, got, err, tc.err)
		}
	}
}

// TestDeltaStream walks DELTA_BINARY_PACKED streams as parquet-go encodes
// them and as crafted headers declare them.
func TestDeltaStream(t *testing.T) {
	encode := func(vals []int64) []byte {
		var e delta.BinaryPackedEncoding
		out, err := e.EncodeInt64(nil, vals)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	times := make([]int64, 300)
	for i := range times {
		times[i] = 1_764_000_000_000_000_000 + int64(i*i)*1_000
	}
	stream := encode(times)
	tests := []struct {
		name      string
		src       []byte
		limit     int
		want, end int
		err       string
	}{
		{"times", stream, 300, 300, len(stream), ""},
		{"followed by other bytes", append(append([]byte(nil), stream...), 1, 2, 3), 300, 300, len(stream), ""},
		{"one value", encode([]int64{42}), 1, 1, len(encode([]int64{42})), ""},
		{"more than the page", stream, 299, 0, 0, "declares 300 values, more than the page's 299"},
		{"cut short", stream[:len(stream)/2], 300, 0, 0, "past the data"},
		// 128-value blocks in 4 miniblocks, 2^40 values declared
		{"a count of a trillion", []byte{0x80, 0x01, 0x04, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0x00}, 1 << 20, 0, 0, "declares 1099511627776 values"},
		{"blocks not of 128 values", []byte{0x40, 0x04, 0x05, 0x00}, 10, 0, 0, "delta blocks of 64 values"},
		{"miniblocks of 65-bit values", []byte{0x80, 0x01, 0x04, 0x05, 0x00, 0x00, 65, 65, 65, 65}, 10, 0, 0, "65-bit values"},
		{"a header cut short", []byte{0x80}, 10, 0, 0, "bad varint"},
	}
	for _, tc := range tests {
		got, end, err := deltaStream(tc.src, tc.limit)
		switch {
		case tc.err == "" && (err != nil || got != tc.want || end != tc.end):
			t.Errorf("%s: %d values ending at %d, %v; want %d ending at %d", tc.name, got, end, err, tc.want, tc.end)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%s: %d values, %v; want an error saying %q", tc.name, got, err, tc.err)
		}
	}
}
