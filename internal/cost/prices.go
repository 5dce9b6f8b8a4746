package cost

import (
	"fmt"
	"slices"
	"strings"
)

// Price is an AWS list price: USD for Per units of Unit, as the service's public
// pricing page gave it on the date Taken.
type Price struct {
	USD    float64
	Per    float64 // units the USD buys: 1 for "per GB-month", 1e6 for "per million requests"
	Unit   string  // what is counted: "shard-hour", "request", "GB-month", ...
	Source string  // the service's public pricing page
	Taken  string  // date of the figure, YYYY-MM-DD
	// Tiers, when set, are volume tiers of the monthly quantity: Tiers[i] applies to
	// the units beyond the previous tier's UpTo (the first from 0); the last has
	// UpTo 0, no bound. USD/Per is then the first tier's price.
	Tiers []Tier
}

// Tier is one volume tier of a Price: USD per Price.Per units up to UpTo units a month.
type Tier struct {
	UpTo float64
	USD  float64
}

// Each is the price of one unit (of the first tier).
func (p Price) Each() float64 { return p.USD / p.Per }

// Cost is what quantity units cost in a month, tiers applied.
func (p Price) Cost(quantity float64) float64 {
	if len(p.Tiers) == 0 {
		return quantity * p.Each()
	}
	var total, from float64
	for _, t := range p.Tiers {
		upTo := t.UpTo
		if upTo == 0 || quantity < upTo {
			upTo = quantity
		}
		if upTo > from {
			total += (upTo - from) * t.USD / p.Per
			from = upTo
		}
		if from >= quantity {
			break
		}
	}
	return total
}

// Prices are the list prices of one region, for every service the stack uses.
type Prices struct {
	Region string
	// Note says how the region's figures were checked.
	Note string

	// Kinesis Data Streams, provisioned: per shard-hour, per PUT payload unit (25 KB).
	KinesisShardHour, KinesisPutUnits Price
	// Kinesis Data Streams, on-demand: per stream-hour, per GB written (each record
	// rounded up to 1 KB), per GB read.
	KinesisStreamHour, KinesisDataIn, KinesisDataOut Price

	// Lambda: duration per GB-second (arm64, which the stack deploys, and x86_64), requests.
	LambdaArmGBSecond, LambdaX86GBSecond, LambdaRequests Price
	// API Gateway HTTP API requests (the sensors' task polls).
	HTTPAPIRequests Price

	// S3: storage per GB-month in Standard, Glacier Instant Retrieval and
	// Intelligent-Tiering (frequent access); PUT and GET requests; lifecycle
	// transitions to Glacier Instant Retrieval.
	S3Standard, S3GlacierIR, S3IntelligentTiering Price
	S3Put, S3Get, S3GlacierIRTransition           Price
	// S3GlacierIRMinBytes is the smallest object size Glacier Instant Retrieval bills;
	// S3GlacierIRMinDays its minimum storage duration.
	S3GlacierIRMinBytes float64
	S3GlacierIRMinDays  float64

	// DynamoDB on-demand: write and read request units, storage and point-in-time
	// recovery per GB-month.
	DynamoWrite, DynamoRead, DynamoStorage, DynamoPITR Price

	EventBridgeEvents Price // custom events put on a bus
	StepTransitions   Price // standard workflow state transitions
	AthenaScanned     Price // per TB scanned (10 MB minimum per query)
	KMSKey            Price // customer managed key per month
	KMSRequests       Price
	LogsIngested      Price // CloudWatch Logs
	LogsStored        Price
	Alarms            Price // CloudWatch standard-resolution metric alarms
	Metrics           Price // CloudWatch custom metrics
	Secret            Price // Secrets Manager secret per month
}

