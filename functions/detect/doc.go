// Command detect is the Lambda function on the Kinesis event source mapping. It
// decodes each record's Parquet batch, evaluates the embedded rule pack (rules/),
// stores each detection in DynamoDB (once, by detection id), publishes it on the
// EventBridge bus and starts the response workflow for rules with response
// actions; sensors' heartbeats update the sensors table. Undecodable records are
// reported as batch item failures.
package main
