package event

import (
	"bytes"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestRecordRoundTrip encodes batches as stream records and reads them back
// framed and bare, with DecodeRecord and with one RecordDecoder reused across
// every record of both forms.
func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
	}{
		{"empty", nil},
		{"sample", sampleEvents()},
		{"every field set", []Event{filled()}},
		{"exec storm of 2,000", execStorm(2000)},
		{"sample again", sampleEvents()},
	}
	renc, benc := NewRecordEncoder(), NewEncoder()
	rdec := NewRecordDecoder(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			framed, err := renc.Encode(tt.events)
			if err != nil {
				t.Fatal(err)
			}
			framed = bytes.Clone(framed)
			bare, err := benc.Encode(tt.events)
			if err != nil {
				t.Fatal(err)
			}
			if !IsFramedRecord(framed) || IsFramedRecord(bare) {
				t.Fatalf("IsFramedRecord: framed %v, bare %v", IsFramedRecord(framed), IsFramedRecord(bare))
			}
			// older sensors framed batches whose pages were zstd-compressed too
			older := zstdFrame(t, bare, true)
			for form, data := range map[string][]byte{"framed": framed, "bare": bare, "framed, zstd pages": older} {
				got, err := DecodeRecord(nil, data, 0)
				if err != nil {
					t.Fatalf("%s: DecodeRecord: %v", form, err)
				}
				if d := diffEvents(got, tt.events); d != "" {
					t.Fatalf("%s: DecodeRecord: %s", form, d)
				}
				got, err = rdec.Decode(data, 0)
				if err != nil {
					t.Fatalf("%s: RecordDecoder: %v", form, err)
				}
				if d := diffEvents(got, tt.events); d != "" {
					t.Fatalf("%s: RecordDecoder: %s", form, d)
				}
			}
		})
	}
}

// TestRecordDecodedOutlivesBuffer checks that the events a RecordDecoder
// returns do not refer to the buffer frames decompress into: decompressing
// the next record over it must not change the strings of the last (kept as
// shallow copies, since the decoder reuses its events).
func TestRecordDecodedOutlivesBuffer(t *testing.T) {
	renc, rdec := NewRecordEncoder(), NewRecordDecoder(nil)
	first, err := renc.Encode(sampleEvents())
	if err != nil {
		t.Fatal(err)
	}
	got, err := rdec.Decode(bytes.Clone(first), 0)
	if err != nil {
		t.Fatal(err)
	}
	kept := append([]Event(nil), got...)
	other := execStorm(len(kept))
	for i := range other {
		other[i].FilePath = strings.Repeat("x", len(kept[i].FilePath))
		other[i].CommandLine = strings.Repeat("y", len(kept[i].CommandLine))
	}
	next, err := renc.Encode(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rdec.Decode(next, 0); err != nil {
		t.Fatal(err)
	}
	if d := diffEvents(kept, sampleEvents()); d != "" {
		t.Fatalf("the first record's events changed: %s", d)
	}
}

func mustEncode(t testing.TB, evs []Event) []byte {
	t.Helper()
	data, err := NewEncoder().Encode(evs)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(data)
}

// TestRecordEncoderLimit checks that a batch whose Parquet file is over
// MaxRecordPlainBytes is refused before framing, however well it compresses,
// and that one under it is framed, even when over MaxRecordBytes: the
// shipper splits records by their framed size.
func TestRecordEncoderLimit(t *testing.T) {
	ev := sampleEvents()[0]
	ev.CommandLine = strings.Repeat("a", MaxRecordPlainBytes+1)
	_, err := NewRecordEncoder().Encode([]Event{ev})
	if err == nil || !strings.Contains(err.Error(), "over the 4194304-byte limit") {
		t.Fatalf("err = %v, want the batch refused over the 4194304-byte limit", err)
	}
	ev.CommandLine = strings.Repeat("a", 2*MaxRecordBytes)
	rec, err := NewRecordEncoder().Encode([]Event{ev})
	if err != nil {
		t.Fatal(err)
	}
	got, err := DecodeRecord(nil, rec, 0)
	if err != nil || len(got) != 1 || got[0].CommandLine != ev.CommandLine {
		t.Fatalf("a record of a %d-byte command line framed in %d bytes: %d events, %v", len(ev.CommandLine), len(rec), len(got), err)
	}
}

// zstdFrame compresses data as one frame, declaring its size (EncodeAll) or
// not (a stream).
func zstdFrame(t testing.TB, data []byte, declareSize bool) []byte {
	t.Helper()
	if declareSize {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
		if err != nil {
			t.Fatal(err)
		}
		return e.EncodeAll(data, nil)
	}
	var buf bytes.Buffer
	e, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeRecordRefuses feeds the record decoders bombs (frames of a few
// KiB decompressing to 64 MiB, declaring their size or not, and frames
// concatenated), truncated and damaged frames and frames that hold no Parquet
// file: each is refused with an error wrapping ErrNotParquet that says what is
// wrong, without allocating the bomb's size (a frame of unknown size costs
// the doublings of a buffer growing to the limit), and the reused RecordDecoder
// still reads a good record afterwards.
func TestDecodeRecordRefuses(t *testing.T) {
	good, err := NewRecordEncoder().Encode(sampleEvents())
	if err != nil {
		t.Fatal(err)
	}
	good = bytes.Clone(good)
	zeros := make([]byte, 64<<20)
	damaged := bytes.Clone(good)
	damaged[len(damaged)/2] ^= 0xff
	underLimit := zstdFrame(t, make([]byte, MaxRecordPlainBytes-1024), true)
	tests := []struct {
		name, data, want string
	}{
		{"bomb declaring its size", string(zstdFrame(t, zeros, true)), "decompresses beyond the 4194304-byte limit"},
		{"bomb of unknown size", string(zstdFrame(t, zeros, false)), "decompresses beyond the 4194304-byte limit"},
		{"frames adding up to a bomb", strings.Repeat(string(underLimit), 3), "decompresses beyond the 4194304-byte limit"},
		{"truncated frame", string(good[:len(good)/2]), "zstd-framed record of"},
		{"magic only", string(zstdMagic), "zstd-framed record of 4 bytes"},
		{"damaged frame", string(damaged), "zstd-framed record"},
		{"frame of text", string(zstdFrame(t, []byte("not a parquet file at all"), true)), "zstd-framed record: not a Vigil Parquet batch"},
		{"frame of a frame", string(zstdFrame(t, good, true)), "zstd-framed record: not a Vigil Parquet batch"},
		{"empty frame", string(zstdFrame(t, nil, true)), "zstd-framed record: not a Vigil Parquet batch"},
	}
	rdec := NewRecordDecoder(nil)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := DecodeRecord(nil, []byte(tt.data), 0)
			runtime.ReadMemStats(&after)
			if err == nil || !errors.Is(err, ErrNotParquet) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("DecodeRecord: %v, want an error wrapping ErrNotParquet containing %q", err, tt.want)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 8*MaxRecordPlainBytes { // the buffer grows by doubling up to the limit
				t.Fatalf("DecodeRecord allocated %d bytes refusing a %d-byte record", grew, len(tt.data))
			}
			if _, err := rdec.Decode([]byte(tt.data), 0); err == nil || !errors.Is(err, ErrNotParquet) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("RecordDecoder: %v, want an error wrapping ErrNotParquet containing %q", err, tt.want)
			}
			got, err := rdec.Decode(good, 0)
			if err != nil {
				t.Fatalf("RecordDecoder after the refusal: %v", err)
			}
			if d := diffEvents(got, sampleEvents()); d != "" {
				t.Fatalf("RecordDecoder after the refusal: %s", d)
			}
		})
	}
}

