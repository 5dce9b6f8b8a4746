package cost

import (
	"math"
	"strings"
	"testing"
)

func fleet(hosts int, rate float64) Params {
	p := DefaultParams()
	p.Hosts, p.EventsPerHostPerSec = hosts, rate
	return p
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-6*math.Max(1, math.Abs(want)) }

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
// payload units; on-demand $0.04 per stream-hour, $0.08 per GB in, $0.04 per GB
// out; 730 hours, 2,628,000 seconds a month).
func TestChooseCapacity(t *testing.T) {
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
			// 100 events a record: 5000 + 100×4.5 = 5450 B; 10 records/s, 54,500 B/s:
			// 54,500 / (1,048,576 × 0.7) = 0.07 shard → 1.
			// provisioned: 730 × 0.015 = 10.95; 26,280,000 records × 1 unit × 0.014/1e6 = 0.36792.
			// on-demand: 29.20; in 26,280,000 × 6 KiB = 150.375366 GiB × 0.08 = 12.030029;
			// out 26,280,000 × 5450 B = 133.3913 GiB × 0.04 = 5.335652.
			name: "10 hosts at 100/s", p: fleet(10, 100), wantMode: Provisioned, wantShards: 1, wantRecord: 5450,
			provMonthly: 10.95 + 0.36792, odMonthly: 29.2 + 12.030029296875 + 26280000*5450.0/(1<<30)*0.04,
		},
		{
			// 1000 records/s of 5450 B = 5,450,000 B/s: by bytes 5,450,000 / 734,003.2 =
			// 7.43 → 8 shards (by records 1000/700 = 1.43). 8 × 730 × 0.015 = 87.6;
			// 2,628,000,000 units × 0.014/1e6 = 36.792.
			name: "1000 hosts at 100/s", p: fleet(1000, 100), wantMode: Provisioned, wantShards: 8, wantRecord: 5450,
			provMonthly: 87.6 + 36.792, odMonthly: 29.2 + 1000*(12.030029296875+26280000*5450.0/(1<<30)*0.04)/10,
		},
		{
			// A full batch: 2000 events, 5000 + 9000 = 14,000 B; 2.5 records/s a host,
			// 100 hosts: 250 records/s, 3,500,000 B/s / 734,003.2 = 4.77 → 5 shards.
			// 5 × 730 × 0.015 = 54.75; 657,000,000 records × 1 unit × 0.014/1e6 = 9.198.
			name: "100 hosts at 5000/s", p: fleet(100, 5000), wantMode: Provisioned, wantShards: 5, wantRecord: 14000,
			provMonthly: 54.75 + 9.198,
			// 657,000,000 × 14 KiB = 8,771.97 GiB × 0.08; out 657e6 × 14,000 B × 0.04.
			odMonthly: 29.2 + 657e6*14*1024/(1<<30)*0.08 + 657e6*14000/(1<<30)*0.04,
		},
		{
			// Planning shards at 0.1 % of their limits makes provisioned dear: 5450 B/s /
			// 1048.576 = 5.2 → 6 shards, 6 × 10.95 = 65.7 + 2,628,000 × 0.014/1e6;
			// on-demand: 29.2 + 15.0375366 GiB × 0.08 + 13.3391 GiB × 0.04 ≈ 30.94.
			name: "on-demand when shards are planned nearly empty",
			p: func() Params {
				p := fleet(1, 100)
				p.ShardUtilization = 0.001
				return p
			}(),
			wantMode: OnDemand, wantShards: 4, wantRecord: 5450,
			provMonthly: 65.7 + 2.628*0.014, odMonthly: 29.2 + 1.2030029296875 + 2628000*5450.0/(1<<30)*0.04,
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

// TestLakeLines checks the lake's lines for 10 hosts, a year kept, by hand. At 100
// events/s a 5-minute file holds 30,000 events, 36,000 + 60,000 = 96,000 B; 12
// files an hour a host: 87,600 files a month, 2,880 a day (730/24 = 30.4167
// days). A day is 2,880 × 96,000 B = 0.257492 GiB. At 200 events/s a file is
// 36,000 + 120,000 = 156,000 B, a day 2,880 × 156,000 B = 0.418424 GiB.
func TestLakeLines(t *testing.T) {
	day100 := 2880 * 96000.0 / (1 << 30)
	day200 := 2880 * 156000.0 / (1 << 30)
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
			// 96,000 B files are under the lifecycle's 128 KB: all 365 days in
			// Standard, 93.9846 GB-month × 0.023 = 2.161646; no transitions.
			name: "100/s: files too small to transition", p: fleet(10, 100),
			want: []want{
				{"S3", "Standard: all 365 days", 365 * day100, 365 * day100 * 0.023},
				{"S3", "PUT", 87600, 0.438}, // 87,600 × 0.005/1000
				// heartbeats 10 × 2,628,000 / 30 = 876,000; detections 10 × 30.4167 × 7
				// = 2129.17; tasks 30.4167 × 4 = 121.67: 878,250.83 units × 0.625/1e6.
				{"DynamoDB", "writes", 876000 + 10*730/24.0*7 + 730/24.0*4, (876000 + 10*730/24.0*7 + 730/24.0*4) * 0.625 / 1e6},
				// 10 × 2,628,000 / 5 = 5,256,000 polls × $1.00 per million.
				{"API Gateway", "HTTP API", 5256000, 5.256},
			},
			never: "lifecycle transitions",
		},
		{
			// Standard 30 days: 12.55271 GB-month × 0.023 = 0.288712; Glacier IR 335
			// days: 140.1719 GB-month × 0.004 = 0.560688; 87,600 transitions ×
			// 0.02/1000 = 1.752.
			name: "200/s: files transitioned after 30 days", p: fleet(10, 200),
			want: []want{
				{"S3", "Standard: the last 30 days", 30 * day200, 30 * day200 * 0.023},
				{"S3", "Glacier Instant Retrieval", 335 * day200, 335 * day200 * 0.004},
				{"S3", "lifecycle transitions", 87600, 1.752},
			},
		},
		{
			// A lifecycle that transitions every size: 96,000 B objects billed as
			// 131,072 B in Glacier IR: 2,880 × 131,072 B = 0.3515625 GiB a day × 335 =
			// 117.7734 GB-month × 0.004 = 0.471094.
			name: "100/s: every size transitioned, billed at 128 KB",
			p: func() Params {
				p := fleet(10, 100)
				p.LifecycleMinBytes = 0
				return p
			}(),
			want: []want{
				{"S3", "Standard: the last 30 days", 30 * day100, 30 * day100 * 0.023},
				{"S3", "Glacier Instant Retrieval", 0.3515625 * 335, 0.3515625 * 335 * 0.004},
				{"S3", "lifecycle transitions", 87600, 1.752},
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
	// 20 days in Standard: 20 × 0.257492 GiB.
	if l := findLine(t, e, "S3", "Standard"); !near(l.Quantity, 20*2880*96000.0/(1<<30)) {
		t.Errorf("Standard holds %v GB, want 20 days of the lake", l.Quantity)
	}
}

func TestNoTaskPolling(t *testing.T) {
	p := fleet(100, 100)
	with, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	p.NoTaskPolling = true
	without, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range without.Lines {
		if l.Service == "API Gateway" || strings.HasPrefix(l.Item, "api:") {
			t.Errorf("without task polling, line %+v", l)
		}
	}
	// 100 × 2,628,000 / 5 polls × $1.00 per million is the API's part alone.
	if d := with.Total - without.Total; d < 52.56 {
		t.Errorf("task polling adds %.2f a month, less than its API requests alone (52.56)", d)
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
