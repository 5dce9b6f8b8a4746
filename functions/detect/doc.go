// Command detect is the Lambda function on the Kinesis event source mapping. It
// decodes each record's Parquet batch, evaluates the embedded rule pack
// (rules/) and prints each detection as one JSON line (CloudWatch Logs). Undecodable
// records are reported as batch item failures.
package main
