// Package cost estimates what a Vigil deployment costs to run in the customer's
// AWS account, per month, from the size of the fleet: hosts, events per host per
// second and the lake's retention.
//
// The model follows what the stack deploys (infra/) and what the sensor ships
// (docs/sensor.md): one Kinesis record per sensor per batch interval (≤ 1 s, ≤ 2000
// events, ≤ 1 MiB), one lake file per sensor per roll interval (15 min, ≤ 64 MiB,
// never across an hour), the detect function at 512 MB on arm64 fed batches of 100
// records, the sensors' heartbeats in DynamoDB, the sensors' task polling through
// the HTTP API, detections through DynamoDB, EventBridge and Step Functions, and the
// lake kept 30 days in S3 Standard and the rest of its retention in S3 Glacier
// Instant Retrieval (files under S3 Lifecycle's 128 KB default minimum stay in
// Standard). Prices are the AWS list prices embedded in prices.go, each with
// its unit, the date it was taken and the pricing page it comes from.
//
// Run returns an Estimate: one line per billed quantity (the quantity, the unit
// price and their product), the total and the cost per host, at steady state: the lake holds
// a full retention of events. ChooseCapacity picks the Kinesis capacity mode
// (on-demand, or provisioned with a shard count) that costs less for the fleet;
// the estimate prices that choice, and the CDK app deploys it when it is given the
// fleet's size. MeasureLake measures bytes per event (and the event rate) from the
// files of a lake directory.
//
// docs/cost.md explains every line and what is not counted.
package cost
