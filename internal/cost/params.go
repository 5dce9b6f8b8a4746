package cost

import (
	"errors"
	"fmt"
	"math"

	"github.com/vigil-sec/vigil/internal/cadence"
)

// Params are the inputs of the model. DefaultParams gives every default; set
// Hosts and EventsPerHostPerSec, and override what you measured.
type Params struct {
	// Hosts is the number of hosts running the sensor.
	Hosts int
	// EventsPerHostPerSec is the mean event rate of one host.
	EventsPerHostPerSec float64
	// RetentionDays is how long the lake keeps events.
	RetentionDays int
	// Region is the AWS region whose prices apply.
	Region string

	// Shipping, as the sensor does it (docs/sensor.md): a stream batch every
	// BatchIntervalSec of at most BatchMaxEvents events and MaxRecordBytes, and a
	// lake file every RollIntervalSec, at most RollMaxBytes, never across an hour.
	BatchIntervalSec float64
	BatchMaxEvents   float64
	MaxRecordBytes   float64
	RollIntervalSec  float64
	RollMaxBytes     float64
	// MultipartAboveBytes: lake files above it are uploaded in parts of that size.
	MultipartAboveBytes float64

	// Encoded sizes: a stream record is StreamRecordOverheadBytes plus
	// StreamBytesPerEvent per event, a lake file LakeFileOverheadBytes plus
	// LakeBytesPerEvent per event. The defaults are fitted to what the project's
	// encoders write for a minute recorded on a real host (TestEncodedSizeDefaults);
	// a lake measured with MeasureLake gives a flat LakeBytesPerEvent (overhead 0).
	StreamRecordOverheadBytes float64
	StreamBytesPerEvent       float64
	LakeFileOverheadBytes     float64
	LakeBytesPerEvent         float64

	// Kinesis capacity: a provisioned shard takes 1 MiB/s and 1000 records/s;
	// ShardUtilization is the share of that the choice plans to use (room for
	// bursts and for the uneven hashing of sensor ids over shards).
	ShardUtilization float64

	// The detect function (infra/detect.go): DetectMemoryMB, batches of up to
	// DetectBatchSize records. Decoding and evaluating a record of n events
	// takes DetectRecordCPUSec + n/DetectEventsPerCPUSec of one core's time;
	// the function has a share of a core in proportion to its memory (a whole
	// one at LambdaMBPerVCPU), so its duration is that time over the share.
	// DetectInvocationSec is the fixed time of an invocation; HeartbeatSec the
	// sensors' heartbeat interval. The function writes a sensor's entry in the
	// sensors table at most every RegistryWriteSec (0: every heartbeat), each write
	// one DynamoDB update taking DynamoCallSec of the function's time.
	DetectMemoryMB        float64
	DetectBatchSize       float64
	DetectEventsPerCPUSec float64
	DetectRecordCPUSec    float64
	DetectInvocationSec   float64
	HeartbeatSec          float64
	RegistryWriteSec      float64
	DynamoCallSec         float64

	// Task polling: each sensor with response tasks on reads its task bell
	// every TaskPollSec (docs/sensor.md: respond.task_bell_table), half a read
	// unit of DynamoDB, and asks the API for its tasks when it rang (once per
	// response) and every TaskFullPollSec. NoTaskBell: the sensors ask the API
	// every TaskPollSec instead (no respond.task_bell_table). NoTaskPolling
	// leaves both out (no respond.api_url). Each time the API is asked is one
	// HTTP API request, one api function invocation of APIPollSec at
	// APIMemoryMB and one query of the tasks table. The authorizer caches a
	// key's answer AuthorizerCacheSec.
	TaskPollSec        float64
	TaskFullPollSec    float64
	NoTaskBell         bool
	NoTaskPolling      bool
	APIMemoryMB        float64
	APIPollSec         float64
	AuthorizerCacheSec float64
	AuthorizerMemoryMB float64
	AuthorizerSec      float64

	// Detections: DetectionsPerHostPerDay reach the backend; ResponseShare of them
	// run the response workflow (StepTransitionsPerResponse transitions,
	// RespondInvocationsPerResponse respond invocations of RespondSec at
	// RespondMemoryMB). DetectionWrites is the write request units one detection
	// costs (claim, index items, published mark).
	DetectionsPerHostPerDay       float64
	ResponseShare                 float64
	StepTransitionsPerResponse    float64
	RespondInvocationsPerResponse float64
	RespondMemoryMB               float64
	RespondSec                    float64
	DetectionWrites               float64
	DetectionItemBytes            float64

	// Training (infra/train.go): one run a day of TrainSec at TrainMemoryMB, reading
	// TrainDays of the lake.
	TrainSec      float64
	TrainMemoryMB float64
	TrainDays     float64

	// Hunting: HuntsPerMonth Athena queries, each scanning HuntScanHostDays days of
	// one host's lake.
	HuntsPerMonth    float64
	HuntScanHostDays float64

	// Logs: every Lambda invocation writes LogBytesPerInvocation (the runtime's
	// START, END and REPORT lines and the function's own) but a task poll's,
	// which writes PollLogBytes (the api function's system log level leaves the
	// runtime's lines out, and a poll that succeeds logs nothing), every HTTP API
	// request an access-log line of AccessLogBytes, every response transition
	// StepLogBytes. Kept LambdaLogMonths, AccessLogMonths and StepLogMonths
	// (infra/).
	LogBytesPerInvocation float64
	PollLogBytes          float64
	AccessLogBytes        float64
	StepLogBytes          float64
	LambdaLogMonths       float64
	AccessLogMonths       float64
	StepLogMonths         float64
	// Alarms is the number of CloudWatch alarms the stack creates (infra/observability.go).
	Alarms float64

	// LakeStandardDays is how long lake files stay in S3 Standard before the
	// lifecycle moves them to Glacier Instant Retrieval. LifecycleMinBytes is the
	// smallest object a lifecycle rule transitions: S3's default
	// (TransitionDefaultMinimumObjectSize all_storage_classes_128K) leaves smaller
	// objects in Standard for good.
	LakeStandardDays  float64
	LifecycleMinBytes float64
}

