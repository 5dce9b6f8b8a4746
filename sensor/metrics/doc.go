// Package metrics sends the sensor's metrics to the local Datadog agent over
// DogStatsD (UDP, or a unix socket with unix:///path), with datadog-go:
//
//	vigil.sensor.events         count  per event, tagged event_type:<TYPE>
//	vigil.sensor.drops          count  events or batches lost, tagged source:kernel|spool_records|spool_files|spool_write|
//	                                   spool_corrupt|encode_stream|encode_lake
//	vigil.sensor.batch_bytes    distribution  size of each batch shipped, tagged path:stream|lake
//	vigil.sensor.ship_latency   timing (ms)   from a batch's encoding to its acceptance, tagged path:stream|lake
//	vigil.sensor.spool_bytes    gauge  bytes waiting in the spool
//	vigil.sensor.spool_batches  gauge  batches waiting, tagged path:stream|lake
//	vigil.sensor.bpf_cpu        count (µs)    CPU time the eBPF programs ran, in the processes
//	                                          they observe; only while the kernel keeps BPF run
//	                                          time statistics (sysctl kernel.bpf_stats_enabled=1)
//	vigil.sensor.edge_detections     count  detections made on the host (rules.edge)
//	vigil.sensor.edge_unsent         count  edge detections and tasks never handed to the stream
//	vigil.sensor.edge_state_evicted  count  live edge state entries dropped at the state's bound
//	vigil.sensor.edge_actions        count  edge actions, tagged result:done|dry_run|failed
//
// Every metric carries the sensor's tags (sensor_id, and its own K:V tags). A nil
// *Metrics does nothing, so callers need not check whether metrics are enabled.
package metrics
