package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/cadence"
	"github.com/vigil-sec/vigil/internal/cost"
)

func newCostCmd() *cobra.Command {
	var (
		hosts              int
		rate               float64
		retention, region  string
		fromLake           string
		taskPoll, roll     time.Duration
		taskFullPoll       time.Duration
		taskBell           bool
		registryWrite      time.Duration
		batch              time.Duration
		detectEventsPerSec float64
		detectionsPerDay   float64
		asJSON             bool
	)
	cmd := &cobra.Command{
		Use:   "cost --hosts N --events-per-host R [--retention 365d] [--region R] [--from-lake DIR] [--json]",
		Short: "Estimate what the deployed stack costs a month for a fleet, per AWS service and per host",
		Long: `Estimates the monthly AWS bill of the Vigil stack in your account for a fleet of
--hosts hosts at --events-per-host events a second each, with the lake kept
--retention (steady state: the lake holds its full retention), from the AWS list
prices of --region. It prints one line per billed quantity (the quantity, the
unit price and their product), the total and the cost per host, and the Kinesis
capacity chosen for the fleet (cdk deploy -c fleetHosts=N -c eventsPerHost=R
deploys that choice). --from-lake DIR measures bytes per event, and the event
rate when --events-per-host is not given, from the files of a lake written by
vigil local or vigil-sensor --local. docs/cost.md explains the model.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			p := cost.DefaultParams()
			p.Hosts, p.EventsPerHostPerSec, p.Region = hosts, rate, region
			p.DetectEventsPerCPUSec, p.DetectionsPerHostPerDay = detectEventsPerSec, detectionsPerDay
			days, err := parseDays(retention)
			if err != nil {
				return usageError(fmt.Errorf("cost: --retention: %w", err))
			}
			p.RetentionDays = days
			if taskPoll == 0 {
				p.NoTaskPolling = true
			} else {
				p.TaskPollSec = taskPoll.Seconds()
			}
			p.NoTaskBell, p.TaskFullPollSec = !taskBell, taskFullPoll.Seconds()
			if roll <= 0 {
				return usageError(fmt.Errorf("cost: --roll-interval: want a positive duration, got %s", roll))
			}
			p.RollIntervalSec = roll.Seconds()
			if registryWrite < 0 {
				return usageError(fmt.Errorf("cost: --registry-write: want zero or a positive duration, got %s", registryWrite))
			}
			p.RegistryWriteSec = registryWrite.Seconds()
			if batch <= 0 || batch > time.Minute {
				return usageError(fmt.Errorf("cost: --batch-interval: want a duration from 1ms to 1m (the sensor's batch_interval), got %s", batch))
			}
			p.BatchIntervalSec = batch.Seconds()
			out := c.OutOrStdout()
			if fromLake != "" {
				s, err := cost.MeasureLake(fromLake)
				if err != nil {
					return usageError(fmt.Errorf("cost: --from-lake: %w", err))
				}
				p.LakeFileOverheadBytes, p.LakeBytesPerEvent = 0, s.BytesPerEvent()
				measured := fmt.Sprintf("measured %s: %d files, %d events of %d sensors, %d bytes: %.2f bytes/event in the lake",
					s.Dir, s.Files, s.Rows, s.Sensors, s.Bytes, s.BytesPerEvent())
				r, rerr := s.EventsPerHostPerSec()
				switch {
				case rerr == nil:
					measured += fmt.Sprintf("; %.2f events/s per sensor over %s", r, s.Last.Sub(s.First).Round(time.Second))
					if !c.Flags().Changed("events-per-host") {
						p.EventsPerHostPerSec = r
					}
				default:
					measured += "; no event rate: " + rerr.Error()
				}
				if !asJSON {
					fmt.Fprintln(out, measured)
				}
			}
			if !c.Flags().Changed("hosts") {
				return usageError(fmt.Errorf("cost: --hosts is required"))
			}
			if p.EventsPerHostPerSec == 0 && !c.Flags().Changed("events-per-host") {
				return usageError(fmt.Errorf("cost: --events-per-host is required (or --from-lake with a lake spanning a minute or more)"))
			}
			e, err := cost.Run(p)
			if err != nil {
				return usageError(fmt.Errorf("cost: %w", err))
			}
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(e)
			}
			return printEstimate(out, e)
		},
	}
	f := cmd.Flags()
	f.IntVar(&hosts, "hosts", 0, "hosts running the sensor")
	f.Float64Var(&rate, "events-per-host", 0, "mean events a second of one host")
	f.StringVar(&retention, "retention", strconv.Itoa(cost.DefaultRetentionDays)+"d", "how long the lake keeps events, in days (365d, or 365)")
	f.StringVar(&region, "region", cost.DefaultRegion, "AWS region whose list prices apply ("+strings.Join(cost.Regions(), ", ")+")")
	f.StringVar(&fromLake, "from-lake", "", "measure bytes per event (and the event rate) from the lake files under `DIR`")
	f.DurationVar(&taskPoll, "task-poll", cadence.TaskPoll, "the sensors' respond.poll_interval: how often each reads its task bell, or asks the API for tasks without one (0: response tasks off)")
	f.BoolVar(&taskBell, "task-bell", true, "the sensors read a task bell (respond.task_bell_table) and ask the API only when it rang; false: they ask the API every --task-poll")
	f.DurationVar(&taskFullPoll, "task-full-poll", cadence.TaskFullPoll, "the sensors' respond.full_poll_interval: with a task bell, how often each asks the API anyway")
	f.DurationVar(&roll, "roll-interval", cadence.LakeRoll, "the sensors' roll_interval: how long a lake file collects events")
	f.DurationVar(&batch, "batch-interval", time.Duration(cost.DefaultParams().BatchIntervalSec*float64(time.Second)),
		"the sensors' batch_interval: how long a stream record collects events")
	f.DurationVar(&registryWrite, "registry-write", cadence.RegistryWrite, "the most often the detect function writes a sensor's entry (0: every heartbeat)")
	f.Float64Var(&detectEventsPerSec, "detect-events-per-cpu-sec", cost.DefaultDetectEventsPerCPUSec,
		"events the detect function decodes and evaluates per second of one core (beside its cost per record)")
	f.Float64Var(&detectionsPerDay, "detections-per-host-per-day", cost.DefaultParams().DetectionsPerHostPerDay,
		"detections a host raises a day")
	f.BoolVar(&asJSON, "json", false, "print the estimate as JSON")
	return cmd
}

// parseDays reads a retention: a number of days, with or without a d suffix.
func parseDays(s string) (int, error) {
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(s), "d"))
	if err != nil || n < 1 {
		return 0, fmt.Errorf("want a number of days such as 365d, got %q", s)
	}
	return n, nil
}

func printEstimate(w io.Writer, e cost.Estimate) error {
	p := e.Params
	fmt.Fprintf(w, "%d hosts × %g events/s, lake kept %d days, %s\n", p.Hosts, p.EventsPerHostPerSec, p.RetentionDays, e.Region)
	fmt.Fprintf(w, "%s\n", e.Prices)
	c := e.Capacity
	fmt.Fprintf(w, "Kinesis: %s", c.Mode)
	if c.Mode == cost.Provisioned {
		fmt.Fprintf(w, ", %d shards", c.Shards)
	}
	fmt.Fprintf(w, " ($%.2f a month; provisioned $%.2f, on-demand $%.2f); records of %.0f events, %.0f bytes, %.0f records/s\n",
		min(c.OnDemandMonthly, c.ProvisionedMonthly), c.ProvisionedMonthly, c.OnDemandMonthly,
		c.Stream.EventsPerRecord, c.Stream.RecordBytes, c.Stream.RecordsPerSec)
	fmt.Fprintf(w, "lake: files of %.0f events, %.0f bytes (%.2f bytes/event), %.1f GB a day\n\n",
		e.Lake.EventsPerFile, e.Lake.FileBytes, e.Lake.BytesPerEvent, e.Lake.GBPerDay)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SERVICE\tITEM\tQUANTITY\tUNIT\tUSD/UNIT\tUSD/MONTH")
	for _, l := range e.Lines {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%.2f\n", l.Service, l.Item, quantity(l.Quantity), l.Unit, unitPrice(l.UnitPrice), l.Monthly)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range e.ByService() {
		fmt.Fprintf(tw, "%s\t%.2f\n", s.Service, s.Monthly)
	}
	fmt.Fprintf(tw, "total a month\t%.2f\n", e.Total)
	fmt.Fprintf(tw, "per host a month\t%.4f\n", e.PerHost)
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s.\n", e.SteadyState)
	return err
}

func quantity(q float64) string {
	if q >= 1000 {
		return strconv.FormatFloat(q, 'f', 0, 64)
	}
	return strconv.FormatFloat(q, 'f', 2, 64)
}

func unitPrice(p float64) string { return strconv.FormatFloat(p, 'g', 4, 64) }
