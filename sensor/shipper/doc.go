// Package shipper moves the sensor's events off the host on two paths, both as
// zstd Parquet written by package event:
//
//   - the hot path: every BatchInterval (≤ 1 s) or BatchEvents events, a batch is
//     encoded — split in halves until each part fits a Kinesis record (≤ 1 MiB) — and
//     put on the Stream with the sensor id as partition key, so one sensor's events
//     stay ordered in one shard;
//   - the cold path: events are rolled into lake files (≤ RollInterval, ≤ RollEvents,
//     never across an hour) and put in the Lake under the Hive layout of
//     event.LakeKey.
//
// Batches the Stream or Lake refuse are kept and retried on the next tick, oldest
// first, up to MaxPendingBytes; beyond it the oldest are dropped and counted in
// Stats, never silently.
package shipper
