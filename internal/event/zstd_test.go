package event

import (
	"bytes"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// TestZstdCodec checks that pages the codec compresses decode with a standard
// zstd decoder, at both levels the writers use, for empty, small, page-sized and
// over-window inputs, and that encoders are reused, never more kept than
// maxFreeEncoders, even under concurrent use.
func TestZstdCodec(t *testing.T) {
	inputs := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"small", []byte("NEW_PROCESS /bin/true true")},
		{"page", []byte(strings.Repeat("/usr/bin/bash -c echo ", 256<<10/22))},
		{"over the window", bytes.Repeat([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 100<<10)},
	}
	std, err := zstd.NewReader(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer std.Close()
	for _, level := range []zstd.EncoderLevel{zstd.SpeedFastest, zstd.SpeedDefault} {
		c := &zstdCodec{level: level}
		for _, in := range inputs {
			t.Run(level.String()+"/"+in.name, func(t *testing.T) {
				enc, err := c.Encode(nil, in.data)
				if err != nil {
					t.Fatal(err)
				}
				got, err := std.DecodeAll(enc, nil)
				if err != nil {
					t.Fatalf("standard decoder: %v", err)
				}
				if !bytes.Equal(got, in.data) {
					t.Fatalf("round trip changed %d bytes into %d", len(in.data), len(got))
				}
				back, err := c.Decode(nil, enc)
				if err != nil || !bytes.Equal(back, in.data) {
					t.Fatalf("codec Decode: %v (%d bytes, want %d)", err, len(back), len(in.data))
				}
			})
		}
		if n := len(c.free); n != 1 {
			t.Errorf("%s: %d encoders kept after sequential use, want 1 (reused)", level, n)
		}
		var wg sync.WaitGroup
		for range 16 {
			wg.Go(func() {
				if _, err := c.Encode(nil, inputs[2].data); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if n := len(c.free); n > maxFreeEncoders {
			t.Errorf("%s: %d encoders kept after concurrent use, want at most %d", level, n, maxFreeEncoders)
		}
	}
}
