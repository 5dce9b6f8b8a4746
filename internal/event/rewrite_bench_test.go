package event

import (
	"testing"
)

// BenchmarkRewriteLakeFiles measures what compacting the lake would cost: an
// hour of one host's lake files (12 files of 5 minutes at 100 events a second,
// 30,000 events each of an exec storm) read as the lake search reads them
// (LakeFile, every column) and written again as one file (FileWriter). docs/deploy.md
// ("Compaction") prices this work as Lambda time.
func BenchmarkRewriteLakeFiles(b *testing.B) {
	const files, perFile = 12, 30_000
	events := execStorm(perFile)
	var inputs [][]byte
	var inBytes int
	fw := NewFileWriter()
	for range files {
		if err := fw.Write(events); err != nil {
			b.Fatal(err)
		}
		f, err := fw.Close()
		if err != nil {
			b.Fatal(err)
		}
		inputs = append(inputs, f)
		inBytes += len(f)
	}
	b.ReportAllocs()
	b.ResetTimer()
	var dst []Event
	var out []byte
	for b.Loop() {
		for _, in := range inputs {
			lf, err := OpenLakeFile(in, 0)
			if err != nil {
				b.Fatal(err)
			}
			for g := range lf.RowGroups() {
				if dst, err = lf.ReadRowGroup(dst[:0], g, nil); err != nil {
					b.Fatal(err)
				}
				if err := fw.Write(dst); err != nil {
					b.Fatal(err)
				}
			}
		}
		var err error
		if out, err = fw.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*files*perFile), "ns/event")
	b.ReportMetric(float64(inBytes)/float64(files*perFile), "in-B/event")
	b.ReportMetric(float64(len(out))/float64(files*perFile), "out-B/event")
}
