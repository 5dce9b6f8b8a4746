package cost

import (
	"math"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/cadence"
)

func fleet(hosts int, rate float64) Params {
	p := DefaultParams()
	p.Hosts, p.EventsPerHostPerSec = hosts, rate
	return p
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

// pinnedFleet is fleet with the stream's record sizes the hand arithmetic of
// TestChooseCapacity uses.
func pinnedFleet(hosts int, rate float64) Params {
	p := fleet(hosts, rate)
	p.StreamRecordOverheadBytes, p.StreamBytesPerEvent = 8670, 16.2
	return p
}

// findLine returns the line of service whose item starts with prefix.
func findLine(t *testing.T, e Estimate, service, prefix string) Line {
	t.Helper()
	for _, l := range e.Lines {
		if l.Service == service && strings.HasPrefix(l.Item, prefix) {
			return l
		}
	}
	t.Fatalf("no %s line %q in %+v", service, prefix, e.Lines)
	return Line{}
}

// TestChooseCapacity checks the stream and the choice against arithmetic done by
// hand with the us-east-1 prices (shard-hour $0.015, $0.014 per million PUT
// payload units of 25 KiB; on-demand $0.04 per stream-hour, $0.08 per GB in, each
// record rounded up to 1 KiB, $0.04 per GB out; 730 hours, 2,628,000 seconds a
// month) and records of 8,670 B + 16.2 B an event (sizes the encoder once had,
// pinned here so that the arithmetic stays the test's own).
func TestChooseCapacity(t *testing.T) {
	const gib = 1 << 30
	tests := []struct {
		name        string
		p           Params
		wantMode    Mode
		wantShards  int
		wantRecord  float64 // bytes
		provMonthly float64
		odMonthly   float64
	}{
		{
			// 100 events a record: 8,670 + 100×16.2 = 10,290 B; 10 records/s, 102,900 B/s:
			// 102,900 / (1,048,576 × 0.7) = 0.14 shard → 1.
			// provisioned: 730 × 0.015 = 10.95; 26,280,000 records × 1 unit × 0.014/1e6 = 0.36792.
			// on-demand: 29.20; in 26,280,000 × 11 KiB = 275.688 GiB × 0.08 = 22.055;
			// out 26,280,000 × 10,290 B = 251.85 GiB × 0.04 = 10.074.
			name: "10 hosts at 100/s", p: pinnedFleet(10, 100), wantMode: Provisioned, wantShards: 1, wantRecord: 10290,
			provMonthly: 10.95 + 0.36792, odMonthly: 29.2 + 26280000*11*1024.0/gib*0.08 + 26280000*10290.0/gib*0.04,
		},
		{
			// 1000 records/s of 10,290 B = 10,290,000 B/s: by bytes 10,290,000 / 734,003.2 =
			// 14.02 → 15 shards (by records 1000/700 = 1.43). 15 × 730 × 0.015 = 164.25;
			// 2,628,000,000 units × 0.014/1e6 = 36.792.
			name: "1000 hosts at 100/s", p: pinnedFleet(1000, 100), wantMode: Provisioned, wantShards: 15, wantRecord: 10290,
			provMonthly: 164.25 + 36.792, odMonthly: 29.2 + 100*(26280000*11*1024.0/gib*0.08+26280000*10290.0/gib*0.04),
		},
		{
			// A full batch: 2000 events, 8,670 + 32,400 = 41,070 B (2 PUT payload units);
			// 2.5 records/s a host, 100 hosts: 250 records/s, 10,267,500 B/s / 734,003.2
			// = 13.99 → 14 shards. 14 × 730 × 0.015 = 153.3; 657,000,000 records × 2
			// units × 0.014/1e6 = 18.396.
			name: "100 hosts at 5000/s", p: pinnedFleet(100, 5000), wantMode: Provisioned, wantShards: 14, wantRecord: 41070,
			provMonthly: 153.3 + 18.396,
			// 657,000,000 × 41 KiB × 0.08; out 657e6 × 41,070 B × 0.04.
			odMonthly: 29.2 + 657e6*41*1024/gib*0.08 + 657e6*41070/gib*0.04,
		},
		{
			// Planning shards at 0.1 % of their limits makes provisioned dear: 10,290 B/s /
			// 1048.576 = 9.8 → 10 shards, 10 × 10.95 = 109.5 + 2,628,000 × 0.014/1e6;
			// on-demand: 29.2 + 27.5688 GiB × 0.08 + 25.185 GiB × 0.04 ≈ 32.41, on 4 shards.
			name: "on-demand when shards are planned nearly empty",
			p: func() Params {
				p := pinnedFleet(1, 100)
				p.ShardUtilization = 0.001
				return p
			}(),
			wantMode: OnDemand, wantShards: 4, wantRecord: 10290,
			provMonthly: 109.5 + 2.628*0.014, odMonthly: 29.2 + 2628000*11*1024.0/gib*0.08 + 2628000*10290.0/gib*0.04,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ChooseCapacity(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			if c.Mode != tt.wantMode || c.Shards != tt.wantShards {
				t.Errorf("chose %s with %d shards, want %s with %d", c.Mode, c.Shards, tt.wantMode, tt.wantShards)
			}
			if !near(c.Stream.RecordBytes, tt.wantRecord) {
				t.Errorf("record of %v bytes, want %v", c.Stream.RecordBytes, tt.wantRecord)
			}
			if !near(c.ProvisionedMonthly, tt.provMonthly) {
				t.Errorf("provisioned costs %.6f, want %.6f", c.ProvisionedMonthly, tt.provMonthly)
			}
			if !near(c.OnDemandMonthly, tt.odMonthly) {
				t.Errorf("on-demand costs %.6f, want %.6f", c.OnDemandMonthly, tt.odMonthly)
			}
			e, err := Run(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			var kinesis float64
			for _, l := range e.Lines {
				if l.Service == "Kinesis Data Streams" {
					kinesis += l.Monthly
				}
			}
			if want := min(tt.provMonthly, tt.odMonthly); !near(kinesis, want) {
				t.Errorf("the estimate prices the stream at %.6f, want the cheaper mode's %.6f", kinesis, want)
			}
		})
	}
}

// TestLakeLines checks the lake's lines for 10 hosts, a year kept, by hand, with
// the default 15-minute files (37,200 B + 11.8 B an event): 4 files an hour a
// host, 29,200 files a month, 960 a day (730/24 = 30.4167 days). At 5 events/s a
// file holds 4,500 events, 37,200 + 53,100 = 90,300 B, a day 960 × 90,300 B =
// 0.080734 GiB; at 100 events/s 90,000 events, 37,200 + 1,062,000 = 1,099,200 B,
// a day 960 × 1,099,200 B = 0.982761 GiB.
func TestLakeLines(t *testing.T) {
	day5 := 960 * 90300.0 / (1 << 30)
	day100 := 960 * 1099200.0 / (1 << 30)
	type want struct {
		service, prefix  string
		quantity, amount float64
	}
	tests := []struct {
		name  string
		p     Params
		want  []want
		never string // no line's item starts with it
	}{
		{
			// 90,300 B files are under the lifecycle's 128 KB: all 365 days in
			// Standard, 30.496 GB-month × 0.023; no transitions.
			name: "5/s: files too small to transition", p: fleet(10, 5),
			want: []want{
				{"S3", "Standard: all 365 days", 365 * day5, 365 * day5 * 0.023},
				{"S3", "PUT", 29200, 0.146}, // 29,200 × 0.005/1000
				// sensors' entries every 300 s: 10 × 2,628,000 / 300 = 87,600; detections
				// 10 × 30.4167 × 7 = 2129.17; tasks 30.4167 × 4 = 121.67: × 0.625/1e6.
				{"DynamoDB", "writes", 87600 + 10*730/24.0*7 + 730/24.0*4, (87600 + 10*730/24.0*7 + 730/24.0*4) * 0.625 / 1e6},
				// the sensors ask the API every hour, 10 × 2,628,000 / 3,600 = 7,300,
				// and once per response, 10 × 30.4167 × 0.1 = 30.4167: × $1.00 per million
				{"API Gateway", "HTTP API", 7300 + 730/24.0, (7300 + 730/24.0) / 1e6},
				// they read their bells every 30 s: 10 × 2,628,000 / 30 = 876,000
				// reads of half a unit × $0.125 per million units
				{"DynamoDB", "reads: sensors' task bells", 438000, 438000 * 0.125 / 1e6},
			},
			never: "lifecycle transitions",
		},
		{
			// Without a bell: 10 × 2,628,000 / 30 = 876,000 polls × $1.00 per
			// million, each a query of half a unit, as is each authorizer call
			// (10 × 2,628,000 / 300 = 87,600), and the response steps' 5 a response.
			name: "tasks asked every interval without a bell",
			p: func() Params {
				p := fleet(10, 5)
				p.NoTaskBell = true
				return p
			}(),
			want: []want{
				{"API Gateway", "HTTP API", 876000, 0.876},
				{"DynamoDB", "reads: task polls", 438000 + 43800 + 730/24.0*5, (438000 + 43800 + 730/24.0*5) * 0.125 / 1e6},
			},
			never: "reads: sensors' task bells",
		},
		{
			// Standard 30 days: 31.17228 GB-month × 0.023; Glacier IR 335 days:
			// 348.0905 GB-month × 0.004; 29,200 transitions × 0.02/1000 = 0.584.
			name: "100/s: files transitioned after 30 days", p: fleet(10, 100),
			want: []want{
				{"S3", "Standard: the last 30 days", 30 * day100, 30 * day100 * 0.023},
				{"S3", "Glacier Instant Retrieval", 335 * day100, 335 * day100 * 0.004},
				{"S3", "lifecycle transitions", 29200, 0.584},
			},
		},
		{
			// A lifecycle that transitions every size: 90,300 B objects billed as
			// 131,072 B in Glacier IR: 960 × 131,072 B = 0.1171875 GiB a day × 335 =
			// 39.2578 GB-month × 0.004.
			name: "5/s: every size transitioned, billed at 128 KB",
			p: func() Params {
				p := fleet(10, 5)
				p.LifecycleMinBytes = 0
				return p
			}(),
			want: []want{
				{"S3", "Standard: the last 30 days", 30 * day5, 30 * day5 * 0.023},
				{"S3", "Glacier Instant Retrieval", 0.1171875 * 335, 0.1171875 * 335 * 0.004},
				{"S3", "lifecycle transitions", 29200, 0.584},
			},
		},
		{
			// 5-minute files at 5 events/s: 1,500 events, 37,200 + 17,700 = 54,900 B,
			// 12 an hour a host: 87,600 files a month, 87,600 × 0.005/1000 = 0.438.
			name: "5-minute files: three times the PUTs",
			p: func() Params {
				p := fleet(10, 5)
				p.RollIntervalSec = 300
				return p
			}(),
			want: []want{
				{"S3", "PUT", 87600, 0.438},
				{"S3", "Standard: all 365 days", 365 * 2880 * 54900.0 / (1 << 30), 365 * 2880 * 54900.0 / (1 << 30) * 0.023},
			},
		},
		{
			// Every heartbeat written (every 30 s): 10 × 2,628,000 / 30 = 876,000 units.
			name: "registry written on every heartbeat",
			p: func() Params {
				p := fleet(10, 5)
				p.RegistryWriteSec = 0
				return p
			}(),
			want: []want{
				{"DynamoDB", "writes: sensors' entries every 30s", 876000 + 10*730/24.0*7 + 730/24.0*4, (876000 + 10*730/24.0*7 + 730/24.0*4) * 0.625 / 1e6},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Run(tt.p)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				l := findLine(t, e, w.service, w.prefix)
				if !near(l.Quantity, w.quantity) || !near(l.Monthly, w.amount) {
					t.Errorf("%s %s: %v units for %.6f, want %v for %.6f", w.service, w.prefix, l.Quantity, l.Monthly, w.quantity, w.amount)
				}
			}
			var sum float64
			for _, l := range e.Lines {
				sum += l.Monthly
				if tt.never != "" && strings.HasPrefix(l.Item, tt.never) {
					t.Errorf("unexpected line %+v", l)
				}
			}
			if !near(e.Total, sum) || !near(e.PerHost, sum/10) {
				t.Errorf("total %v and per host %v, the lines add up to %v", e.Total, e.PerHost, sum)
			}
			if !strings.Contains(e.SteadyState, "365 days") {
				t.Errorf("steady state %q does not say the lake holds its retention", e.SteadyState)
			}
		})
	}
}

// TestDefaultsFollowTheSensor: the model's poll, roll and registry intervals
// are the sensor's and the detect function's defaults.
func TestDefaultsFollowTheSensor(t *testing.T) {
	d := DefaultParams()
	if d.TaskFullPollSec != cadence.TaskFullPoll.Seconds() {
		t.Errorf("full poll %vs, want internal/cadence's %v", d.TaskFullPollSec, cadence.TaskFullPoll)
	}
	if d.TaskPollSec != cadence.TaskPoll.Seconds() || d.RollIntervalSec != cadence.LakeRoll.Seconds() ||
		d.RegistryWriteSec != cadence.RegistryWrite.Seconds() || d.HeartbeatSec != cadence.Heartbeat.Seconds() {
		t.Errorf("poll %vs, roll %vs, registry %vs, heartbeat %vs; want internal/cadence's %v, %v, %v, %v",
			d.TaskPollSec, d.RollIntervalSec, d.RegistryWriteSec, d.HeartbeatSec,
			cadence.TaskPoll, cadence.LakeRoll, cadence.RegistryWrite, cadence.Heartbeat)
	}
}

func TestShortRetentionStaysStandard(t *testing.T) {
	p := fleet(10, 100)
	p.RetentionDays = 20
	e, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range e.Lines {
		if strings.Contains(l.Item, "Glacier") {
			t.Errorf("a 20-day lake has no Glacier line, got %+v", l)
		}
	}
	// 20 days in Standard: 20 × 0.982761 GiB.
	if l := findLine(t, e, "S3", "Standard"); !near(l.Quantity, 20*960*1099200.0/(1<<30)) {
		t.Errorf("Standard holds %v GB, want 20 days of the lake", l.Quantity)
	}
}

// TestNoTaskPolling compares the fleet's bill with task bells (the default),
// with the API asked every interval and with no response tasks.
func TestNoTaskPolling(t *testing.T) {
	run := func(edit func(*Params)) Estimate {
		t.Helper()
		p := fleet(100, 100)
		edit(&p)
		e, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	bell := run(func(*Params) {})
	polling := run(func(p *Params) { p.NoTaskBell = true })
	without := run(func(p *Params) { p.NoTaskPolling = true })
	for _, l := range without.Lines {
		if l.Service == "API Gateway" || strings.HasPrefix(l.Item, "api:") || strings.Contains(l.Item, "task bells") {
			t.Errorf("without task polling, line %+v", l)
		}
	}
	// 100 × 2,628,000 / 30 polls × $1.00 per million is the API's part alone.
	if d := polling.Total - without.Total; d < 8.76 {
		t.Errorf("task polling adds %.2f a month, less than its API requests alone (8.76)", d)
	}
	// the bells: 100 × 2,628,000 / 30 reads of half a unit × $0.125 per
	// million units (0.5475), then an hourly poll and one per response
	if d := bell.Total - without.Total; d < 0.5475 || d > 1.5 {
		t.Errorf("task bells add %.4f a month, want their reads (0.5475) and less than 1.5", d)
	}
}

func TestPriceTiers(t *testing.T) {
	pr, err := PricesFor("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		p        Price
		quantity float64
		want     float64
	}{
		{pr.S3Standard, 1000, 23},                                 // first tier: 1000 × 0.023
		{pr.S3Standard, 60 * 1024, 50*1024*0.023 + 10*1024*0.022}, // 1177.6 + 225.28
		{pr.S3Standard, 600 * 1024, 50*1024*0.023 + 450*1024*0.022 + 100*1024*0.021},
		{pr.HTTPAPIRequests, 400e6, 300 + 90}, // 300M × $1.00/M + 100M × $0.90/M
		{pr.KinesisShardHour, 730, 10.95},
	} {
		if got := c.p.Cost(c.quantity); !near(got, c.want) {
			t.Errorf("%v %s cost %v, want %v", c.quantity, c.p.Unit, got, c.want)
		}
	}
}

func TestPricesEveryRegion(t *testing.T) {
	for _, r := range []string{"us-east-1", "us-west-2", "eu-west-1", "eu-central-1"} {
		pr, err := PricesFor(r)
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		for _, p := range []Price{pr.KinesisShardHour, pr.KinesisStreamHour, pr.LambdaArmGBSecond, pr.S3GlacierIR,
			pr.DynamoWrite, pr.EventBridgeEvents, pr.StepTransitions, pr.AthenaScanned, pr.KMSRequests, pr.LogsIngested} {
			if !(p.USD > 0) || p.Per <= 0 || p.Unit == "" || !strings.HasPrefix(p.Source, "https://aws.amazon.com/") || p.Taken == "" {
				t.Errorf("%s: incomplete price %+v", r, p)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Params)
		wantErr []string
	}{
		{"no hosts", func(p *Params) { p.Hosts = 0 }, []string{"hosts", "at least 1", "got 0"}},
		{"negative hosts", func(p *Params) { p.Hosts = -3 }, []string{"hosts", "-3"}},
		{"negative rate", func(p *Params) { p.EventsPerHostPerSec = -1 }, []string{"events per host per second", "-1"}},
		{"zero rate", func(p *Params) { p.EventsPerHostPerSec = 0 }, []string{"events per host per second"}},
		{"NaN rate", func(p *Params) { p.EventsPerHostPerSec = math.NaN() }, []string{"events per host per second"}},
		{"no retention", func(p *Params) { p.RetentionDays = 0 }, []string{"retention", "at least 1 day"}},
		{"unknown region", func(p *Params) { p.Region = "mars-north-1" },
			[]string{`"mars-north-1"`, "eu-central-1, eu-west-1, us-east-1, us-west-2"}},
		{"negative detections", func(p *Params) { p.DetectionsPerHostPerDay = -2 }, []string{"detections per host per day"}},
		{"utilization over 1", func(p *Params) { p.ShardUtilization = 1.5 }, []string{"shard utilization"}},
		{"zero poll", func(p *Params) { p.TaskPollSec = 0 }, []string{"task poll interval"}},
		{"full poll under poll", func(p *Params) { p.TaskFullPollSec = 10 }, []string{"task full poll interval", "at least the task poll interval"}},
		{"negative registry interval", func(p *Params) { p.RegistryWriteSec = -1 }, []string{"registry write interval", "-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := fleet(10, 100)
			tt.edit(&p)
			_, err := Run(p)
			if err == nil {
				t.Fatalf("Run(%+v) succeeded", p)
			}
			if _, cerr := ChooseCapacity(p); cerr == nil || cerr.Error() != err.Error() {
				t.Errorf("ChooseCapacity gives %v, Run %v", cerr, err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
}
