package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/client"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/search"
)

type eventsSearchOptions struct {
	where, since, until, sensor, lake string
	limit                             int
	json                              bool
	api                               apiFlags
}

func newEventsSearchCmd() *cobra.Command {
	var o eventsSearchOptions
	cmd := &cobra.Command{
		Use:   "search --where CONDITION [--since 1h] [--until T] [--sensor ID] [--limit N] [--json]",
		Short: "Search the lake for events matching a condition in the rule language",
		Long: `Searches the event lake with a detection node as the condition — the same
language, operators and case handling as a rule's detection:, compiled by the same
engine, so a search finds what a rule would match:

  vigil events search --where '{op: contains, path: event/COMMAND_LINE, value: curl}' --since 1h

With --lake DIR (or when no API is configured: no --api-url, no $VIGIL_API_URL) it
reads the local lake directory that vigil local writes (--lake, default var/lake),
pruning by partition, row group bounds and columns, with progress on a terminal
and a summary on stderr. Otherwise it asks the API (POST /v1/orgs/{org}/events/search),
which in the cloud runs the search in Athena. See docs/triage.md.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return o.run(c.Context(), c.OutOrStdout(), c.ErrOrStderr(), c.Flags().Changed("lake"))
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.where, "where", "", "the condition: a detection node in YAML or its one-line flow form (default: every event)")
	f.StringVar(&o.since, "since", "1h", "the start: a duration back from now (1h) or an RFC 3339 time")
	f.StringVar(&o.until, "until", "", "the end, an RFC 3339 time (default: now)")
	f.StringVar(&o.sensor, "sensor", "", "only events of this sensor id")
	f.IntVar(&o.limit, "limit", 100, "at most this many events (0: no limit)")
	f.BoolVar(&o.json, "json", false, "print each event as one JSON object per line, in rule-path shape")
	f.StringVar(&o.lake, "lake", "var/lake", "the local lake directory (vigil local's --lake)")
	o.api.register(cmd)
	return cmd
}

func (o *eventsSearchOptions) run(ctx context.Context, stdout, stderr io.Writer, lakeGiven bool) error {
	now := time.Now()
	since, err := parseSinceFlag(o.since, now)
	if err != nil {
		return err
	}
	var until time.Time
	if o.until != "" {
		if until, err = time.Parse(time.RFC3339Nano, o.until); err != nil {
			return usageError(fmt.Errorf("--until %q: want an RFC 3339 time (2026-11-22T10:00:00Z)", o.until))
		}
	}
	q, err := search.NewQuery(o.where, since, until, []string{o.sensor}, o.limit)
	if err != nil {
		return usageError(fmt.Errorf("--%w", err))
	}
	out := newEventPrinter(stdout, o.json)
	if !lakeGiven && (o.api.url != "" || os.Getenv("VIGIL_API_URL") != "") {
		err = o.viaAPI(ctx, out, stderr)
	} else {
		err = o.local(ctx, q, out, stderr)
	}
	if ferr := out.flush(); err == nil {
		err = ferr
	}
	return err
}

// local searches the lake directory, with progress on stderr when it is a
// terminal and the summary line at the end.
func (o *eventsSearchOptions) local(ctx context.Context, q search.Query, out *eventPrinter, stderr io.Writer) error {
	l := &search.Lake{Dir: o.lake}
	tty := isTerminal(stderr)
	if tty {
		l.Progress = func(st search.Stats) {
			fmt.Fprintf(stderr, "\r\033[Kfiles %d read, %d pruned; row groups %d read, %d pruned; %d events scanned, %d matched",
				st.Files, st.FilesPruned, st.RowGroups, st.RowGroupsPruned, st.Scanned, st.Matched)
		}
	}
	st, err := l.Search(ctx, q, out.print)
	if tty {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		return fmt.Errorf("events search: %w", err)
	}
	fmt.Fprintln(stderr, st)
	return nil
}

// viaAPI starts the search through the API and prints its pages as they come.
func (o *eventsSearchOptions) viaAPI(ctx context.Context, out *eventPrinter, stderr io.Writer) error {
	cl, err := o.api.client()
	if err != nil {
		return err
	}
	id, err := cl.StartSearch(ctx, client.SearchRequest{Where: o.where, Since: o.since, Until: o.until, Sensor: o.sensor, Limit: o.limit})
	if err != nil {
		return apiFailure(err)
	}
	cursor, n := "", 0
	for {
		p, err := cl.SearchPage(ctx, id, cursor)
		if err != nil {
			return apiFailure(err)
		}
		switch p.State {
		case search.StateFailed:
			return fmt.Errorf("events search %s failed: %s", id, p.Error)
		case search.StateRunning:
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Second):
			}
			continue
		}
		for _, raw := range p.Events {
			e, err := eventFromJSON(raw)
			if err != nil {
				return fmt.Errorf("events search %s: %w", id, err)
			}
			if err := out.print(&e); err != nil {
				return err
			}
			n++
		}
		if p.NextCursor == "" {
			fmt.Fprintf(stderr, "%d events matched (search %s)\n", n, id)
			return nil
		}
		cursor = p.NextCursor
	}
}

// eventFromJSON reads an event in rule-path shape, numbers exactly.
func eventFromJSON(raw []byte) (event.Event, error) {
	var tree map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&tree); err != nil {
		return event.Event{}, err
	}
	return event.FromTree(tree)
}

// eventPrinter prints events as the events command does: a table, or JSON lines.
type eventPrinter struct {
	w    io.Writer
	tw   interface{ Flush() error }
	rows io.Writer
	enc  *json.Encoder
}

func newEventPrinter(w io.Writer, asJSON bool) *eventPrinter {
	p := &eventPrinter{w: w, enc: json.NewEncoder(w)}
	if !asJSON {
		tw := eventTable(w)
		p.tw, p.rows = tw, tw
	}
	return p
}

func (p *eventPrinter) print(e *event.Event) error {
	if p.rows == nil {
		return p.enc.Encode(e.Tree())
	}
	eventRow(p.rows, e)
	return nil
}

func (p *eventPrinter) flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}
