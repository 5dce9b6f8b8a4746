package detect

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/internal/testcheck"
	"github.com/vigil-sec/vigil/rules"
)

// recordedBatches returns the recorded lake (testdata/recorded-lake.parquet:
// a minute of a real host as the sensor captured it, see
// scripts/record-lake.sh) cut into stream records of perBatch events, as the
// sensor ships them, and the number of events.
func recordedBatches(tb testing.TB, perBatch int) ([][]byte, int) {
	data, err := os.ReadFile("testdata/recorded-lake.parquet")
	if err != nil {
		tb.Fatal(err)
	}
	evs, err := event.Decode(nil, data, 0)
	if err != nil {
		tb.Fatal(err)
	}
	enc := event.NewRecordEncoder()
	var out [][]byte
	for i := 0; i < len(evs); i += perBatch {
		b, err := enc.Encode(evs[i:min(i+perBatch, len(evs))])
		if err != nil {
			tb.Fatal(err)
		}
		out = append(out, bytes.Clone(b))
	}
	return out, len(evs)
}

// BenchmarkHandleRecorded measures the detect function's core, decode plus
// evaluation, on the recorded lake cut into stream records as a host sends
// them: 100 events (a host at 100 events/s sends one a second) and 2,000 (a
// batch's most), 100 records an invocation. The decode and evaluate
// sub-benchmarks time each half alone: decode reads a record as Batch does,
// in the columns the pack reads (none of the recorded host's events match
// it), and decode-whole every column. The rules are
// the shipped pack; with VIGIL_RULE_SOURCES set (as the function reads it: rule
// directories and files, Falco and Sigma ones included, separated by colons)
// the pack and those sources as well, rules=sources.
func BenchmarkHandleRecorded(b *testing.B) {
	engines := []struct {
		name string
		eng  *engine.Engine
	}{{"pack", packEngine(b)}}
	if os.Getenv(rulesource.EnvSources) != "" {
		set, err := rulesource.FromEnv(os.Getenv, rules.FS)
		if err != nil {
			b.Fatal(err)
		}
		eng, err := set.Engine()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("rules=sources: %d rules", len(eng.Rules()))
		engines = append(engines, struct {
			name string
			eng  *engine.Engine
		}{"sources", eng})
	}
	for _, per := range []int{100, 2000} {
		batches, n := recordedBatches(b, per)
		size := 0
		var in []events.KinesisEvent
		for i := 0; i < len(batches); i += 100 {
			var ev events.KinesisEvent
			for j, data := range batches[i:min(i+100, len(batches))] {
				var rec events.KinesisEventRecord
				rec.Kinesis.Data, rec.Kinesis.SequenceNumber = data, fmt.Sprint(i+j)
				ev.Records = append(ev.Records, rec)
				size += len(data)
			}
			in = append(in, ev)
		}
		var cpu0 time.Duration
		start := func(b *testing.B) {
			b.ReportAllocs()
			runtime.GC()
			b.ResetTimer()
			cpu0 = testcheck.ProcessCPU()
		}
		report := func(b *testing.B) {
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
			if cpu := testcheck.ProcessCPU() - cpu0; cpu > 0 {
				b.ReportMetric(float64(b.N*n)/cpu.Seconds(), "events/cpu-s")
			}
			b.ReportMetric(float64(size)/float64(n), "bytes/event")
		}
		for _, whole := range []bool{false, true} {
			name := "decode"
			dec, err := batchDecoder(engines[0].eng)
			if err != nil {
				b.Fatal(err)
			}
			if whole {
				name, dec = "decode-whole", event.NewStreamDecoder()
			}
			b.Run(fmt.Sprintf("events=%d/%s", per, name), func(b *testing.B) {
				rd := event.NewRecordDecoder(dec)
				start(b)
				for b.Loop() {
					for _, data := range batches {
						if _, err := rd.Decode(data, MaxBatchRows); err != nil {
							b.Fatal(err)
						}
					}
				}
				report(b)
			})
		}
		for _, e := range engines {
			eng := e.eng
			b.Run(fmt.Sprintf("events=%d/rules=%s/handle", per, e.name), func(b *testing.B) {
				h := &KinesisHandler{Detector: NewDetector(eng), Publisher: &Printer{W: io.Discard, JSON: true}}
				start(b)
				for b.Loop() {
					for _, ev := range in {
						resp, err := h.Handle(context.Background(), ev)
						if err != nil || len(resp.BatchItemFailures) != 0 {
							b.Fatal(err, resp)
						}
					}
				}
				report(b)
			})
			b.Run(fmt.Sprintf("events=%d/rules=%s/evaluate", per, e.name), func(b *testing.B) {
				var evs [][]event.Event
				for _, data := range batches {
					e, err := event.DecodeRecord(nil, data, MaxBatchRows)
					if err != nil {
						b.Fatal(err)
					}
					evs = append(evs, e)
				}
				d := NewDetector(eng)
				var ds []Detection
				start(b)
				for b.Loop() {
					for _, e := range evs {
						ds = d.Evaluate(ds[:0], e)
					}
				}
				report(b)
			})
		}
	}
}

// BenchmarkRecordBytes measures the stream records of the recorded lake cut
// into batches of 100, 200, 500 and 2,000 events (a host at 100, 200, 500
// and 2,000 events/s sends one batch a second), in both forms: bare Parquet
// batches (form=parquet, what sensors sent before stream records were
// framed) and Parquet batches in a zstd frame (form=framed, what the sensor
// sends). Each op encodes every batch, as the sensor does, and reports the
// bytes per event on the wire; the records are then read back through one
// RecordDecoder, as the detect function reads them, and must hold every event.
func BenchmarkRecordBytes(b *testing.B) {
	data, err := os.ReadFile("testdata/recorded-lake.parquet")
	if err != nil {
		b.Fatal(err)
	}
	evs, err := event.Decode(nil, data, 0)
	if err != nil {
		b.Fatal(err)
	}
	forms := []struct {
		name string
		enc  interface {
			Encode([]event.Event) ([]byte, error)
		}
	}{
		{"parquet", event.NewEncoder()},
		{"framed", event.NewRecordEncoder()},
	}
	for _, per := range []int{100, 200, 500, 2000} {
		for _, f := range forms {
			b.Run(fmt.Sprintf("events=%d/form=%s", per, f.name), func(b *testing.B) {
				var records [][]byte
				size := 0
				for b.Loop() {
					records, size = records[:0], 0
					for i := 0; i < len(evs); i += per {
						rec, err := f.enc.Encode(evs[i:min(i+per, len(evs))])
						if err != nil {
							b.Fatal(err)
						}
						size += len(rec)
						records = append(records, bytes.Clone(rec))
					}
				}
				b.ReportMetric(float64(size)/float64(len(evs)), "bytes/event")
				dec := event.NewRecordDecoder(nil)
				n := 0
				for _, rec := range records {
					got, err := dec.Decode(rec, MaxBatchRows)
					if err != nil {
						b.Fatal(err)
					}
					n += len(got)
				}
				if n != len(evs) {
					b.Fatalf("read back %d events of %d", n, len(evs))
				}
			})
		}
	}
}
