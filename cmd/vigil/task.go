package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/task"
)

type taskOptions struct {
	pid       int
	startTime uint64 // --start-time: field 22 of /proc/PID/stat
	eventTime string // --event-time: RFC 3339 or Unix nanoseconds
	wait      bool
	timeout   time.Duration
	deadline  time.Duration
	interval  time.Duration
	output    string
}

var taskHelp = map[string]string{
	"isolate":  "Cut the host off the network except for the Vigil backend",
	"rejoin":   "Undo isolate: restore the host's network",
	"kill":     "Kill a process on the host (--pid with --start-time or --event-time)",
	"snapshot": "Snapshot a process: its memory, files and sockets (--pid)",
}

// processActions act on one process: they take --pid, --start-time and --event-time.
var processActions = map[string]bool{"kill": true, "snapshot": true}

// minEventTime is the earliest --event-time taken as Unix nanoseconds: a smaller
// number is seconds, milliseconds or microseconds (or a time in 1973, which no
// event has).
const minEventTime = 1e17

// parseEventTime reads --event-time: an RFC 3339 time or Unix nanoseconds (the
// routing/event_time of a detection's event).
func parseEventTime(v string) (int64, error) {
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < minEventTime {
			return 0, fmt.Errorf("--event-time %q: want Unix nanoseconds (this is seconds, milliseconds or microseconds?) or an RFC 3339 time", v)
		}
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil || t.UnixNano() < minEventTime {
		return 0, fmt.Errorf("--event-time %q: want an RFC 3339 time (2026-01-02T15:04:05.123Z) or Unix nanoseconds", v)
	}
	return t.UnixNano(), nil
}

// processArgs checks the process flags of action and returns the task's
// arguments as the sensor reads them: "pid", and "start_time" or "event_time",
// which make sure a reused pid is not acted on. kill needs one of them; snapshot
// checks the one given.
func processArgs(action string, o taskOptions, changed func(string) bool) (map[string]string, error) {
	if !processActions[action] {
		return nil, nil
	}
	if o.pid <= 0 {
		return nil, fmt.Errorf("task %s: --pid is required (a positive process id)", action)
	}
	args := map[string]string{"pid": strconv.Itoa(o.pid)}
	hasStart, hasEvent := changed("start-time"), changed("event-time")
	switch {
	case hasStart && hasEvent:
		return nil, fmt.Errorf("task %s: give --start-time or --event-time, not both", action)
	case hasStart:
		if o.startTime == 0 {
			return nil, fmt.Errorf("task %s: --start-time must be positive: field 22 of /proc/PID/stat", action)
		}
		args["start_time"] = strconv.FormatUint(o.startTime, 10)
	case hasEvent:
		at, err := parseEventTime(o.eventTime)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", action, err)
		}
		args["event_time"] = strconv.FormatInt(at, 10)
	case action == "kill":
		return nil, errors.New("task kill: --start-time or --event-time is required: a pid can be reused, so the sensor kills only the process that started at --start-time (field 22 of /proc/PID/stat) or by --event-time (when an event saw it)")
	}
	return args, nil
}

func newTaskCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   "task isolate|rejoin|kill|snapshot SENSOR",
		Short: "Send a response task to a sensor, optionally waiting for its result",
		Long: `Queues a task for a sensor (POST /sensors/{id}/tasks); the sensor picks it up on
its next poll and reports the result. With --wait the command polls the task until
it is done, failed or expired.

kill and snapshot name a process with --pid. A pid can be reused, so kill also
needs --start-time (field 22 of /proc/PID/stat, clock ticks after boot) or
--event-time (when an event saw the process: a detection's time, RFC 3339 or Unix
nanoseconds); the sensor acts only on the process that started then, or by then.
snapshot checks them when given.

Exit codes: 0 queued (or, with --wait, done), 1 the task failed or expired or
--timeout passed, 2 usage or configuration error, 3 the API could not be reached.`,
	}
	api.register(cmd)
	for _, action := range task.Actions {
		var o taskOptions
		sub := &cobra.Command{
			Use:   action + " SENSOR",
			Short: taskHelp[action],
			Args: func(_ *cobra.Command, args []string) error {
				if len(args) != 1 {
					return usageError(fmt.Errorf("task %s: give exactly one sensor id (see vigil sensors list)", action))
				}
				return nil
			},
			RunE: func(c *cobra.Command, args []string) error {
				if err := checkOutput(o.output, "table", "json"); err != nil {
					return err
				}
				targs, err := processArgs(action, o, c.Flags().Changed)
				if err != nil {
					return usageError(err)
				}
				if o.deadline < time.Second || o.deadline > 24*time.Hour {
					return usageError(fmt.Errorf("task %s: --deadline %s: want between 1s and 24h", action, o.deadline))
				}
				cl, err := api.client()
				if err != nil {
					return err
				}
				return runTask(c.Context(), cl, client.TaskRequest{Action: action, Args: targs, DeadlineSeconds: int(o.deadline / time.Second)},
					args[0], o, c.OutOrStdout(), c.ErrOrStderr())
			},
		}
		f := sub.Flags()
		if processActions[action] {
			f.IntVar(&o.pid, "pid", 0, "process id the task acts on (required)")
			f.Uint64Var(&o.startTime, "start-time", 0, "the process's start time, field 22 of /proc/PID/stat (clock ticks after boot): the sensor acts only on the process that started then")
			f.StringVar(&o.eventTime, "event-time", "", "time of an event that saw the process (RFC 3339, or Unix nanoseconds as in a detection's routing/event_time): the sensor acts only on a process started by then")
		}
		f.BoolVar(&o.wait, "wait", false, "wait for the sensor's result")
		f.DurationVar(&o.timeout, "timeout", 5*time.Minute, "with --wait, give up after this long")
		f.DurationVar(&o.deadline, "deadline", 5*time.Minute, "the task expires when no sensor picked it up by then")
		f.DurationVar(&o.interval, "interval", 2*time.Second, "with --wait, how often to ask the API")
		f.StringVarP(&o.output, "output", "o", "table", "table or json")
		cmd.AddCommand(sub)
	}
	return cmd
}

func printTask(w io.Writer, t client.Task, output string) error {
	if output == "json" {
		return writeJSONOut(w, t)
	}
	fmt.Fprintf(w, "task %s: %s on sensor %s: %s", t.ID, t.Action, t.SensorID, t.Status)
	if t.Result != "" {
		fmt.Fprintf(w, ": %s", t.Result)
	}
	fmt.Fprintln(w)
	return nil
}

func runTask(ctx context.Context, cl *client.Client, req client.TaskRequest, sensor string, o taskOptions, stdout, stderr io.Writer) error {
	t, err := cl.CreateTask(ctx, sensor, req)
	if err != nil {
		return apiFailure(err)
	}
	if !o.wait {
		return printTask(stdout, t, o.output)
	}
	wctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	p := newProgress(stderr)
	start := time.Now()
	last := t // the task as last read: a wait cut short keeps it
	t, err = cl.WaitTask(wctx, t.ID, o.interval, func(t client.Task) {
		last = t
		p.update(string(t.Status), fmt.Sprintf("task %s (%s on %s): %s, %s", t.ID, t.Action, t.SensorID, t.Status, time.Since(start).Round(time.Second)))
	})
	p.done()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			_ = printTask(stdout, last, o.output)
			return fmt.Errorf("task %s still %s after %s: is sensor %s online? (vigil sensors list)", last.ID, last.Status, o.timeout, sensor)
		}
		return apiFailure(err)
	}
	if err := printTask(stdout, t, o.output); err != nil {
		return err
	}
	if t.Status != task.Done {
		return fmt.Errorf("task %s %s: %s", t.ID, t.Status, t.Result)
	}
	return nil
}
