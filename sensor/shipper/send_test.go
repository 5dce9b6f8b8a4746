package shipper

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// TestSendAtOnceAndInOrder: a record given to Send is on the stream
// (kinesalite) long before the batch interval ends, ahead of the batch of the
// events added after it. While the stream is down (kinesalite stopped) the
// records wait in the disk spool with the batches, and when it is back they are
// delivered in the order they were given, still ahead of the events added
// after them.
func TestSendAtOnceAndInOrder(t *testing.T) {
	const stream = "vigil-send"
	kin, kc := testenv.OutageStream(t, stream)
	sp, err := spool.Open(t.TempDir(), 1<<30)
	if err != nil {
		t.Fatal(err)
	}
	const interval = 3 * time.Second
	s := New(Options{SensorID: "s-1", Stream: &vaws.Kinesis{Client: kc, StreamName: stream, MaxAttempts: 1}, Spool: sp,
		BatchInterval: interval, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, 5*time.Second) }()

	// sentBefore[name] is how many events had been added when the record was sent
	sentBefore := map[string]int{}
	added := 0
	send := func(name string) {
		sentBefore[name] = added
		s.Send([]byte("edge:" + name))
	}
	add := func(n int) {
		for range n {
			e := ev(added, time.Now(), 5)
			s.Add(&e)
			added++
		}
	}

	add(5)
	start := time.Now()
	send("d1")
	if recs := testenv.ReadRecords(t, kc, stream, 1); len(recs) != 1 || string(recs[0].Data) != "edge:d1" {
		t.Fatalf("stream holds %d records, want the sent one alone", len(recs))
	}
	if took := time.Since(start); took >= interval {
		t.Fatalf("the sent record took %s, the batch interval's time", took)
	}
	add(5)
	send("d2")
	add(5)

	kin.Stop()
	send("d3")
	add(5)
	time.Sleep(interval + time.Second) // a tick fails: everything goes to the spool
	send("d4")
	add(5)
	if st := s.Stats(); st.StreamFailures == 0 || st.SpoolRecords == 0 {
		t.Fatalf("nothing spooled while the stream was down: %+v", st)
	}
	kin.Start(t)
	deadline := time.Now().Add(30 * time.Second)
	for st := s.Stats(); st.SpoolRecords > 0 || st.Records < 4; st = s.Stats() {
		if time.Now().After(deadline) {
			t.Fatalf("the spool did not drain: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	put := int(s.Stats().Records)

	// the stream, in order: where each sent record and each event first is
	var order []string
	firstEvent := map[int]int{}
	for _, r := range testenv.ReadRecords(t, kc, stream, put) {
		if name, ok := bytes.CutPrefix(r.Data, []byte("edge:")); ok {
			order = append(order, string(name))
			continue
		}
		evs, err := event.DecodeRecord(nil, r.Data, 0)
		if err != nil {
			t.Fatal(err)
		}
		for i := range evs {
			if _, seen := firstEvent[int(evs[i].PID)]; !seen {
				firstEvent[int(evs[i].PID)] = len(order)
			}
		}
	}
	if fmt.Sprint(order) != "[d1 d2 d3 d4]" {
		t.Fatalf("sent records on the stream: %v, want [d1 d2 d3 d4]", order)
	}
	if len(firstEvent) != added {
		t.Fatalf("%d of %d events on the stream", len(firstEvent), added)
	}
	for i, name := range order {
		for pid := sentBefore[name]; pid < added; pid++ {
			if firstEvent[pid] <= i {
				t.Errorf("event %d, added after %s was sent, is on the stream before it", pid, name)
			}
		}
	}
}
