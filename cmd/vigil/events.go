package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/vigil-sec/vigil/internal/event"
)

func newEventsCmd() *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "events DIR|FILE...",
		Short: "Print the events a lake directory or Parquet file holds (a table, or JSON lines with --json)",
		Long: `Reads lake files — a directory written by vigil-sensor --local or vigil local (every
.parquet file under it, in key order: by day, hour, sensor, then file), or single
Parquet files or saved stream records (a batch in a zstd frame, as the sensor puts
it on the stream) — and prints their events: a table by default, or with --json one
JSON object per line in the shape rules see ({"routing": {...}, "event": {...}}).`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return printEvents(c.OutOrStdout(), args, asJSON, limit)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each event as one JSON object per line, in rule-path shape")
	cmd.Flags().IntVar(&limit, "limit", 0, "stop after this many events (0: all)")
	cmd.AddCommand(newEventsSearchCmd())
	return cmd
}

// lakeFiles expands arguments into Parquet files: a directory gives every
// .parquet file under it, sorted by path.
func lakeFiles(args []string) ([]string, error) {
	var files []string
	for _, a := range args {
		st, err := os.Stat(a)
		if err != nil {
			return nil, usageError(fmt.Errorf("events: %w", err))
		}
		if !st.IsDir() {
			files = append(files, a)
			continue
		}
		var found []string
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.HasSuffix(p, ".parquet") {
				found = append(found, p)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("events: %w", err)
		}
		if len(found) == 0 {
			return nil, usageError(fmt.Errorf("events: no .parquet files under %s", a))
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

func printEvents(stdout io.Writer, args []string, asJSON bool, limit int) error {
	files, err := lakeFiles(args)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var tw *tabwriter.Writer
	if !asJSON {
		tw = eventTable(w)
	}
	enc := json.NewEncoder(w)
	var evs []event.Event
	n := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		if evs, err = event.DecodeRecord(evs[:0], data, 0); err != nil {
			return fmt.Errorf("events: %s: %w", f, err)
		}
		for i := range evs {
			if limit > 0 && n >= limit {
				break
			}
			n++
			e := &evs[i]
			if asJSON {
				if err := enc.Encode(e.Tree()); err != nil {
					return err
				}
				continue
			}
			eventRow(tw, e)
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

// eventTable starts the table of events on w, with its header.
func eventTable(w io.Writer) *tabwriter.Writer {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tTYPE\tSENSOR\tPID\tUSER\tFILE_PATH\tDETAIL")
	return tw
}

// eventRow is an event's line in the table of events.
func eventRow(tw io.Writer, e *event.Event) {
	fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", time.Unix(0, e.TimeNanos).UTC().Format("2006-01-02T15:04:05.000Z"),
		e.Type, e.SensorID, e.PID, e.User, e.FilePath, detail(e))
}

// detail is the type-specific part of an event, in a few words.
func detail(e *event.Event) string {
	var parts []string
	kv := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+v)
		}
	}
	num := func(k string, v uint64) {
		if v != 0 {
			parts = append(parts, k+"="+strconv.FormatUint(v, 10))
		}
	}
	switch e.Type {
	case event.NewProcess:
		kv("cmd", truncate(e.CommandLine, 80))
		kv("parent", e.ParentFilePath)
	case event.TerminateProcess:
		parts = append(parts, "exit="+strconv.Itoa(int(e.ExitCode)))
	case event.FileOpen, event.FileDelete, event.FileChmod:
		kv("target", e.TargetPath)
		kv("flags", e.FileFlags)
		if e.Type == event.FileChmod {
			parts = append(parts, fmt.Sprintf("mode=%#o", e.FileMode))
		}
	case event.FileRename:
		kv("from", e.OldTargetPath)
		kv("to", e.TargetPath)
	case event.FileLink, event.DirCreate, event.DirDelete, event.FileMknod, event.FileChown, event.FileTruncate:
		parts = fileOpDetail(parts, e)
	case event.NetworkConnect, event.NetworkAccept, event.FDDup:
		if e.Type == event.FDDup {
			kv("op", e.Operation)
			parts = append(parts, "fd="+strconv.Itoa(int(e.FDNumber)))
		}
		kv("proto", e.Protocol)
		if e.Protocol != "unix" {
			parts = append(parts, fmt.Sprintf("%s:%d -> %s:%d", e.SourceIP, e.SourcePort, e.DestIP, e.DestPort))
		}
		if e.ErrorCode != 0 {
			parts = append(parts, "error="+strconv.Itoa(int(e.ErrorCode)))
		}
	case event.DNSRequest:
		kv("domain", e.DomainName)
		kv("type", e.DNSType)
	case event.ModuleLoad:
		kv("module", e.ModuleName)
	case event.SocketCreate:
		parts = append(parts, e.SocketDomain, e.SocketType, "protocol="+strconv.FormatUint(uint64(e.SocketProtocol), 10))
	case event.PrivilegeChange:
		kv("op", e.Operation)
		parts = append(parts, fmt.Sprintf("uid=%d gid=%d", e.NewUID, e.NewGID))
	case event.Ptrace:
		parts = append(parts, fmt.Sprintf("target_pid=%d request=%d", e.TargetPID, e.PtraceRequest))
	case event.SensorHeartbeat:
		kv("version", e.SensorVersion)
		parts = append(parts, fmt.Sprintf("uptime=%ds drops=%d spool_bytes=%d", e.UptimeSeconds, e.Drops, e.SpoolBytes))
	case event.HostStats:
		parts = append(parts, fmt.Sprintf("interval=%ds", e.IntervalSeconds))
		num("exec", e.CountExec)
		num("open", e.CountFileOpen)
		num("file_change", e.CountFileChange)
		num("connect", e.CountConnect)
		num("accept", e.CountAccept)
		num("dns", e.CountDNS)
		num("new_exe", e.NewExecutables)
		num("failed_connect", e.FailedConnects)
		num("dest_ips", e.DistinctDestIPs)
	}
	return strings.Join(parts, " ")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
