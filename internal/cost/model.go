package cost

import (
	"fmt"
	"math"
)

// Line is one billed quantity of a month: Quantity units of Price cost Monthly.
type Line struct {
	Service  string  `json:"service"`
	Item     string  `json:"item"`
	Quantity float64 `json:"quantity"`
	Unit     string  `json:"unit"`
	// UnitPrice is USD per unit (for a tiered price, the mean over the quantity).
	UnitPrice float64 `json:"unit_price_usd"`
	Monthly   float64 `json:"monthly_usd"`
	Source    string  `json:"source"`
}

func line(service, item string, quantity float64, p Price) Line {
	l := Line{Service: service, Item: item, Quantity: quantity, Unit: p.Unit, UnitPrice: p.Each(),
		Monthly: p.Cost(quantity), Source: p.Source}
	if quantity > 0 && len(p.Tiers) > 0 {
		l.UnitPrice = l.Monthly / quantity
	}
	return l
}

// Lake is the lake the fleet writes.
type Lake struct {
	EventsPerFile float64 `json:"events_per_file"`
	FileBytes     float64 `json:"file_bytes"`
	FilesPerMonth float64 `json:"files_per_month"` // the whole fleet
	GBPerDay      float64 `json:"gb_per_day"`      // the whole fleet
	StandardGB    float64 `json:"standard_gb"`     // held in S3 Standard at steady state
	// GlacierIRGB is held in Glacier Instant Retrieval, as billed (128 KB minimum per object).
	GlacierIRGB    float64 `json:"glacier_ir_gb"`
	BytesPerEvent  float64 `json:"bytes_per_event"`  // file bytes per event
	EventsPerMonth float64 `json:"events_per_month"` // the whole fleet
}

// Estimate is the monthly cost of a fleet.
type Estimate struct {
	Params   Params   `json:"params"`
	Region   string   `json:"region"`
	Prices   string   `json:"prices"` // the prices' date and how they were checked
	Capacity Capacity `json:"capacity"`
	Lake     Lake     `json:"lake"`
	Lines    []Line   `json:"lines"`
	Total    float64  `json:"monthly_usd"`
	PerHost  float64  `json:"per_host_monthly_usd"`
	// SteadyState says what the figures assume.
	SteadyState string `json:"steady_state"`
}

// ByService sums the lines of each service, in the order they first appear.
func (e Estimate) ByService() []Line {
	var out []Line
	at := map[string]int{}
	for _, l := range e.Lines {
		i, ok := at[l.Service]
		if !ok {
			at[l.Service] = len(out)
			out = append(out, Line{Service: l.Service})
			i = len(out) - 1
		}
		out[i].Monthly += l.Monthly
	}
	return out
}

