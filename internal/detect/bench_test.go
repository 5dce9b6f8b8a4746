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
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testcheck"
)

// mix is a realistic event mix: mostly process and file activity, some network.
func mix(n int) []event.Event {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	out := make([]event.Event, n)
	for i := range out {
		e := event.Event{SensorID: "i-0abc", Hostname: "web-1", Tags: []string{"env:prod", "role:web"}, TimeNanos: at.Add(time.Duration(i) * time.Millisecond).UnixNano(),
			ID: fmt.Sprintf("ev-%08d", i), PID: uint32(1000 + i%5000), PPID: 1, UID: 33, User: "www-data",
			FilePath: "/usr/bin/python3", CommandLine: fmt.Sprintf("python3 /srv/app/worker.py --job %d", i), ParentFilePath: "/usr/lib/systemd/systemd", ParentCommandLine: "/sbin/init"}
		switch i % 10 {
		case 0, 1, 2:
			e.Type = event.NewProcess
		case 3:
			e.Type = event.TerminateProcess
		case 4, 5, 6:
			e.Type, e.TargetPath, e.FileFlags = event.FileOpen, fmt.Sprintf("/srv/app/data/%d.json", i%300), "read"
		case 7, 8:
			e.Type, e.Protocol, e.DestIP, e.DestPort, e.SourceIP, e.SourcePort = event.NetworkConnect, "tcp", "10.0.3.17", 5432, "10.0.1.5", uint16(40000+i%20000)
		case 9:
			e.Type, e.DomainName, e.DNSType, e.DestIP, e.DestPort = event.DNSRequest, "db.internal.example.com", "A", "10.0.0.2", 53
		}
		out[i] = e
	}
	return out
}

// BenchmarkHandleMiB measures the detect function's core on one Kinesis record of
// about 1 MiB (the record limit): Parquet decode plus evaluation against the whole
// shipped rule pack.
func BenchmarkHandleMiB(b *testing.B) {
	eng := packEngine(b)
	enc := event.NewEncoder()
	n := 1000
	var data []byte
	var err error
	for {
		if data, err = enc.Encode(mix(n)); err != nil {
			b.Fatal(err)
		}
		if len(data) > event.MaxRecordBytes*9/10 {
			break
		}
		n = n * event.MaxRecordBytes / len(data)
	}
	data = append([]byte(nil), data...)
	var rec events.KinesisEventRecord
	rec.Kinesis.Data, rec.Kinesis.SequenceNumber = data, "1"
	in := events.KinesisEvent{Records: []events.KinesisEventRecord{rec}}
	h := &KinesisHandler{Detector: NewDetector(eng), Publisher: &Printer{W: io.Discard, JSON: true}}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		resp, err := h.Handle(context.Background(), in)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			b.Fatal(err, resp)
		}
	}
	b.ReportMetric(float64(n), "events/record")
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "events/s")
}

// recordedBatches returns the recorded lake (testdata/recorded-lake.parquet:
// a minute of a real host as the sensor captured it, see
// scripts/record-lake.sh) cut into stream batches of perBatch events, as the
// sensor ships them, and the events.
func recordedBatches(tb testing.TB, perBatch int) ([][]byte, int) {
	data, err := os.ReadFile("testdata/recorded-lake.parquet")
	if err != nil {
		tb.Fatal(err)
	}
	evs, err := event.Decode(nil, data, 0)
	if err != nil {
		tb.Fatal(err)
	}
	enc := event.NewEncoder()
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
// evaluation against the whole rule pack, on the recorded lake cut into
// stream batches as a host sends them: 100 events (a host at 100 events/s
// sends one batch a second) and 2,000 (a batch's most), each batch one
// Kinesis record, 100 records an invocation. The decode and evaluate
// sub-benchmarks time each half alone.
func BenchmarkHandleRecorded(b *testing.B) {
	eng := packEngine(b)
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
		b.Run(fmt.Sprintf("events=%d/handle", per), func(b *testing.B) {
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
		b.Run(fmt.Sprintf("events=%d/decode", per), func(b *testing.B) {
			dec := event.NewDecoder()
			start(b)
			for b.Loop() {
				for _, data := range batches {
					if _, err := dec.Decode(data, MaxBatchRows); err != nil {
						b.Fatal(err)
					}
				}
			}
			report(b)
		})
		b.Run(fmt.Sprintf("events=%d/evaluate", per), func(b *testing.B) {
			var evs [][]event.Event
			for _, data := range batches {
				e, err := event.Decode(nil, data, MaxBatchRows)
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
