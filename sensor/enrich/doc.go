// Package enrich adds to events what the kernel record does not carry: the user
// name for the uid, the parent's and grandparent's executable path and command
// line, the container id (sensor/container), for TERMINATE_PROCESS the exiting
// process's own path and command line, and for every other event (file, network,
// DNS, privilege, ptrace) the acting process's path and command line.
//
// An Enricher keeps a process table (pid → path, command line, start time, parent
// pid, container id) fed by
// the NEW_PROCESS events themselves and seeded from /proc when it is created, so
// processes started before the sensor are known too. A parent missing from the
// table (it forked without exec, or started between seeding and the probes being
// attached) is read from /proc/<ppid>/exe and /proc/<ppid>/cmdline and then kept.
// A process leaves the table when its TERMINATE_PROCESS has been emitted (Forget);
// Sweep removes entries whose process is gone without an exit event (drops).
//
// Every process event also gets its process's context (Context: arguments,
// working directory, terminal, audit login uid and session, start time, pid in
// its namespace, capabilities), kept in the table from its NEW_PROCESS (or, for
// a process started before the sensor, its arguments and working directory from
// /proc), and its ancestry (ancestry.go): the chain of ancestors, parent first,
// up to Options.AncestryDepth (default 8), each with its pid, path, command line
// and user. A process's ancestry is built once from its parent's and kept with
// it: every event of the process shares the same lists, and the children of a
// process share one ancestry, kept with the parent until it runs another
// program. It is rebuilt when the event names another parent (the process was
// re-parented).
//
// An event of a process in a Kubernetes pod (its cgroup names the pod: see
// sensor/container.PodUID) gets the pod's and its container's context from
// Options.Pods (sensor/kube's Cache), which answers from memory; the pod UID
// is kept in the table with the container id.
//
// User names come from /etc/passwd, parsed once and re-read when the file changes
// (checked at most once a second); a uid without an entry is shown as its number.
//
// Enricher satisfies the collector's Enricher interface; it is safe for concurrent
// use.
package enrich