// Run estimates the monthly cost of p.
func Run(p Params) (Estimate, error) {
	if err := p.Validate(); err != nil {
		return Estimate{}, err
	}
	pr, err := PricesFor(p.Region)
	if err != nil {
		return Estimate{}, err
	}
	hosts := float64(p.Hosts)
	capacity := chooseCapacity(p, pr)
	s := capacity.Stream
	lake := lakeOf(p, pr)
	e := Estimate{Params: p, Region: p.Region, Capacity: capacity, Lake: lake,
		Prices: fmt.Sprintf("AWS list prices of %s (%s)", PricesTaken, pr.Note),
		SteadyState: fmt.Sprintf("steady state: the lake holds a full %d days of events, the logs their full retention",
			p.RetentionDays)}
	add := func(ls ...Line) { e.Lines = append(e.Lines, ls...) }

	// Kinesis: the mode chosen.
	add(kinesisLines(p, pr, s, capacity.Mode, capacity.Shards)...)

	// Lambda. The detect function is invoked per shard with the records that
	// arrived, up to DetectBatchSize: at least once per record batch of a shard.
	records := s.Records()
	detectInv := math.Min(records, math.Max(records/p.DetectBatchSize, float64(capacity.Shards)*secondsPerMonth))
	// The registry takes a sensor's heartbeat at most every RegistryWriteSec.
	registryWrites := hosts * secondsPerMonth / math.Max(p.HeartbeatSec, p.RegistryWriteSec)
	cpuShare := math.Min(1, p.DetectMemoryMB/LambdaMBPerVCPU)
	detectCPU := lake.EventsPerMonth/p.DetectEventsPerCPUSec + records*p.DetectRecordCPUSec
	detectSec := detectCPU/cpuShare + detectInv*p.DetectInvocationSec + registryWrites*p.DynamoCallSec
	detections := hosts * p.DetectionsPerHostPerDay * daysPerMonth
	responses := detections * p.ResponseShare
	// polls: the sensors' requests for their tasks; bellReads: their reads of
	// their task bells, which make a request only when a task was created
	polls, bellReads, authInv := 0.0, 0.0, 0.0
	switch {
	case p.NoTaskPolling:
	case p.NoTaskBell:
		polls = hosts * secondsPerMonth / p.TaskPollSec
	default:
		bellReads = hosts * secondsPerMonth / p.TaskPollSec
		polls = hosts*secondsPerMonth/p.TaskFullPollSec + responses
	}
	if polls > 0 {
		authInv = math.Min(polls, hosts*secondsPerMonth/p.AuthorizerCacheSec)
	}
	respondInv := responses * p.RespondInvocationsPerResponse
	trainInv := daysPerMonth
	gbs := func(sec, memMB float64) float64 { return sec * memMB / 1024 }
	const lambda = "Lambda"
	add(line(lambda, fmt.Sprintf("detect: %.0f MB (%.2f vCPU), %.0f events/CPU-s, %.2f ms/record", p.DetectMemoryMB, cpuShare,
		p.DetectEventsPerCPUSec, p.DetectRecordCPUSec*1000),
		gbs(detectSec, p.DetectMemoryMB), pr.LambdaArmGBSecond))
	if polls > 0 {
		add(line(lambda, fmt.Sprintf("api: %s, %.0f ms each", pollsWhat(p), p.APIPollSec*1000),
			gbs(polls*p.APIPollSec, p.APIMemoryMB), pr.LambdaArmGBSecond))
		add(line(lambda, "authorizer: once per key per cache period", gbs(authInv*p.AuthorizerSec, p.AuthorizerMemoryMB), pr.LambdaArmGBSecond))
	}
	add(line(lambda, "respond: response workflows' steps", gbs(respondInv*p.RespondSec, p.RespondMemoryMB), pr.LambdaArmGBSecond))
	add(line(lambda, fmt.Sprintf("train: daily, %.0f s at %.0f MB", p.TrainSec, p.TrainMemoryMB),
		gbs(trainInv*p.TrainSec, p.TrainMemoryMB), pr.LambdaArmGBSecond))
	invocations := detectInv + polls + authInv + respondInv + trainInv
	add(line(lambda, "requests, every function", invocations, pr.LambdaRequests))

	if polls > 0 {
		add(line("API Gateway", "HTTP API requests: "+pollsWhat(p), polls, pr.HTTPAPIRequests))
	}

	// S3: the lake.
	const s3 = "S3"
	puts := lake.FilesPerMonth
	if lake.FileBytes > p.MultipartAboveBytes {
		puts *= math.Ceil(lake.FileBytes/p.MultipartAboveBytes) + 2 // create, parts, complete
	}
	filesPerDay := lake.FilesPerMonth / daysPerMonth
	gets := filesPerDay * p.TrainDays * daysPerMonth // the training reads TrainDays of files, daily
	gets += p.HuntsPerMonth * p.HuntScanHostDays * filesPerDay / hosts
	standard := fmt.Sprintf("Standard: the last %.0f days of the lake", math.Min(p.LakeStandardDays, float64(p.RetentionDays)))
	if lake.GlacierIRGB == 0 && float64(p.RetentionDays) > p.LakeStandardDays {
		standard = fmt.Sprintf("Standard: all %d days (files under the lifecycle's %.0f KB minimum stay)",
			p.RetentionDays, p.LifecycleMinBytes/kib)
	}
	add(line(s3, standard, lake.StandardGB, pr.S3Standard))
	if lake.GlacierIRGB > 0 {
		add(line(s3, fmt.Sprintf("Glacier Instant Retrieval: the rest of %d days", p.RetentionDays),
			lake.GlacierIRGB, pr.S3GlacierIR))
		add(line(s3, "lifecycle transitions to Glacier Instant Retrieval", lake.FilesPerMonth, pr.S3GlacierIRTransition))
	}
	add(line(s3, fmt.Sprintf("PUT: lake files of %.0f KB", lake.FileBytes/kib), puts, pr.S3Put))
	add(line(s3, "GET: training and hunts", gets, pr.S3Get))

	// DynamoDB.
	const ddb = "DynamoDB"
	add(line(ddb, fmt.Sprintf("writes: sensors' entries every %gs, detections (%g units each), tasks",
		math.Max(p.HeartbeatSec, p.RegistryWriteSec), p.DetectionWrites),
		registryWrites+detections*p.DetectionWrites+responses*4, pr.DynamoWrite))
	reads := polls*0.5 + authInv*0.5 + responses*p.RespondInvocationsPerResponse
	add(line(ddb, "reads: task polls, key checks, response steps (eventually consistent: half a unit)", reads, pr.DynamoRead))
	if bellReads > 0 {
		add(line(ddb, fmt.Sprintf("reads: sensors' task bells, every %gs per host (half a unit)", p.TaskPollSec), bellReads*0.5, pr.DynamoRead))
	}
	storedGB := detections * float64(p.RetentionDays) / daysPerMonth * p.DetectionWrites * p.DetectionItemBytes / gib
	add(line(ddb, "storage: detections kept over the retention", storedGB, pr.DynamoStorage))
	add(line(ddb, "point-in-time recovery", storedGB, pr.DynamoPITR))

	add(line("EventBridge", "detections published on the bus", detections, pr.EventBridgeEvents))
	add(line("Step Functions", fmt.Sprintf("response workflows, %.0f transitions each", p.StepTransitionsPerResponse),
		responses*p.StepTransitionsPerResponse, pr.StepTransitions))
	scan := math.Max(10e6, p.HuntScanHostDays*lake.GBPerDay/hosts*gib)
	add(line("Athena", fmt.Sprintf("%.0f hunts, each over %g host-days of the lake (10 MB minimum)", p.HuntsPerMonth, p.HuntScanHostDays),
		p.HuntsPerMonth*scan/tib, pr.AthenaScanned))

	// KMS: the ingest key; Kinesis reuses a data key about 5 minutes per producer
	// and per shard read, and the lake's S3 bucket key about an hour per writer.
	kmsRequests := (hosts+float64(capacity.Shards))*12*HoursPerMonth + hosts*HoursPerMonth
	add(line("KMS", "ingest key", 1, pr.KMSKey))
	add(line("KMS", "requests: data keys of the stream and the lake", kmsRequests, pr.KMSRequests))

	// CloudWatch.
	const cw = "CloudWatch"
	lambdaLogs := ((invocations-polls)*p.LogBytesPerInvocation + polls*p.PollLogBytes) / gib
	accessLogs := polls * p.AccessLogBytes / gib
	stepLogs := responses * p.StepTransitionsPerResponse * p.StepLogBytes / gib
	add(line(cw, "logs ingested: functions, API access log, response workflow", lambdaLogs+accessLogs+stepLogs, pr.LogsIngested))
	add(line(cw, "logs stored over their retention (uncompressed: an upper bound)",
		lambdaLogs*p.LambdaLogMonths+accessLogs*p.AccessLogMonths+stepLogs*p.StepLogMonths, pr.LogsStored))
	add(line(cw, "alarms", p.Alarms, pr.Alarms))
	add(line("Secrets Manager", "PagerDuty routing key", 1, pr.Secret))

	for _, l := range e.Lines {
		e.Total += l.Monthly
	}
	e.PerHost = e.Total / hosts
	return e, nil
}

