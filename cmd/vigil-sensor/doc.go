// Command vigil-sensor is the edge sensor: it captures process activity with eBPF
// and ships it as Parquet batches to a Kinesis stream (--stream, AWS configuration
// from the SDK's standard sources, AWS_ENDPOINT_URL included) and/or as lake files
// to a local directory (--local DIR). It needs root; without it, it exits with code 2
// saying why.
package main
