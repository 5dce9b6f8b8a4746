// Package agent assembles the sensor: process enrichment, the eBPF collector and the
// shipper, run together until the context ends, then drained and flushed. Both the
// vigil-sensor binary (shipping to Kinesis/S3) and `vigil local` (shipping to the
// in-process stream and a local lake) run the sensor through it.
package agent
