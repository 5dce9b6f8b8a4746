// Package health answers the sensor's health probes over HTTP, for an
// orchestrator (a Kubernetes DaemonSet's liveness and readiness probes, a load
// balancer, a monitoring check) that cannot read heartbeats from the lake.
//
// A Monitor knows two things: whether the capture runs (the kernel hooks are
// attached and the run has not ended), and, from the shipper's counters
// sampled over time, whether a shipping path (the stream, the lake) has been
// failing with no success for longer than a threshold (default 5 minutes).
// A failed put alone is not a failure of the sensor: the batch waits in the
// spool and goes with the next put that succeeds, so only a path that keeps
// failing past the threshold makes the sensor unhealthy. Any put that succeeds
// clears its path.
//
// The Handler serves
//
//	/livez    200 while the capture runs, 503 before the hooks are attached and once the run ended
//	/healthz  200 while the capture runs and no path fails past the threshold, 503 otherwise
//
// both with a JSON Report whose reasons say what is wrong. /livez leaves the
// shipping paths out on purpose: restarting a sensor does not bring a backend
// back, and a restart loses the events of the restart itself.
package health