// Pricing pages the figures come from.
const (
	srcKinesis     = "https://aws.amazon.com/kinesis/data-streams/pricing/"
	srcLambda      = "https://aws.amazon.com/lambda/pricing/"
	srcAPIGateway  = "https://aws.amazon.com/api-gateway/pricing/"
	srcS3          = "https://aws.amazon.com/s3/pricing/"
	srcDynamoDB    = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
	srcEventBridge = "https://aws.amazon.com/eventbridge/pricing/"
	srcStepFn      = "https://aws.amazon.com/step-functions/pricing/"
	srcAthena      = "https://aws.amazon.com/athena/pricing/"
	srcKMS         = "https://aws.amazon.com/kms/pricing/"
	srcCloudWatch  = "https://aws.amazon.com/cloudwatch/pricing/"
	srcSecrets     = "https://aws.amazon.com/secrets-manager/pricing/"
)

// PricesTaken is the date of the embedded figures: the pricing pages as they read
// then (DynamoDB's on-demand prices after the reduction of November 2024).
const PricesTaken = "2025-06-01"

// Billing units.
const (
	kib = 1024.0
	mib = 1024 * kib
	gib = 1024 * mib
	tib = 1024 * gib
)

// regional holds the figures that differ between regions; the rest are the same in
// every region Vigil knows.
type regional struct {
	note                                   string
	shardHour, putUnits                    float64 // per hour, per million
	streamHour, dataIn, dataOut            float64 // per hour, per GB, per GB
	httpAPI, httpAPIOver300M               float64 // per million
	s3Standard                             [3]float64
	s3GlacierIR, s3Put, s3Get, s3GIRTrans  float64 // per GB-month, per 1,000 requests
	dynWrite, dynRead, dynStorage, dynPITR float64 // per million, per GB-month
	logsIngested                           float64 // per GB
}

var regions = map[string]regional{
	"us-east-1": usRegion("us-east-1 figures read from each pricing page's US East (N. Virginia) table"),
	"us-west-2": usRegion("us-west-2 lists the same figures as us-east-1 for every service counted"),
	"eu-west-1": {
		note:      "eu-west-1 (Ireland) figures from the pricing pages' region selector; check them there before relying on them",
		shardHour: 0.015, putUnits: 0.014,
		streamHour: 0.04, dataIn: 0.08, dataOut: 0.04,
		httpAPI: 1.11, httpAPIOver300M: 1.00,
		s3Standard: [3]float64{0.023, 0.022, 0.021}, s3GlacierIR: 0.004, s3Put: 0.005, s3Get: 0.0004, s3GIRTrans: 0.02,
		dynWrite: 0.7068, dynRead: 0.1414, dynStorage: 0.283, dynPITR: 0.2265,
		logsIngested: 0.57,
	},
	"eu-central-1": {
		note:      "eu-central-1 (Frankfurt) figures from the pricing pages' region selector; check them there before relying on them",
		shardHour: 0.0179, putUnits: 0.0175,
		streamHour: 0.0478, dataIn: 0.0956, dataOut: 0.0478,
		httpAPI: 1.20, httpAPIOver300M: 1.08,
		s3Standard: [3]float64{0.0245, 0.0235, 0.0225}, s3GlacierIR: 0.005, s3Put: 0.0054, s3Get: 0.00043, s3GIRTrans: 0.024,
		dynWrite: 0.7625, dynRead: 0.1525, dynStorage: 0.306, dynPITR: 0.2448,
		logsIngested: 0.63,
	},
}

func usRegion(note string) regional {
	return regional{
		note:      note,
		shardHour: 0.015, putUnits: 0.014,
		streamHour: 0.04, dataIn: 0.08, dataOut: 0.04,
		httpAPI: 1.00, httpAPIOver300M: 0.90,
		s3Standard: [3]float64{0.023, 0.022, 0.021}, s3GlacierIR: 0.004, s3Put: 0.005, s3Get: 0.0004, s3GIRTrans: 0.02,
		dynWrite: 0.625, dynRead: 0.125, dynStorage: 0.25, dynPITR: 0.20,
		logsIngested: 0.50,
	}
}

