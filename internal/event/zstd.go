package event

import (
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// zstdCodec is the Parquet zstd codec the writers use. It differs from
// parquet-go's in two ways that matter to a sensor encoding small batches all
// day: its encoders are kept for good (parquet-go pools them in a sync.Pool,
// which the garbage collector empties, so every collection cost a new encoder
// and its fresh memory), and their window is bounded by the largest page
// (instead of 8 MiB per encoder).
type zstdCodec struct {
	level zstd.EncoderLevel

	mu   sync.Mutex
	free []*zstd.Encoder
}

// zstdWindow covers a whole page (parquet-go's page buffers are 256 KiB).
const zstdWindow = 256 << 10

// maxFreeEncoders bounds the encoders kept: the writers compress one page at a
// time, so more are only needed briefly.
const maxFreeEncoders = 4

// zstdDecoder decompresses pages, which hold at most maxPageBytes: a frame
// that would decompress to more (a few bytes can say gigabytes) is refused
// as it is decoded, before it takes the memory.
var zstdDecoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPageBytes))

func (c *zstdCodec) String() string { return "ZSTD" }

func (c *zstdCodec) CompressionCodec() format.CompressionCodec { return format.Zstd }

func (c *zstdCodec) Encode(dst, src []byte) ([]byte, error) {
	c.mu.Lock()
	var e *zstd.Encoder
	if n := len(c.free); n > 0 {
		e, c.free = c.free[n-1], c.free[:n-1]
	}
	c.mu.Unlock()
	if e == nil {
		var err error
		e, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(c.level), zstd.WithEncoderConcurrency(1),
			zstd.WithWindowSize(zstdWindow), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
		if err != nil {
			return dst, err
		}
	}
	out := e.EncodeAll(src, dst[:0])
	c.mu.Lock()
	if len(c.free) < maxFreeEncoders {
		c.free = append(c.free, e)
	}
	c.mu.Unlock()
	return out, nil
}

func (c *zstdCodec) Decode(dst, src []byte) ([]byte, error) {
	return zstdDecoder.DecodeAll(src, dst[:0])
}
