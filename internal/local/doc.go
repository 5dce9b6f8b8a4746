// Package local holds the embedded adapters `vigil local` wires in place of the AWS
// services: an in-process stream carrying the same Parquet batches a Kinesis stream
// would, a filesystem lake with the same Hive layout as the S3 lake, and a store
// (one fsynced JSON-lines log) for detections, sensors, tasks, hashed API keys
// (listed and revoked by id, with their last use to the hour) and the dashboard's
// sessions (kept by the hash of their id; revoking a key ends the sessions opened
// with it) that implements the same interfaces as the DynamoDB tables and
// survives restarts.
package local
