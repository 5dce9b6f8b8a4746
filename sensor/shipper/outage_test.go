package shipper

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/sensor/spool"
)

// Outage test shape: how many events go through, and how long both backends are
// away in the middle of the stream.
const (
	outageEvents = 100_000
	outage       = 20 * time.Second
)

// TestOutageLosesNothing ships outageEvents events through the real shipper and
// disk spool to kinesalite and s3rver, kills both emulators for the outage in the
// middle of the stream, restarts the sensor's shipper during the outage (what was
// not shipped survives in the spool), brings the emulators back on the same ports
// and data, and checks that every event reached both the stream and the lake, that
// the stream kept the sensor's order, and how many duplicates at-least-once
// delivery produced.
func TestOutageLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("the outage test takes about a minute; run without -short")
	}
	if os.Getenv("AWS_ENDPOINT_URL") != "" {
		t.Skip("the outage test stops and restarts its own emulators; AWS_ENDPOINT_URL points elsewhere")
	}
	base := t.TempDir()
	kin := testenv.NewKinesalite(t, filepath.Join(base, "kinesis"))
	kin.Start(t)
	s3e := testenv.NewS3rver(t, filepath.Join(base, "s3"))
	s3e.Start(t)

	kc := kinesis.NewFromConfig(testenv.AWSConfig(t, kin.Endpoint), func(o *kinesis.Options) { o.RetryMaxAttempts = 2 })
	s3cfg := testenv.S3Config(t, s3e.Endpoint)
	s3cfg.RetryMaxAttempts = 2
	sc := s3.NewFromConfig(s3cfg, func(o *s3.Options) {
		o.UsePathStyle = true
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	const streamName, bucket = "vigil-outage", "vigil-lake"
	testenv.CreateStream(t, kc, streamName)
	testenv.CreateBucket(t, sc, bucket)

	stream := &vaws.Kinesis{Client: kc, StreamName: streamName, MaxAttempts: 3, Backoff: 50 * time.Millisecond}
	lake := vaws.NewS3(s3cfg, vaws.S3Options{Bucket: bucket, PathStyle: true})
	spoolDir := filepath.Join(base, "spool")

	type run struct {
		s    *Shipper
		stop context.CancelFunc
		done chan error
	}
	var totals Stats
	startShipper := func() run {
		sp, err := spool.Open(spoolDir, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		s := New(Options{SensorID: "i-0abc123def4567890", Stream: stream, Lake: lake, Spool: sp,
			BatchInterval: 250 * time.Millisecond, RollInterval: 2 * time.Second,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		r := run{s: s, stop: cancel, done: make(chan error, 1)}
		go func() { r.done <- s.Run(ctx, 2*time.Second) }()
		return r
	}
	stopShipper := func(r run) {
		r.stop()
		err := <-r.done
		st := r.s.Stats()
		t.Logf("shipper stopped: %+v (final flush: %v)", st, err)
		totals.Records += st.Records
		totals.LakeFiles += st.LakeFiles
		totals.DroppedRecords += st.DroppedRecords
		totals.DroppedFiles += st.DroppedFiles
		totals.SpoolErrors += st.SpoolErrors
	}

	events := mix(outageEvents)
	for i := range events {
		events[i].CgroupID = uint64(i) // the sensor's order, checked on the stream
	}
	next := 0
	produce := func(r run, n int, over time.Duration) {
		const chunk = 500
		tick := over / time.Duration((n+chunk-1)/chunk)
		for end := next + n; next < end; {
			k := min(chunk, end-next)
			for i := range k {
				r.s.Add(&events[next+i])
			}
			next += k
			time.Sleep(tick)
		}
	}

	r := startShipper()
	produce(r, 30_000, 3*time.Second) // backends up

	kin.Stop()
	s3e.Stop()
	t.Logf("emulators stopped for %s", outage)
	outageStart := time.Now()
	produce(r, 20_000, outage/2-time.Second)
	stopShipper(r) // the sensor restarts during the outage
	r = startShipper()
	if st := r.s.Stats(); st.SpoolRecords == 0 || st.SpoolFiles == 0 {
		t.Fatalf("nothing recovered from the spool after the restart: %+v", st)
	}
	produce(r, 20_000, outage/2-time.Second)
	time.Sleep(time.Until(outageStart.Add(outage)))
	kin.Start(t)
	s3e.Start(t)
	t.Logf("emulators back after %s", time.Since(outageStart).Round(time.Second))
	produce(r, outageEvents-next, 3*time.Second)

	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := r.s.Stats()
		if st.SpoolRecords+st.SpoolFiles == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the spool did not drain within 2 minutes: %+v", st)
		}
		time.Sleep(200 * time.Millisecond)
	}
	stopShipper(r)
	if totals.DroppedRecords+totals.DroppedFiles+totals.SpoolErrors != 0 {
		t.Fatalf("batches dropped: %+v", totals)
	}

	// the stream: every event, in the sensor's order (duplicates aside)
	recs := testenv.ReadRecords(t, kc, streamName, int(totals.Records))
	seen := make(map[string]int, outageEvents)
	var streamDups int
	last := -1
	var out []event.Event
	for _, rec := range recs {
		var err error
		if out, err = event.DecodeRecord(out[:0], rec.Data, 0); err != nil {
			t.Fatal(err)
		}
		for _, e := range out {
			if seen[e.ID]++; seen[e.ID] > 1 {
				streamDups++
				continue
			}
			if int(e.CgroupID) <= last {
				t.Fatalf("stream order broken: event %d after %d", e.CgroupID, last)
			}
			last = int(e.CgroupID)
		}
	}
	missing := 0
	for i := range events {
		if seen[events[i].ID] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("stream: %d of %d events lost", missing, outageEvents)
	}

	// the lake: every event in some file
	keys := testenv.ListObjects(t, sc, bucket, "events/")
	inLake := make(map[string]int, outageEvents)
	var lakeDups int
	for _, k := range keys {
		if out, err := event.Decode(out[:0], testenv.GetObject(t, sc, bucket, k), 0); err != nil {
			t.Fatalf("%s: %v", k, err)
		} else {
			for _, e := range out {
				if inLake[e.ID]++; inLake[e.ID] > 1 {
					lakeDups++
				}
			}
		}
	}
	missing = 0
	for i := range events {
		if inLake[events[i].ID] == 0 {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("lake: %d of %d events lost", missing, outageEvents)
	}
	sort.Strings(keys)
	t.Logf("stream: %d records, %d events, %d duplicates; lake: %d files, %d duplicates", len(recs), len(seen), streamDups, len(keys), lakeDups)
}
