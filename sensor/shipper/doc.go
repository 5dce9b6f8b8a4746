// Package shipper moves the sensor's events off the host on two paths, both as
// zstd Parquet written by package event:
//
//   - the hot path: every BatchInterval (≤ 1 s) or BatchEvents events, a batch is
//     encoded — split in halves until each part fits a Kinesis record (≤ 1 MiB) — and
//     put on the Stream with the sensor id as partition key, so one sensor's events
//     stay ordered in one shard;
//   - the cold path: events are rolled into lake files (≤ RollInterval, ≤ RollEvents,
//     ≤ RollBytes, never across an hour) and put in the Lake under the Hive layout of
//     event.LakeKey.
//
// A spool (package spool) sits in front of both. While nothing is waiting in it,
// batches go straight to the Stream or Lake; a batch they refuse — and every batch
// after it, so that order holds — is appended to the spool and replayed oldest
// first on the following ticks, and only removed once it was accepted. With a spool
// directory the waiting batches survive a restart: the next run ships them before
// anything new. The spool is bounded; beyond its bound the oldest batches are
// evicted and counted in Stats (DroppedRecords, DroppedFiles), never silently.
//
// On shutdown Run encodes everything still in memory, lake file included, and
// tries to ship it within the grace period; what cannot be shipped by then stays in
// the spool.
//
// Delivery is at least once: a batch whose put failed after the backend had in
// fact stored it (a connection lost before the answer) is sent again. Consumers
// deduplicate by event id where it matters.
package shipper
