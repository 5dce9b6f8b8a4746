package event

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func sampleEvents() []Event {
	return []Event{
		{SensorID: "s-1", Hostname: "web-1", Tags: []string{"env:prod", "role:web"}, Type: NewProcess,
			TimeNanos: 1763800000123456789, ID: "01J0000000000000000000000A", PID: 4242, PPID: 1, UID: 0,
			User: "root", FilePath: "/usr/bin/docker", CommandLine: "docker run --privileged alpine",
			ParentFilePath: "/bin/bash", ParentCommandLine: "-bash", CgroupID: 77},
		{SensorID: "s-1", Hostname: "web-1", Type: TerminateProcess, TimeNanos: 1763800000223456789,
			ID: "01J0000000000000000000000B", PID: 4242, ExitCode: -9},
		{SensorID: "s-2", Hostname: "db-1", Type: NetworkConnect, Protocol: "tcp", SourceIP: "10.0.0.2",
			SourcePort: 50000, DestIP: "2001:db8::1", DestPort: 443, ID: "c"},
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		events []Event
	}{
		{"empty", nil},
		{"one", sampleEvents()[:1]},
		{"mixed types", sampleEvents()},
		{"every field set", []Event{filled()}},
	}
	enc := NewEncoder()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			data, err := enc.Encode(tc.events)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Decode(nil, data, 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.events) {
				t.Fatalf("got %d events, want %d", len(got), len(tc.events))
			}
			for i := range got {
				want := tc.events[i]
				if want.Tags == nil {
					want.Tags = got[i].Tags[:0:0]
					if got[i].Tags == nil {
						want.Tags = nil
					}
				}
				if !reflect.DeepEqual(got[i], want) {
					t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want)
				}
			}
		})
	}
}

func TestDecodeRejects(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"garbage", []byte("hello, this is not parquet at all")},
		{"magic only", []byte("PAR1PAR1")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(nil, tc.data, 0)
			if !errors.Is(err, ErrNotParquet) {
				t.Fatalf("err = %v, want ErrNotParquet", err)
			}
		})
	}
}

func FuzzDecode(f *testing.F) {
	enc := NewEncoder()
	for i := range sampleEvents() {
		data, err := enc.Encode(sampleEvents()[:i+1])
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte(nil), data...))
	}
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := Decode(nil, data, 10000)
		if err != nil && !errors.Is(err, ErrNotParquet) {
			t.Fatalf("error does not wrap ErrNotParquet: %v", err)
		}
		if err == nil {
			// whatever decoded must encode again
			if _, err := NewEncoder().Encode(events); err != nil {
				t.Fatalf("decoded events do not re-encode: %v", err)
			}
		}
	})
}

func benchEvents(n int) []Event {
	out := make([]Event, n)
	s := sampleEvents()
	for i := range out {
		out[i] = s[i%len(s)]
		out[i].PID = uint32(1000 + i)
		out[i].TimeNanos += int64(i) * 1000
		out[i].ID = NewID(time.Unix(0, out[i].TimeNanos))
	}
	return out
}

func BenchmarkEncode(b *testing.B) {
	events := benchEvents(1000)
	enc := NewEncoder()
	var size int
	b.ReportAllocs()
	for b.Loop() {
		data, err := enc.Encode(events)
		if err != nil {
			b.Fatal(err)
		}
		size = len(data)
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(size)/float64(len(events)), "bytes/event")
}

func BenchmarkDecode(b *testing.B) {
	events := benchEvents(1000)
	data, err := NewEncoder().Encode(events)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]Event, 0, len(events))
	b.ReportAllocs()
	for b.Loop() {
		if dst, err = Decode(dst[:0], data, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(events))/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(float64(len(data))/float64(len(events)), "bytes/event")
}
