package respond

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/sensor/isolate"
	"github.com/vigil-sec/vigil/sensor/kill"
	"github.com/vigil-sec/vigil/sensor/snapshot"
)

// Lake stores artifacts; internal/aws.S3 and internal/local.Lake satisfy it.
type Lake interface {
	Put(ctx context.Context, key string, data []byte) error
}

// IMDS is the EC2 instance metadata service (IPv4 and IPv6): the sensor gets its
// AWS credentials there, so an isolated EC2 host keeps it in its allow list.
var IMDS = []string{"169.254.169.254", "fd00:ec2::254"}

// Isolation configures the isolate action.
type Isolation struct {
	// Backend lists the Vigil endpoints the host keeps reaching: host names,
	// URLs, addresses or CIDR prefixes (the API, Kinesis, S3 endpoints of the
	// region). Names are resolved when the host is isolated and again on every
	// refresh.
	Backend []string
	// Allow lists other entries in the same forms (IMDS on EC2, a bastion).
	Allow []string
	// Resolvers are the DNS servers to keep; nil reads isolate.ResolvConfs.
	Resolvers []string
	// Options say where isolation attaches and is pinned (the cgroup v2 root and
	// isolate.DefaultPinDir by default).
	Options isolate.Options
	// Resolver looks names up (net.DefaultResolver when nil).
	Resolver *net.Resolver
	// Disabled refuses isolate tasks (a host that must never be cut off).
	Disabled bool
}

// entries is the full configured allow list, plus extra.
func (iso *Isolation) entries(extra []string) []string {
	out := slices.Concat(iso.Backend, iso.Allow, extra)
	if iso.Resolvers != nil {
		out = append(out, iso.Resolvers...)
	} else {
		for _, p := range isolate.Resolvers() {
			out = append(out, p.String())
		}
	}
	return out
}

// resolve turns entries into prefixes. An entry that cannot be resolved keeps
// the addresses it had (prev) so a DNS hiccup never drops the backend.
func (iso *Isolation) resolve(ctx context.Context, entries []string, prev []netip.Prefix) ([]netip.Prefix, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	allow, err := isolate.Resolve(ctx, iso.Resolver, entries)
	if err != nil {
		for _, p := range prev {
			if !slices.Contains(allow, p) {
				allow = append(allow, p)
			}
		}
	}
	return allow, err
}

// isolate args: "allow" (optional), more entries, comma-separated.
func (r *Runner) isolate(ctx context.Context, t task.Task) (string, error) {
	iso := &r.Isolation
	if iso.Disabled {
		return "", errors.New("isolation is disabled on this sensor")
	}
	var extra []string
	for _, e := range strings.Split(t.Args["allow"], ",") {
		if e = strings.TrimSpace(e); e != "" {
			extra = append(extra, e)
		}
	}
	entries := iso.entries(extra)
	allow, rerr := iso.resolve(ctx, entries, r.state.Isolation.Allow)
	if len(iso.Backend) > 0 && !anyResolved(ctx, iso, iso.Backend) {
		// isolating now would cut the sensor off its backend for good
		return "", fmt.Errorf("none of the backend endpoints %v resolves (%v): not isolating", iso.Backend, rerr)
	}
	st, err := isolate.Isolate(iso.Options, allow)
	if err != nil {
		return "", err
	}
	r.state.Isolation = isolationRecord{Isolated: true, TaskID: t.ID, Since: r.now().UTC(), Entries: entries, Allow: allow}
	if err := r.save(); err != nil {
		return "", err
	}
	out := map[string]any{"action": "isolate", "isolated": true, "cgroup": st.Cgroup, "pin_dir": st.PinDir, "allow": st.Allow}
	if rerr != nil {
		out["warnings"] = rerr.Error()
	}
	return resultJSON(out), nil
}

func anyResolved(ctx context.Context, iso *Isolation, backend []string) bool {
	for _, b := range backend {
		if p, _ := isolate.Resolve(ctx, iso.Resolver, []string{b}); len(p) > 0 {
			return true
		}
	}
	return false
}

func (r *Runner) rejoin(_ context.Context, t task.Task) (string, error) {
	before, _ := isolate.Current(r.Isolation.Options)
	was, err := isolate.Rejoin(r.Isolation.Options)
	if err != nil {
		return "", err
	}
	r.state.Isolation = isolationRecord{}
	if err := r.save(); err != nil {
		return "", err
	}
	return resultJSON(map[string]any{"action": "rejoin", "isolated": false, "was_isolated": was, "refused_while_isolated": before.Stats}), nil
}

