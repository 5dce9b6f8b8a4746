package detect

import (
	"context"
	"fmt"
	"io"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
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
	rs, err := engine.Load(os.DirFS("../../rules"), ".")
	if err != nil {
		b.Fatal(err)
	}
	eng, err := engine.New(rs)
	if err != nil {
		b.Fatal(err)
	}
	enc := event.NewEncoder()
	n := 1000
	var data []byte
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
