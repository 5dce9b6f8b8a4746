package event

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/klauspost/compress/zstd"
)

// Stream records. The sensor puts each batch on the stream as one zstd frame
// (zstd's fastest level) holding the batch's Parquet file, whose pages are
// not compressed on their own. A Parquet file of a hundred events whose pages
// are compressed pays for each of its columns a zstd frame of its own, and
// for the page headers and footer entries, which one compression over the
// whole file takes back; compressing once costs the sensor half as much, and
// the detect function reads a page without setting up a zstd frame for it
// (docs/sensor.md gives the figures). Lake files stay bare Parquet with zstd
// pages: query engines read them.
//
// Readers of stream records accept both forms, told apart by their first four
// bytes: a zstd frame's magic number, or Parquet's "PAR1" (older sensors,
// the audit webhook's batches, tests).

// zstdMagic opens every zstd frame.
var zstdMagic = []byte{0x28, 0xB5, 0x2F, 0xFD}

// MaxRecordPlainBytes bounds what a framed record may decompress to: the
// sensor frames Parquet batches (whose pages are not compressed) of at most
// that, so a frame declaring or decompressing to more is refused before it
// grows further.
const MaxRecordPlainBytes = 4 * MaxRecordBytes

// recordDecoder decompresses framed records. Its memory bound stops a frame at
// MaxRecordPlainBytes, whatever size it declares; DecodeAll is safe for
// concurrent use.
var recordDecoder = func() *zstd.Decoder {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0),
		zstd.WithDecoderMaxMemory(MaxRecordPlainBytes), zstd.WithDecoderMaxWindow(MaxRecordPlainBytes))
	if err != nil {
		panic(fmt.Sprintf("event: record decoder: %v", err)) // the options are constants
	}
	return d
}()

// IsFramedRecord reports whether data starts as a zstd frame: a stream record
// in the sensor's framed form.
func IsFramedRecord(data []byte) bool { return bytes.HasPrefix(data, zstdMagic) }

// RecordEncoder writes batches of events as stream records: a zstd frame
// (fastest level) holding the batch an Encoder made by NewEncoder writes, but
// for its pages, which are not compressed. It reuses its buffers across
// batches; it is not safe for concurrent use.
type RecordEncoder struct {
	enc   *Encoder
	frame []byte
}

// NewRecordEncoder returns a RecordEncoder of stream records.
func NewRecordEncoder() *RecordEncoder {
	return &RecordEncoder{enc: &Encoder{w: newRowGroupWriter(nil, false, true)}}
}

// Encode returns one stream record holding events. A batch whose Parquet
// file is over MaxRecordPlainBytes before framing is refused, so that every
// record decompresses within the readers' bound; the record itself may be
// over MaxRecordBytes (the shipper splits such batches). The returned slice
// is owned by the RecordEncoder and valid until the next call; copy it to
// keep it.
func (e *RecordEncoder) Encode(events []Event) ([]byte, error) {
	data, err := e.enc.Encode(events)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxRecordPlainBytes {
		return nil, fmt.Errorf("encode stream record: the Parquet batch of %d events is %d bytes, over the %d-byte limit",
			len(events), len(data), MaxRecordPlainBytes)
	}
	if e.frame, err = batchCodec.Encode(e.frame, data); err != nil {
		return nil, fmt.Errorf("encode stream record: zstd: %w", err)
	}
	return e.frame, nil
}

// unframe returns the Parquet batch a stream record holds: data itself when it
// is not a zstd frame, or the frame decompressed, appended to buf[:0]. A frame
// that does not decompress, or decompresses beyond MaxRecordPlainBytes, is an
// error wrapping ErrNotParquet.
func unframe(buf, data []byte) (parquet, kept []byte, err error) {
	if !IsFramedRecord(data) {
		return data, buf, nil
	}
	out, err := recordDecoder.DecodeAll(data, buf[:0])
	if err != nil {
		if errors.Is(err, zstd.ErrDecoderSizeExceeded) || errors.Is(err, zstd.ErrWindowSizeExceeded) {
			return nil, buf, fmt.Errorf("%w: zstd-framed record of %d bytes decompresses beyond the %d-byte limit: %w",
				ErrNotParquet, len(data), MaxRecordPlainBytes, err)
		}
		return nil, buf, fmt.Errorf("%w: zstd-framed record of %d bytes: %w", ErrNotParquet, len(data), err)
	}
	if len(out) > MaxRecordPlainBytes { // the decoder checks after each frame
		return nil, buf, fmt.Errorf("%w: zstd-framed record of %d bytes decompresses to %d, beyond the %d-byte limit",
			ErrNotParquet, len(data), len(out), MaxRecordPlainBytes)
	}
	if cap(out) > 2*MaxRecordPlainBytes {
		out = nil // not kept: a bound on what a reused buffer holds on to
	}
	return out, out, nil
}

// DecodeRecord reads a stream record, framed or bare, and appends its events
// to dst as Decode does; a framed record's events do not refer to its
// decompressed bytes. Errors wrap ErrNotParquet.
func DecodeRecord(dst []Event, data []byte, maxRows int64) ([]Event, error) {
	plain, _, err := unframe(nil, data)
	if err != nil {
		return dst, err
	}
	out, err := Decode(dst, plain, maxRows)
	return out, framedErr(data, err)
}

// framedErr names the frame in the error of the batch a framed record held.
func framedErr(data []byte, err error) error {
	if err != nil && IsFramedRecord(data) {
		return fmt.Errorf("zstd-framed record: %w", err)
	}
	return err
}

// RecordDecoder reads stream records, framed or bare, through a Decoder,
// whose events it reuses from one record to the next, and keeps the buffer
// frames decompress into. It is not safe for concurrent use.
type RecordDecoder struct {
	d   *Decoder
	buf []byte
}

// NewRecordDecoder returns a RecordDecoder reading through d (a new Decoder
// when d is nil).
func NewRecordDecoder(d *Decoder) *RecordDecoder {
	if d == nil {
		d = NewDecoder()
	}
	return &RecordDecoder{d: d}
}

// Decode reads a stream record as the package's DecodeRecord does and returns
// its events, valid until the next call, as Decoder.Decode's are.
func (r *RecordDecoder) Decode(data []byte, maxRows int64) ([]Event, error) {
	plain, kept, err := unframe(r.buf, data)
	r.buf = kept
	if err != nil {
		return nil, err
	}
	out, err := r.d.Decode(plain, maxRows)
	return out, framedErr(data, err)
}

// Complete reads the columns the last Decode left out (Decoder.Complete).
func (r *RecordDecoder) Complete() ([]Event, error) { return r.d.Complete() }
