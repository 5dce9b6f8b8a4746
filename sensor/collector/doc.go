// Package collector turns the kernel's process activity into Vigil events.
//
// It loads the CO-RE eBPF program from sensor/bpf, attaches it to the
// sched_process_exec and sched_process_exit tracepoints, reads the ring buffer and
// decodes each record into an event.Event of type NEW_PROCESS or TERMINATE_PROCESS:
//
//	if err := collector.Supported(); err != nil {
//		log.Fatalf("process capture unavailable: %v", err) // says why: not root, no BTF, ...
//	}
//	c, err := collector.New(collector.Options{Enricher: enricher})
//	...
//	defer c.Close()
//	err = c.Run(ctx, func(ev *event.Event) { ship(ev) })
//
// The decoder reads the fixed part of a record straight from the ring buffer's
// bytes into a reused struct; only the strings (path, command line) allocate. The
// *event.Event passed to emit is reused for the next record: copy it to keep it.
//
// Each event gets a fresh ULID (event.NewID) of its time as routing/event_id.
//
// Kernel timestamps (CLOCK_BOOTTIME) become wall-clock nanoseconds with an offset
// that is re-measured at most once a second of event time, so a stepped wall clock
// is followed. Exit codes follow the shell's convention with signals negated: a
// normal exit gives its status (0–255), death by signal N gives -N.
//
// Records the kernel could not queue because the ring buffer was full are counted,
// per CPU, in the BPF `drops` map; Stats reports them with the records received.
// Enrichment (user name, parent process, process table) is delegated to an
// Enricher the caller supplies, typically sensor/enrich.
//
// The collector runs on Linux only (kernel 5.8+ with BTF, root or CAP_BPF and
// CAP_PERFMON); elsewhere Supported and New return an error saying so.
package collector
