// Package hoststats derives the sensor's own events from the event stream:
//
//   - SENSOR_HEARTBEAT every HeartbeatEvery (30 s), and once at start: sensor
//     version, uptime, drops so far (kernel and spool), spool depth, with the
//     sensor's tags in the routing fields;
//   - HOST_STATS every StatsEvery (60 s): per-type counts over the interval,
//     distinct destination IPs and ports of outbound connections, executables run
//     for the first time since the sensor started, failed connects (ErrorCode ≠ 0)
//     and outbound bytes: what the host's physical network interfaces
//     transmitted over the interval (Options.TxBytes, NetDev on a host).
//
// The anomaly models train on HOST_STATS; the backend tells a silent sensor from a
// quiet host by its heartbeats. The clock is injected (Options.Now) so tests step
// through intervals without waiting.
package hoststats
