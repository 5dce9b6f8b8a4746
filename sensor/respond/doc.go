// Package respond is the sensor's side of response: it polls the sensor's tasks
// (TaskSource: the API with HTTPSource, or a tasks store with StoreSource), runs
// each at most once and reports its status and result, so the response workflow
// waiting on the task continues.
//
// With a Bell (the sensor's item in the task bells table, a number the backend
// raises when it creates a task for the sensor) the runner reads the bell at
// every poll interval and asks the Source only when it changed, at start, while
// a result waits to be reported, when the bell cannot be read, and every
// FullPoll: a bell read costs a fraction of asking the API.
//
// At most once: a task is written to the state file as running before it runs,
// and a task found running there after a restart is reported failed, not run
// again. Results that could not be reported are kept and reported on a later
// poll. Tasks past their deadline are not run (the workflow has expired them).
//
// Actions (args are the task's string arguments):
//
//	isolate   cut the host off the network except loopback, the backend, the DNS
//	          resolvers and configured entries (package sensor/isolate); args:
//	          allow (optional, comma-separated extra entries). The state file
//	          records it; Restore re-applies it at start (after a reboot) and
//	          Refresh re-resolves the names in the allow list.
//	rejoin    undo isolate.
//	kill      pid (required) and one of start_time (field 22 of /proc/PID/stat)
//	          or event_time (Unix nanoseconds of the event that saw the process:
//	          a process started after it is refused), so a reused pid is never
//	          killed; tree ("true": the descendants too). Package sensor/kill.
//	snapshot  pid (required), start_time or event_time (checked when given, as
//	          for kill), max_bytes: a tar of the process (package sensor/snapshot)
//	          put in the lake under artifacts/<sensor>/<task>/snapshot.tar; the
//	          result has its SHA-256.
//
// A result is a JSON object (as text): the action's evidence, or
// {"error": "...", "evidence": ...} for a failed task.
package respond
