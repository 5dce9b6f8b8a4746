package event

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// BenchmarkLakeFileLevel writes the recorded host's minute (the detect
// function's fixture, 56,502 events) as one lake file at zstd's default and
// "better" levels, the second being the lake writer's: the time it takes and
// the bytes an event it comes to. docs/BENCHMARKS.md has the figures.
func BenchmarkLakeFileLevel(b *testing.B) {
	raw, err := os.ReadFile(filepath.Join("..", "detect", "testdata", "recorded-lake.parquet"))
	if err != nil {
		b.Fatal(err)
	}
	evs, err := Decode(nil, raw, 1<<20)
	if err != nil {
		b.Fatal(err)
	}
	for _, lvl := range []zstd.EncoderLevel{zstd.SpeedDefault, zstd.SpeedBetterCompression} {
		b.Run("level="+lvl.String(), func(b *testing.B) {
			kept := fileCodec.level
			fileCodec.mu.Lock()
			fileCodec.level, fileCodec.free = lvl, nil
			fileCodec.mu.Unlock()
			defer func() {
				fileCodec.mu.Lock()
				fileCodec.level, fileCodec.free = kept, nil
				fileCodec.mu.Unlock()
			}()
			var size int
			for b.Loop() {
				fw := NewFileWriter()
				if err := fw.Write(evs); err != nil {
					b.Fatal(err)
				}
				data, err := fw.Close()
				if err != nil {
					b.Fatal(err)
				}
				size = len(data)
			}
			b.ReportMetric(float64(size)/float64(len(evs)), "bytes/event")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(evs)), "ns/event")
		})
	}
}
