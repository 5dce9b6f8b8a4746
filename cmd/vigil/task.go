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
	pid      int
	wait     bool
	timeout  time.Duration
	deadline time.Duration
	interval time.Duration
	output   string
}

var taskHelp = map[string]string{
	"isolate":  "Cut the host off the network except for the Vigil backend",
	"rejoin":   "Undo isolate: restore the host's network",
	"kill":     "Kill a process on the host (--pid)",
	"snapshot": "Snapshot a process's memory (--pid) or the host's state",
}

func newTaskCmd() *cobra.Command {
	var api apiFlags
	cmd := &cobra.Command{
		Use:   "task isolate|rejoin|kill|snapshot SENSOR",
		Short: "Send a response task to a sensor, optionally waiting for its result",
		Long: `Queues a task for a sensor (POST /sensors/{id}/tasks); the sensor picks it up on
its next poll and reports the result. With --wait the command polls the task until
it is done, failed or expired.

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
				if action == "kill" && o.pid <= 0 {
					return usageError(errors.New("task kill: --pid is required"))
				}
				if o.pid < 0 || o.deadline < time.Second || o.deadline > 24*time.Hour {
					return usageError(errors.New("task: --pid must not be negative and --deadline between 1s and 24h"))
				}
				cl, err := api.client()
				if err != nil {
					return err
				}
				return runTask(c.Context(), cl, action, args[0], o, c.OutOrStdout(), c.ErrOrStderr())
			},
		}
		f := sub.Flags()
		f.IntVar(&o.pid, "pid", 0, "process id the task acts on")
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

func runTask(ctx context.Context, cl *client.Client, action, sensor string, o taskOptions, stdout, stderr io.Writer) error {
	req := client.TaskRequest{Action: action, DeadlineSeconds: int(o.deadline / time.Second)}
	if o.pid > 0 {
		req.Args = map[string]string{"pid": strconv.Itoa(o.pid)}
	}
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
	t, err = cl.WaitTask(wctx, t.ID, o.interval, func(t client.Task) {
		p.update(string(t.Status), fmt.Sprintf("task %s (%s on %s): %s, %s", t.ID, t.Action, t.SensorID, t.Status, time.Since(start).Round(time.Second)))
	})
	p.done()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			_ = printTask(stdout, t, o.output)
			return fmt.Errorf("task %s still %s after %s: is sensor %s online? (vigil sensors list)", t.ID, t.Status, o.timeout, sensor)
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
