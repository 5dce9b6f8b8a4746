// Package agent assembles the sensor: process enrichment, the eBPF collector and the
// shipper, run together until the context ends or the collector fails, then drained
// and flushed. The collector and the sensor's own events (heartbeats, host stats)
// stop first and the shipper last, so its final flush takes every event counted;
// Run returns once all of them have stopped. With Options.Edge each captured event
// is also evaluated on the host (package edge) before it is batched; the edge's
// last records and tasks are handed to the shipper before its final flush. Both the
// vigil-sensor binary (shipping to Kinesis/S3) and `vigil local` (shipping to the
// in-process stream and a local lake) run the sensor through it.
package agent