// FuzzDecodeRecord feeds the stream record decoders damaged and made-up
// records, framed and bare. DecodeRecord and a RecordDecoder reused across
// inputs must agree; what they read must encode again as a record that reads
// the same. Seeds are records of a few rows; run it with a short minimization
// (-fuzzminimizetime=100x).
func FuzzDecodeRecord(f *testing.F) {
	renc := NewRecordEncoder()
	for _, evs := range [][]Event{nil, sampleEvents(), {filled()}, execStorm(6)} {
		framed, err := renc.Encode(evs)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(bytes.Clone(framed))
		f.Add(mustEncode(f, evs))
		f.Add(bytes.Clone(framed[:len(framed)*2/3]))
	}
	f.Add(zstdFrame(f, []byte("PAR1\x00\x00\x00\x00PAR1"), false))
	rdec := NewRecordDecoder(nil)
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxRows = 300 // an input's runs stay within milliseconds
		events, err := DecodeRecord(nil, data, maxRows)
		reused, rerr := rdec.Decode(data, maxRows)
		if (err == nil) != (rerr == nil) {
			t.Fatalf("DecodeRecord: %v; a reused RecordDecoder: %v", err, rerr)
		}
		if err != nil {
			if !errors.Is(err, ErrNotParquet) || !errors.Is(rerr, ErrNotParquet) {
				t.Fatalf("errors do not wrap ErrNotParquet: %v; %v", err, rerr)
			}
			return
		}
		if d := diffEvents(reused, events); d != "" {
			t.Fatalf("a reused RecordDecoder reads otherwise: %s", d)
		}
		again, err := renc.Encode(events)
		if err != nil {
			t.Fatalf("decoded events do not encode: %v", err)
		}
		back, err := DecodeRecord(nil, again, maxRows)
		if err != nil {
			t.Fatalf("encoded record does not decode: %v", err)
		}
		if d := diffEvents(back, events); d != "" {
			t.Fatalf("changed in a round trip: %s", d)
		}
	})
}