// Defaults, with where each comes from.
const (
	DefaultRetentionDays = 365
	DefaultRegion        = "us-east-1"

	// DefaultDetectEventsPerCPUSec and DefaultDetectRecordCPUSec are the
	// detect function's decode + evaluate cost (the pack, one core): a record
	// of n events takes DefaultDetectRecordCPUSec + n/DefaultDetectEventsPerCPUSec
	// of CPU. They are fitted to BenchmarkHandleRecorded's events/cpu-s on
	// records of 100 and of 2,000 events of the recorded lake, medians of
	// alternated runs (docs/BENCHMARKS.md, "decode and evaluate a recorded
	// host"): 0.88 M and 1.51 M events a CPU-second.
	DefaultDetectEventsPerCPUSec = 1_568_000
	DefaultDetectRecordCPUSec    = 0.000_049

	// LambdaMBPerVCPU is the memory at which a Lambda function has one whole
	// vCPU; below it, a share in proportion (AWS Lambda's documentation).
	LambdaMBPerVCPU = 1769
)

// DefaultParams returns the model's defaults; Hosts and EventsPerHostPerSec are
// left for the caller.
func DefaultParams() Params {
	return Params{
		RetentionDays: DefaultRetentionDays,
		Region:        DefaultRegion,

		// docs/sensor.md: batch_interval 1s, ≤ 2000 events, ≤ 1 MiB a record;
		// roll_interval (the sensor's default, internal/cadence), roll_bytes 64MiB;
		// internal/aws S3 multipart above 16 MiB.
		BatchIntervalSec:    1,
		BatchMaxEvents:      2000,
		MaxRecordBytes:      mib,
		RollIntervalSec:     cadence.LakeRoll.Seconds(),
		RollMaxBytes:        64 * mib,
		MultipartAboveBytes: 16 * mib,

		// Measured on internal/detect/testdata/recorded-lake.parquet, a minute of a
		// real host as its sensor captured it (56,502 events), by
		// TestEncodedSizeDefaults: the fixture cut into consecutive stream batches
		// records of 100, 200, 500, 1,000 and 2,000 events (the stream's record
		// encoder: each batch in a zstd frame) and lake files of 3,000 to 56,502
		// events (the file writer, zstd's "better" level), and a line fitted through
		// the mean sizes (least relative squares): 4,540 B + 17.45 B an event for
		// a record (100 events: 6.1 KB, 61 B an event; 2,000: 37 KB, 18.7 B an
		// event), 37,162 B + 11.82 B an event for a
		// file (the whole minute: 696 KB, 12.3 B an event). Measure again, and
		// update these, when the encoders change.
		StreamRecordOverheadBytes: 4540,
		StreamBytesPerEvent:       17.45,
		LakeFileOverheadBytes:     37200,
		LakeBytesPerEvent:         11.8,

		ShardUtilization: 0.7,

		// infra/detect.go: 512 MB, batches of 100 records.
		DetectMemoryMB:        1024,
		DetectBatchSize:       1000,
		DetectEventsPerCPUSec: DefaultDetectEventsPerCPUSec,
		DetectRecordCPUSec:    DefaultDetectRecordCPUSec,
		DetectInvocationSec:   0.005,
		HeartbeatSec:          cadence.Heartbeat.Seconds(),     // docs/sensor.md: SENSOR_HEARTBEAT every 30 s
		RegistryWriteSec:      cadence.RegistryWrite.Seconds(), // internal/detect: a sensor's entry at most every 5 min
		DynamoCallSec:         0.008,

		// docs/sensor.md: the sensor reads its task bell every
		// respond.poll_interval and asks the API at least every
		// respond.full_poll_interval (their defaults, internal/cadence);
		// infra/api.go: api 256 MB, authorizer 128 MB with results cached 300 s.
		TaskPollSec:        cadence.TaskPoll.Seconds(),
		TaskFullPollSec:    cadence.TaskFullPoll.Seconds(),
		APIMemoryMB:        256,
		APIPollSec:         0.015,
		AuthorizerCacheSec: 300,
		AuthorizerMemoryMB: 128,
		AuthorizerSec:      0.010,

		// Assumptions (docs/cost.md): one detection per host per day, one in ten
		// with response actions.
		DetectionsPerHostPerDay:       1,
		ResponseShare:                 0.1,
		StepTransitionsPerResponse:    15,
		RespondInvocationsPerResponse: 5,
		RespondMemoryMB:               256, // infra/respond.go
		RespondSec:                    0.05,
		DetectionWrites:               7,
		DetectionItemBytes:            2048,

		// infra/train.go: 1024 MB, 15 min timeout (counted in full), trainDays 7.
		TrainSec:      900,
		TrainMemoryMB: 1024,
		TrainDays:     7,

		HuntsPerMonth:    100,
		HuntScanHostDays: 1,

		LogBytesPerInvocation: 350,
		PollLogBytes:          0,
		AccessLogBytes:        350,
		StepLogBytes:          1024,
		LambdaLogMonths:       24, // 731 days
		AccessLogMonths:       3,
		StepLogMonths:         3,
		Alarms:                9, // iterator age, 2 DLQs, failed responses, 5 function error alarms

		LakeStandardDays:  30,
		LifecycleMinBytes: 128 * kib,
	}
}