// Regions lists the regions whose prices are embedded, sorted.
func Regions() []string {
	out := make([]string, 0, len(regions))
	for r := range regions {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// PricesFor returns the list prices of region, or an error naming the regions known.
func PricesFor(region string) (Prices, error) {
	r, ok := regions[region]
	if !ok {
		return Prices{}, fmt.Errorf("no prices for region %q: known regions are %s", region, strings.Join(Regions(), ", "))
	}
	p := func(usd, per float64, unit, src string) Price {
		return Price{USD: usd, Per: per, Unit: unit, Source: src, Taken: PricesTaken}
	}
	std := p(r.s3Standard[0], 1, "GB-month", srcS3)
	std.Tiers = []Tier{{UpTo: 50 * 1024, USD: r.s3Standard[0]}, {UpTo: 500 * 1024, USD: r.s3Standard[1]}, {USD: r.s3Standard[2]}}
	api := p(r.httpAPI, 1e6, "request", srcAPIGateway)
	api.Tiers = []Tier{{UpTo: 300e6, USD: r.httpAPI}, {USD: r.httpAPIOver300M}}
	return Prices{
		Region: region,
		Note:   r.note,

		KinesisShardHour:  p(r.shardHour, 1, "shard-hour", srcKinesis),
		KinesisPutUnits:   p(r.putUnits, 1e6, "PUT payload unit", srcKinesis),
		KinesisStreamHour: p(r.streamHour, 1, "stream-hour", srcKinesis),
		KinesisDataIn:     p(r.dataIn, 1, "GB written", srcKinesis),
		KinesisDataOut:    p(r.dataOut, 1, "GB read", srcKinesis),

		LambdaArmGBSecond: p(0.0000133334, 1, "GB-second (arm64)", srcLambda),
		LambdaX86GBSecond: p(0.0000166667, 1, "GB-second (x86_64)", srcLambda),
		LambdaRequests:    p(0.20, 1e6, "request", srcLambda),
		HTTPAPIRequests:   api,

		S3Standard:            std,
		S3GlacierIR:           p(r.s3GlacierIR, 1, "GB-month", srcS3),
		S3IntelligentTiering:  p(r.s3Standard[0], 1, "GB-month", srcS3),
		S3Put:                 p(r.s3Put, 1000, "PUT request", srcS3),
		S3Get:                 p(r.s3Get, 1000, "GET request", srcS3),
		S3GlacierIRTransition: p(r.s3GIRTrans, 1000, "lifecycle transition", srcS3),
		S3GlacierIRMinBytes:   128 * kib,
		S3GlacierIRMinDays:    90,

		DynamoWrite:   p(r.dynWrite, 1e6, "write request unit", srcDynamoDB),
		DynamoRead:    p(r.dynRead, 1e6, "read request unit", srcDynamoDB),
		DynamoStorage: p(r.dynStorage, 1, "GB-month", srcDynamoDB),
		DynamoPITR:    p(r.dynPITR, 1, "GB-month", srcDynamoDB),

		EventBridgeEvents: p(1.00, 1e6, "custom event", srcEventBridge),
		StepTransitions:   p(0.025, 1000, "state transition", srcStepFn),
		AthenaScanned:     p(5.00, 1, "TB scanned", srcAthena),
		KMSKey:            p(1.00, 1, "key-month", srcKMS),
		KMSRequests:       p(0.03, 10000, "request", srcKMS),
		LogsIngested:      p(r.logsIngested, 1, "GB ingested", srcCloudWatch),
		LogsStored:        p(0.03, 1, "GB-month", srcCloudWatch),
		Alarms:            p(0.10, 1, "alarm-month", srcCloudWatch),
		Metrics:           p(0.30, 1, "metric-month", srcCloudWatch),
		Secret:            p(0.40, 1, "secret-month", srcSecrets),
	}, nil
}
