// Package local holds the embedded adapters `vigil local` wires in place of the AWS
// services: an in-process stream carrying the same Parquet batches a Kinesis stream
// would, and a filesystem lake with the same Hive layout as the S3 lake.
package local