// Validate reports the first parameter that cannot be modelled, by name.
func (p Params) Validate() error {
	if p.Hosts < 1 {
		return fmt.Errorf("hosts: want at least 1, got %d", p.Hosts)
	}
	if !(p.EventsPerHostPerSec > 0) || math.IsInf(p.EventsPerHostPerSec, 0) {
		return fmt.Errorf("events per host per second: want a positive number, got %v", p.EventsPerHostPerSec)
	}
	if p.RetentionDays < 1 {
		return fmt.Errorf("retention: want at least 1 day, got %d", p.RetentionDays)
	}
	if _, err := PricesFor(p.Region); err != nil {
		return err
	}
	positive := []struct {
		name string
		v    float64
	}{
		{"batch interval", p.BatchIntervalSec}, {"batch max events", p.BatchMaxEvents},
		{"max record bytes", p.MaxRecordBytes}, {"roll interval", p.RollIntervalSec},
		{"roll max bytes", p.RollMaxBytes}, {"multipart threshold", p.MultipartAboveBytes},
		{"stream bytes per event", p.StreamBytesPerEvent}, {"lake bytes per event", p.LakeBytesPerEvent},
		{"detect events per CPU second", p.DetectEventsPerCPUSec}, {"detect CPU seconds per record", p.DetectRecordCPUSec}, {"detect memory", p.DetectMemoryMB},
		{"detect batch size", p.DetectBatchSize}, {"heartbeat interval", p.HeartbeatSec},
		{"authorizer cache", p.AuthorizerCacheSec},
	}
	for _, f := range positive {
		if !(f.v > 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s: want a positive number, got %v", f.name, f.v)
		}
	}
	if !p.NoTaskPolling && !(p.TaskPollSec > 0) {
		return fmt.Errorf("task poll interval: want a positive number of seconds (or no task polling), got %v", p.TaskPollSec)
	}
	if !p.NoTaskPolling && !p.NoTaskBell && !(p.TaskFullPollSec >= p.TaskPollSec) {
		return fmt.Errorf("task full poll interval: want at least the task poll interval (%v s), got %v", p.TaskPollSec, p.TaskFullPollSec)
	}
	if !(p.ShardUtilization > 0 && p.ShardUtilization <= 1) {
		return fmt.Errorf("shard utilization: want a share in (0, 1], got %v", p.ShardUtilization)
	}
	if !(p.ResponseShare >= 0 && p.ResponseShare <= 1) {
		return fmt.Errorf("response share: want a share in [0, 1], got %v", p.ResponseShare)
	}
	nonNegative := []struct {
		name string
		v    float64
	}{
		{"stream record overhead", p.StreamRecordOverheadBytes}, {"lake file overhead", p.LakeFileOverheadBytes},
		{"detections per host per day", p.DetectionsPerHostPerDay}, {"hunts per month", p.HuntsPerMonth},
		{"lake standard days", p.LakeStandardDays}, {"lifecycle minimum object size", p.LifecycleMinBytes},
		{"detect invocation time", p.DetectInvocationSec},
		{"DynamoDB call time", p.DynamoCallSec}, {"train time", p.TrainSec},
		{"registry write interval", p.RegistryWriteSec},
	}
	for _, f := range nonNegative {
		if !(f.v >= 0) || math.IsInf(f.v, 0) {
			return fmt.Errorf("%s: want zero or more, got %v", f.name, f.v)
		}
	}
	if p.StreamRecordOverheadBytes+p.StreamBytesPerEvent > p.MaxRecordBytes {
		return errors.New("stream record overhead: a record of one event would exceed the largest Kinesis record")
	}
	return nil
}
