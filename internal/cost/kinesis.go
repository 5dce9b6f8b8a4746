package cost

import (
	"fmt"
	"math"
)

// Kinesis limits: what one provisioned shard takes in, what on-demand starts with,
// and the billing units.
const (
	shardBytesPerSec   = mib
	shardRecordsPerSec = 1000
	onDemandMinShards  = 4 // an on-demand stream starts with 4 MiB/s, 4000 records/s
	putPayloadUnit     = 25 * kib
	onDemandRecordUnit = kib // on-demand bills each record rounded up to 1 KiB
)

// Hours and seconds in the month AWS bills by.
const (
	HoursPerMonth   = 730
	secondsPerMonth = HoursPerMonth * 3600
	daysPerMonth    = HoursPerMonth / 24.0
)

// Mode is a Kinesis capacity mode.
type Mode string

// Capacity modes, spelt as the CDK context key streamMode takes them.
const (
	OnDemand    Mode = "on-demand"
	Provisioned Mode = "provisioned"
)

// Stream is the traffic the fleet puts on the stream.
type Stream struct {
	EventsPerRecord float64 `json:"events_per_record"`
	RecordBytes     float64 `json:"record_bytes"`
	RecordsPerSec   float64 `json:"records_per_sec"` // the whole fleet
	BytesPerSec     float64 `json:"bytes_per_sec"`   // the whole fleet
}

// Records is the records a month.
func (s Stream) Records() float64 { return s.RecordsPerSec * secondsPerMonth }

// stream models the sensors' hot path: each sensor ships what it has every batch
// interval, at most BatchMaxEvents events in a record of at most MaxRecordBytes.
func stream(p Params) Stream {
	perBatch := max(1, p.EventsPerHostPerSec*p.BatchIntervalSec)
	perRecord := min(perBatch, p.BatchMaxEvents)
	// the most events that fit a record
	if fit := math.Floor((p.MaxRecordBytes - p.StreamRecordOverheadBytes) / p.StreamBytesPerEvent); perRecord > fit {
		perRecord = fit
	}
	s := Stream{EventsPerRecord: perRecord, RecordBytes: p.StreamRecordOverheadBytes + perRecord*p.StreamBytesPerEvent}
	s.RecordsPerSec = float64(p.Hosts) * p.EventsPerHostPerSec / perRecord
	s.BytesPerSec = s.RecordsPerSec * s.RecordBytes
	return s
}

// Capacity is the Kinesis capacity chosen for a fleet, with what each mode costs.
type Capacity struct {
	Mode Mode `json:"mode"`
	// Shards is the shard count of a provisioned stream; for on-demand, the shards
	// the stream scales to (at least 4), which the detect function's polling follows.
	Shards int `json:"shards"`
	// Monthly cost of the stream in each mode.
	OnDemandMonthly    float64 `json:"on_demand_monthly_usd"`
	ProvisionedMonthly float64 `json:"provisioned_monthly_usd"`
	Stream             Stream  `json:"stream"`
}

// ChooseCapacity returns the cheaper capacity mode for the fleet: on-demand, or
// provisioned with enough shards to take its records and bytes at
// ShardUtilization of a shard's limits. On a tie it keeps on-demand, which needs
// no resizing as the fleet grows.
func ChooseCapacity(p Params) (Capacity, error) {
	if err := p.Validate(); err != nil {
		return Capacity{}, err
	}
	pr, err := PricesFor(p.Region)
	if err != nil {
		return Capacity{}, err
	}
	return chooseCapacity(p, pr), nil
}

func chooseCapacity(p Params, pr Prices) Capacity {
	s := stream(p)
	c := Capacity{Stream: s, Shards: provisionedShards(s, p.ShardUtilization)}
	for _, l := range kinesisLines(p, pr, s, Provisioned, c.Shards) {
		c.ProvisionedMonthly += l.Monthly
	}
	for _, l := range kinesisLines(p, pr, s, OnDemand, 0) {
		c.OnDemandMonthly += l.Monthly
	}
	c.Mode = OnDemand
	if c.ProvisionedMonthly < c.OnDemandMonthly {
		c.Mode = Provisioned
	} else {
		c.Shards = max(onDemandMinShards, provisionedShards(s, 1))
	}
	return c
}

// provisionedShards is the shards taking s at utilization of their limits.
func provisionedShards(s Stream, utilization float64) int {
	byRecords := s.RecordsPerSec / (shardRecordsPerSec * utilization)
	byBytes := s.BytesPerSec / (shardBytesPerSec * utilization)
	return max(1, int(math.Ceil(max(byRecords, byBytes)-1e-9)))
}

// kinesisLines prices the stream in mode (with shards when provisioned).
func kinesisLines(p Params, pr Prices, s Stream, mode Mode, shards int) []Line {
	const svc = "Kinesis Data Streams"
	records := s.Records()
	if mode == Provisioned {
		units := math.Ceil(s.RecordBytes/putPayloadUnit) * records
		return []Line{
			line(svc, fmt.Sprintf("provisioned, %d shard%s", shards, map[bool]string{true: "s"}[shards != 1]),
				float64(shards)*HoursPerMonth, pr.KinesisShardHour),
			line(svc, fmt.Sprintf("PUT payload units (%.0f B records, 25 KB units)", s.RecordBytes), units, pr.KinesisPutUnits),
		}
	}
	in := records * math.Ceil(s.RecordBytes/onDemandRecordUnit) * onDemandRecordUnit / gib
	out := records * s.RecordBytes / gib
	return []Line{
		line(svc, "on-demand stream", HoursPerMonth, pr.KinesisStreamHour),
		line(svc, fmt.Sprintf("data in (%.0f B records, rounded up to 1 KB each)", s.RecordBytes), in, pr.KinesisDataIn),
		line(svc, "data out (the detect function reads each record once)", out, pr.KinesisDataOut),
	}
}
