// Package shipper moves the sensor's events off the host on two paths, both as
// zstd Parquet written by package event:
//
//   - the hot path: every BatchInterval (≤ 1 s) or BatchEvents events, a batch is
//     encoded as a stream record (event.RecordEncoder: the Parquet batch in a zstd
//     frame) — split in halves until each part fits a Kinesis record (≤ 1 MiB
//     framed, and ≤ 1 MiB of Parquet inside) — and put on the Stream with the
//     sensor id as partition key, so one sensor's events stay ordered in one shard;
//   - the cold path: events are rolled into lake files (≤ RollInterval, ≤ RollEvents,
//     ≤ RollBytes, never across an hour) and put in the Lake under the Hive layout of
//     event.LakeKey.
//
// Add keeps one copy of each event, for both paths, until the next tick, which
// comes early when BatchEvents are waiting (unless the backends are failing:
// then the BatchInterval ticks pace the retries), so a storm is shipped in
// batches of BatchEvents rather than held for a whole interval. At each tick
// the batch is encoded for the stream and written into the open lake file
// (event.FileWriter), which holds compressed column pages, not events: between
// ticks the shipper holds one tick of events plus the lake file so far as
// compressed pages, with per column the page being filled (up to 256 KiB
// uncompressed) and, for dictionary-encoded columns, the dictionary. The file is
// rolled before an event of a later hour than its first one (events slightly out
// of order at the boundary go into the open file), when it reaches RollEvents or
// its size, estimated from the last file's compression ratio, nears RollBytes, and
// at the first tick RollInterval after it was opened. A file that comes out over
// RollBytes anyway (events much less compressible than the last file's) is decoded
// and encoded again in halves until each part fits.
//
// Send takes a record already encoded for the stream (an edge record: the
// detections the sensor made on its host, see package sensor/edge) and puts it
// at once, without waiting for the tick, and always ahead of the batch of any
// event added after it: Run ships it as soon as it is not busy shipping, and a
// flush puts the records Send queued before the batches it encodes. Such records
// go through the spool like batches.
//
// A spool (package spool) sits in front of both. While nothing is waiting in it,
// batches go straight to the Stream or Lake; a batch they refuse — and every batch
// after it, so that order holds — is appended to the spool and replayed oldest
// first on the following ticks, and only removed once it was accepted. With a spool
// directory the waiting batches survive a restart: the next run ships them before
// anything new. The spool is bounded; beyond its bound the oldest batches are
// evicted and counted in Stats (DroppedRecords, DroppedFiles), never silently;
// batches it finds corrupt are removed and counted likewise (SpoolCorrupt).
//
// An event that cannot be encoded — one too large for a record or a lake file
// on its own, or refused by the encoder — is left out of that path, counted
// (DroppedStreamEvents, DroppedLakeEvents) and logged; the other events of its
// batch, and those after it, are encoded and shipped. Retrying would fail
// again, so nothing is kept for that. An encoder failure while the lake file
// is being written loses that file: its events are counted the same way.
//
// On shutdown Run encodes the events still queued and closes the open lake file,
// and tries to ship everything within the grace period; what cannot be shipped by
// then stays in the spool.
//
// Delivery is at least once: a batch whose put failed after the backend had in
// fact stored it (a connection lost before the answer) is sent again. Consumers
// deduplicate by event id where it matters.
package shipper
