package event

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/parquet-go/parquet-go/format"
)

// parquet-go's decoders of the RLE/bit-packed hybrid and of the DELTA
// encodings size their output by the counts the encoded bytes declare: a
// run of a few bytes can declare billions of values, and the decoder
// allocates them before it finds the input short. Before a page's levels or
// values reach those decoders, the walks here add up what the bytes declare
// and refuse more than the page's values.

// hybridValues walks RLE/bit-packed hybrid data of values of bitWidth bits
// and returns how many values it holds, refusing data that declares more
// than limit (a bit-packed run's last group may hold up to 7 values of
// padding beyond; a repeated run none).
func hybridValues(src []byte, bitWidth, limit int) (int, error) {
	if bitWidth < 0 || bitWidth > 32 {
		return 0, fmt.Errorf("bit width %d", bitWidth)
	}
	n := 0
	for pos := 0; pos < len(src); {
		h, k := binary.Uvarint(src[pos:])
		if k <= 0 {
			return 0, errors.New("bad run header")
		}
		pos += k
		padding := 0
		if h&1 == 0 { // a run of one value repeated
			n += int(min(h>>1, uint64(limit)+1))
			pos += (bitWidth + 7) / 8
		} else { // groups of 8 bit-packed values, the last padded
			groups := min(h>>1, uint64(len(src)))
			n += int(groups) * 8
			pos += int(groups) * bitWidth
			padding = 7
		}
		if n > limit+padding {
			return 0, fmt.Errorf("runs declare more than %d values", limit)
		}
		if pos > len(src) {
			return 0, errors.New("a run ends past the data")
		}
	}
	return n, nil
}

// deltaStream walks a DELTA_BINARY_PACKED stream at the start of src and
// returns how many values it holds and where it ends, refusing one that
// declares more than limit values or whose blocks run past src.
func deltaStream(src []byte, limit int) (count, end int, err error) {
	pos := 0
	next := func() (uint64, error) {
		v, k := binary.Uvarint(src[pos:])
		if k <= 0 {
			return 0, errors.New("bad varint in a delta header")
		}
		pos += k
		return v, nil
	}
	blockSize, err := next()
	if err != nil {
		return 0, 0, err
	}
	miniblocks, err := next()
	if err != nil {
		return 0, 0, err
	}
	total, err := next()
	if err != nil {
		return 0, 0, err
	}
	if _, err := next(); err != nil { // the first value
		return 0, 0, err
	}
	if total > uint64(limit) {
		return 0, 0, fmt.Errorf("delta stream declares %d values, more than the page's %d", total, limit)
	}
	if blockSize == 0 || blockSize%128 != 0 || miniblocks == 0 || blockSize%miniblocks != 0 || (blockSize/miniblocks)%32 != 0 || blockSize > 1<<20 {
		return 0, 0, fmt.Errorf("delta blocks of %d values in %d miniblocks", blockSize, miniblocks)
	}
	perMini := int(blockSize / miniblocks)
	for left := int(total) - 1; left > 0; {
		if _, err := next(); err != nil { // the block's least delta
			return 0, 0, err
		}
		if pos+int(miniblocks) > len(src) {
			return 0, 0, errors.New("delta block ends past the data")
		}
		widths := src[pos : pos+int(miniblocks)]
		pos += int(miniblocks)
		for _, w := range widths {
			if left <= 0 {
				break // no body for a miniblock without values
			}
			if w > 64 {
				return 0, 0, fmt.Errorf("delta miniblock of %d-bit values", w)
			}
			pos += int(w) * perMini / 8
			if pos > len(src) {
				return 0, 0, errors.New("delta miniblock ends past the data")
			}
			left -= perMini
		}
	}
	return int(total), pos, nil
}

// checkValues walks a page's encoded values, of encoding enc, before they are
// decoded: what they declare must fit the page's limit values.
func checkValues(src []byte, enc format.Encoding, limit int) error {
	switch enc {
	case format.DeltaBinaryPacked, format.DeltaLengthByteArray:
		_, _, err := deltaStream(src, limit)
		return err
	case format.DeltaByteArray:
		_, end, err := deltaStream(src, limit) // the prefix lengths
		if err != nil {
			return err
		}
		_, _, err = deltaStream(src[end:], limit) // the suffixes' lengths
		return err
	case format.RLEDictionary, format.PlainDictionary:
		if len(src) == 0 {
			return nil
		}
		_, err := hybridValues(src[1:], int(src[0]), limit)
		return err
	}
	return nil
}