// Restore re-applies the isolation the state file records (after a reboot
// cleared bpffs, or pins removed by hand), with the allow list resolved afresh.
func (r *Runner) Restore(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(); err != nil {
		return err
	}
	rec := r.state.Isolation
	if !rec.Isolated {
		return nil
	}
	allow, rerr := r.Isolation.resolve(ctx, rec.Entries, rec.Allow)
	if _, err := isolate.Isolate(r.Isolation.Options, allow); err != nil {
		return fmt.Errorf("respond: re-apply isolation of task %s: %w", rec.TaskID, err)
	}
	r.state.Isolation.Allow = allow
	r.log().Info("isolation re-applied", "task", rec.TaskID, "since", rec.Since, "allow", len(allow))
	return errors.Join(rerr, r.save())
}

// Refresh resolves the isolation's allow list again and updates it in place.
func (r *Runner) Refresh(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(); err != nil || !r.state.Isolation.Isolated {
		return err
	}
	allow, rerr := r.Isolation.resolve(ctx, r.state.Isolation.Entries, r.state.Isolation.Allow)
	if err := isolate.Update(r.Isolation.Options, allow); err != nil {
		return fmt.Errorf("respond: refresh isolation of task %s: %w", r.state.Isolation.TaskID, err)
	}
	r.state.Isolation.Allow = allow
	return errors.Join(rerr, r.save())
}

func argInt(t task.Task, name string, required bool) (int64, error) {
	v, ok := t.Args[name]
	if !ok || v == "" {
		if required {
			return 0, fmt.Errorf("argument %q is required", name)
		}
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("argument %s=%q: want a non-negative integer", name, v)
	}
	return n, nil
}

// kill args: "pid" and either "start_time" (field 22 of /proc/PID/stat) or
// "event_time" (Unix nanoseconds of the event that saw the process: a detection's
// task) — either makes sure a reused pid is not killed; "tree" ("true" kills the
// descendants too).
func (r *Runner) kill(ctx context.Context, t task.Task) (string, error) {
	pid, err := argInt(t, "pid", true)
	if err != nil {
		return "", err
	}
	start, err := r.startTime(t, int(pid), true)
	if err != nil {
		return "", err
	}
	tree, _ := strconv.ParseBool(t.Args["tree"])
	res, err := kill.Kill(ctx, kill.Request{PID: int(pid), StartTime: uint64(start), Tree: tree})
	if err != nil && len(res.Procs) == 0 {
		return "", err
	}
	// a tree partly killed: the processes and their outcomes are the evidence
	return resultJSON(map[string]any{"action": "kill", "pid": pid, "tree": tree, "procs": res.Procs}), err
}

// SnapshotKey is where a task's snapshot is stored in the lake.
func SnapshotKey(sensorID, taskID string) string {
	return path.Join("artifacts", sensorID, taskID, "snapshot.tar")
}

// snapshot args: "pid" required; "start_time" checked when given; "max_bytes"
// lowers the configured bound.
func (r *Runner) snapshot(ctx context.Context, t task.Task) (string, error) {
	if r.Lake == nil {
		return "", errors.New("no lake configured for artifacts")
	}
	pid, err := argInt(t, "pid", true)
	if err != nil {
		return "", err
	}
	start, err := r.startTime(t, int(pid), false)
	if err != nil {
		return "", err
	}
	bound, err := argInt(t, "max_bytes", false)
	if err != nil {
		return "", err
	}
	if r.SnapshotMaxBytes > 0 && (bound == 0 || bound > r.SnapshotMaxBytes) {
		bound = r.SnapshotMaxBytes
	}
	snap, err := snapshot.Take(ctx, snapshot.Options{PID: int(pid), StartTime: uint64(start), MaxBytes: bound, Now: r.Now})
	if err != nil {
		return "", err
	}
	key := SnapshotKey(r.SensorID, t.ID)
	if err := r.Lake.Put(ctx, key, snap.Tar); err != nil {
		return "", fmt.Errorf("put snapshot %s: %w", key, err)
	}
	m := snap.Manifest
	return resultJSON(map[string]any{"action": "snapshot", "pid": m.PID, "start_time": m.StartTime, "comm": m.Comm,
		"key": key, "bytes": len(snap.Tar), "sha256": snap.SHA256, "truncated": m.Truncated,
		"files": len(m.Files), "regions": len(m.Regions), "errors": m.Errors}), nil
}

// startTime is the process's expected start time from "start_time", or checked
// against "event_time" (see startTimeBefore); required asks for one of them.
func (r *Runner) startTime(t task.Task, pid int, required bool) (int64, error) {
	start, err := argInt(t, "start_time", false)
	if err != nil || start != 0 {
		return start, err
	}
	at, err := argInt(t, "event_time", false)
	if err != nil {
		return 0, err
	}
	if at == 0 {
		if required {
			return 0, errors.New(`argument "start_time" or "event_time" is required: it makes sure a reused pid is not acted on`)
		}
		return 0, nil
	}
	// the real clock: the process's start is known relative to the boot clock
	st, err := startTimeBefore(pid, time.Unix(0, at), time.Now())
	return int64(st), err
}
