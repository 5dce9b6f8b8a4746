package spool

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestParseFiles reads spool files written in the on-disk layout (testdata),
// and damaged copies of one: each error wraps errCorrupt and names the file and
// what is wrong.
func TestParseFiles(t *testing.T) {
	lake, err := os.ReadFile("testdata/00000000000000000007-lake.spool")
	if err != nil {
		t.Fatal(err)
	}
	damage := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(lake)) }
	keyEnd := len(magic) + 9 + 1 + len("events/dt=2026-01-01/hr=00/sensor=a/b.parquet")
	tests := []struct {
		name    string // file name; testdata/name when data is nil
		data    []byte
		want    entry
		wantErr string // part of the error; "" for none
	}{
		{name: "00000000000000000007-lake.spool", want: entry{Seq: 7, Kind: LakeFile, Key: "events/dt=2026-01-01/hr=00/sensor=a/b.parquet",
			Created: time.Unix(0, 1700000000000000042), size: 28}},
		{name: "00000000000000000008-record.spool", want: entry{Seq: 8, Kind: Record, Created: time.Unix(0, 1700000000123456789), size: 10}},
		{"x-lake.spool", lake, entry{}, "sequence number"},
		{"1-lake.spool", damage(func(b []byte) []byte { b[0] = 'X'; return b }), entry{}, "header"},
		{"1-lake.spool", lake[:len(magic)+4], entry{}, "too short for the kind"},
		{"1-lake.spool", damage(func(b []byte) []byte { b[len(magic)] = 3; return b }), entry{}, "kind 3"},
		{"1-lake.spool", damage(func(b []byte) []byte { b[len(magic)+9] = 0xff; return b }), entry{}, "runs past the end"},
		{"1-lake.spool", damage(func(b []byte) []byte {
			// the key length 45 (0x2d) written in two bytes, 0xad 0x00: not minimal
			return append(append(b[:len(magic)+9:len(magic)+9], 0xad, 0x00), b[len(magic)+10:]...)
		}), entry{}, "varint"},
		{"1-lake.spool", lake[:keyEnd+5], entry{}, "too short for the data length"},
		{"1-lake.spool", lake[:len(lake)-1], entry{}, "27 bytes of data, the header says 28"},
		{"1-lake.spool", damage(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), entry{}, "checksum"},
	}
	for _, tc := range tests {
		data := tc.data
		if data == nil {
			if data, err = os.ReadFile(filepath.Join("testdata", tc.name)); err != nil {
				t.Fatal(err)
			}
		}
		path := filepath.Join("/var/lib/vigil/spool", tc.name)
		got, _, err := parse(data, path)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (!errors.Is(err, errCorrupt) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want errCorrupt naming %s and %q", tc.name, err, path, tc.wantErr)
		case tc.wantErr == "" && (got.Seq != tc.want.Seq || got.Kind != tc.want.Kind || got.Key != tc.want.Key ||
			!got.Created.Equal(tc.want.Created) || got.size != tc.want.size):
			t.Errorf("%s: %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// FuzzParse: an item encoded as Append writes it is parsed back as it was; any
// input either gives an error wrapping errCorrupt that names the file, or an
// item that encodes to exactly the input (no two files parse the same).
func FuzzParse(f *testing.F) {
	for _, name := range []string{"00000000000000000007-lake.spool", "00000000000000000008-record.spool"} {
		raw, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(byte(LakeFile), int64(1700000000000000042), "events/x.parquet", []byte("PAR1"), raw)
	}
	f.Add(byte(Record), int64(0), "", []byte{}, []byte("VSPL1\n\x01"))
	f.Add(byte(Record), int64(-1), "k", []byte("\x00"), []byte(magic+"\x02\x00\x00\x00\x00\x00\x00\x00\x00\x80\x00"))
	f.Add(byte(3), int64(1)<<62, strings.Repeat("k", 200), bytes.Repeat([]byte("d"), 300), []byte{})
	const name = "00000000000000000042-record.spool"
	f.Fuzz(func(t *testing.T, kind byte, created int64, key string, data []byte, raw []byte) {
		// any input
		path := filepath.Join("/spool", name)
		e, d, err := parse(raw, path)
		if err != nil {
			if !errors.Is(err, errCorrupt) || !strings.HasPrefix(err.Error(), path+": ") {
				t.Fatalf("parse error %v does not wrap errCorrupt naming the file", err)
			}
		} else if again := append(encodeHeader(e, d), d...); !bytes.Equal(again, raw) || e.Seq != 42 {
			t.Fatalf("parse(%q) = %+v, %q: encodes to %q", raw, e, d, again)
		}

		// an item as written
		if Kind(kind) != Record && Kind(kind) != LakeFile {
			return
		}
		want := entry{Seq: 42, Kind: Kind(kind), Key: key, Created: time.Unix(0, created), size: int64(len(data))}
		file := append(encodeHeader(want, data), data...)
		got, gd, err := parse(file, path)
		if err != nil {
			t.Fatalf("parse of an encoded item: %v", err)
		}
		if got.Seq != want.Seq || got.Kind != want.Kind || got.Key != want.Key || got.Created.UnixNano() != created ||
			got.size != want.size || !bytes.Equal(gd, data) {
			t.Fatalf("parsed %+v %q, want %+v %q", got, gd, want, data)
		}
	})
}