// pollsWhat says what the sensors' requests for their tasks are.
func pollsWhat(p Params) string {
	if p.NoTaskBell {
		return fmt.Sprintf("sensors' task polls, every %gs per host", p.TaskPollSec)
	}
	return fmt.Sprintf("sensors' task polls, when their bell rang and every %gs per host", p.TaskFullPollSec)
}

// lakeOf models the cold path: each sensor rolls a file every RollIntervalSec
// (or at RollMaxBytes), at least one per hour prefix.
func lakeOf(p Params, pr Prices) Lake {
	hosts := float64(p.Hosts)
	perRoll := p.EventsPerHostPerSec * math.Min(p.RollIntervalSec, 3600)
	fit := math.Max(1, (p.RollMaxBytes-p.LakeFileOverheadBytes)/p.LakeBytesPerEvent)
	perFile := math.Max(1, math.Min(perRoll, fit))
	filesPerHostHour := math.Max(math.Ceil(3600/math.Min(p.RollIntervalSec, 3600)), p.EventsPerHostPerSec*3600/perFile)
	if p.EventsPerHostPerSec*3600 < filesPerHostHour { // fewer events than files: one file per event
		filesPerHostHour = math.Max(1, p.EventsPerHostPerSec*3600)
		perFile = p.EventsPerHostPerSec * 3600 / filesPerHostHour
	}
	l := Lake{EventsPerFile: perFile, FileBytes: p.LakeFileOverheadBytes + perFile*p.LakeBytesPerEvent}
	l.FilesPerMonth = hosts * filesPerHostHour * HoursPerMonth
	l.EventsPerMonth = hosts * p.EventsPerHostPerSec * secondsPerMonth
	l.BytesPerEvent = l.FileBytes / perFile
	l.GBPerDay = l.FilesPerMonth / daysPerMonth * l.FileBytes / gib
	retention := float64(p.RetentionDays)
	standardDays := math.Min(p.LakeStandardDays, retention)
	if l.FileBytes < p.LifecycleMinBytes {
		standardDays = retention // too small for the lifecycle to transition
	}
	l.StandardGB = l.GBPerDay * standardDays
	if glacierDays := retention - standardDays; glacierDays > 0 {
		billedBytes := math.Max(l.FileBytes, pr.S3GlacierIRMinBytes)
		days := math.Max(glacierDays, pr.S3GlacierIRMinDays) // deleted earlier: billed the minimum
		l.GlacierIRGB = l.FilesPerMonth / daysPerMonth * billedBytes / gib * days
	}
	return l
}
