package shipper

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// mix is a realistic minute of a busy host, as the collector emits it: process
// starts and exits from a handful of executables, file opens under a few
// directories, connections to a few services, DNS lookups. Times advance by a few
// hundred microseconds, ids are ULIDs of those times.
func mix(n int) []event.Event {
	start := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	exes := []string{"/usr/bin/bash", "/usr/bin/curl", "/usr/bin/python3", "/usr/sbin/sshd", "/usr/bin/git", "/usr/local/bin/node"}
	files := []string{"/etc/passwd", "/etc/hosts", "/proc/self/status", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/var/log/app/app.log", "/tmp/build-1234/out.o"}
	hosts := []string{"10.0.1.12", "10.0.1.13", "172.31.4.20", "52.94.233.1"}
	domains := []string{"sts.us-east-1.amazonaws.com", "kinesis.us-east-1.amazonaws.com", "github.com", "registry.npmjs.org"}
	tags := []string{"env:prod", "deployment:d-1a2b3c", "instance_type:m6i.large", "az:us-east-1a"}
	out := make([]event.Event, n)
	at := start
	for i := range out {
		at = at.Add(time.Duration(150+(i*7919)%400) * time.Microsecond)
		pid := uint32(4000 + (i/7)%300)
		exe := exes[(i/7)%len(exes)]
		e := event.Event{SensorID: "i-0abc123def4567890", Hostname: "ip-10-0-1-17", Tags: tags,
			TimeNanos: at.UnixNano(), ID: event.NewID(at), PID: pid, PPID: 1200 + pid%5, UID: 1000, GID: 1000,
			User: "app", FilePath: exe, CommandLine: fmt.Sprintf("%s --job %d", exe, (i/7)%300),
			ParentFilePath: "/usr/bin/bash", ParentCommandLine: "bash -c ./run.sh", GrandparentPath: "/usr/sbin/sshd",
			GrandparentCmd: "sshd: app [priv]", EUID: 1000, CgroupID: 4242}
		switch r := i % 20; {
		case r < 2:
			e.Type = event.NewProcess
		case r < 4:
			e.Type, e.ExitCode = event.TerminateProcess, 0
		case r < 14:
			e.Type, e.TargetPath, e.FileFlags = event.FileOpen, files[i%len(files)], "read"
		case r < 18:
			e.Type, e.Protocol, e.SourceIP, e.SourcePort = event.NetworkConnect, "tcp", "10.0.1.17", uint16(32768+i%20000)
			e.DestIP, e.DestPort = hosts[i%len(hosts)], []uint16{443, 5432, 443, 6379}[i%4]
		default:
			e.Type, e.DomainName, e.DNSType, e.Protocol = event.DNSRequest, domains[i%len(domains)], "A", "udp"
			e.DestIP, e.DestPort = "10.0.0.2", 53
		}
		out[i] = e
	}
	return out
}

// BenchmarkBytesPerEvent measures the wire size of hot-path records (batches of
// BatchEvents, one second of a busy host, as framed stream records), per
// event.
func BenchmarkBytesPerEvent(b *testing.B) {
	events := mix(20000)
	for _, size := range []int{500, 2000, 20000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			enc := event.NewRecordEncoder()
			var bytes, n int
			for b.Loop() {
				bytes, n = 0, 0
				for off := 0; off+size <= len(events); off += size {
					data, err := enc.Encode(events[off : off+size])
					if err != nil {
						b.Fatal(err)
					}
					bytes += len(data)
					n += size
				}
			}
			b.ReportMetric(float64(bytes)/float64(n), "bytes/event")
		})
	}
}

type discardStream struct{}

func (discardStream) Put(context.Context, string, [][]byte) error { return nil }

// countingLake counts the bytes put.
type countingLake struct{ bytes atomic.Int64 }

func (l *countingLake) Put(_ context.Context, _ string, data []byte) error {
	l.bytes.Add(int64(len(data)))
	return nil
}

// BenchmarkAdd is an exec storm through both paths: each op adds one lake file's
// worth of events (RollEvents, 500000 by default) as the collector does, with a
// tick every 5000 events (a busy second). It reports the cost per event, Add and
// encoding included, the heap the shipper holds just before a lake file is rolled,
// and the size of the lake files.
func BenchmarkAdd(b *testing.B) {
	for _, perFile := range []int{50_000, 500_000} {
		b.Run(fmt.Sprintf("file=%d", perFile), func(b *testing.B) { benchmarkAdd(b, perFile) })
	}
}

func benchmarkAdd(b *testing.B, perFile int) {
	const perTick = 5000
	events := mix(perFile)
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC() // and the pools of an earlier benchmark
	runtime.ReadMemStats(&ms)
	base := ms.HeapAlloc
	lake := &countingLake{}
	s := New(Options{SensorID: "i-0abc123def4567890", Stream: discardStream{}, Lake: lake,
		RollInterval: time.Hour, RollEvents: perFile, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx := context.Background()
	file := func(beforeLastTick func()) {
		for i := range events {
			if i == len(events)-1 && beforeLastTick != nil {
				beforeLastTick()
			}
			s.Add(&events[i])
			if (i+1)%perTick == 0 {
				if err := s.flush(ctx, false); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		file(nil)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*perFile)/b.Elapsed().Seconds(), "events/s")
	file(func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
	})
	b.ReportMetric(float64(ms.HeapAlloc-base)/(1<<20), "live-MiB")
	b.ReportMetric(float64(lake.bytes.Load())/float64((b.N+1)*perFile), "lake-bytes/event")
}
