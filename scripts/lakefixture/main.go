package main

import (
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "lakefixture: %v\n", err)
		os.Exit(1)
	}
}

type redactList []string

func (r *redactList) String() string     { return strings.Join(*r, ",") }
func (r *redactList) Set(v string) error { *r = append(*r, v); return nil }

func run(args []string) error {
	fs := flag.NewFlagSet("lakefixture", flag.ContinueOnError)
	var o options
	fs.StringVar(&o.sensor, "sensor", "fixture-sensor", "sensor id the events get")
	fs.StringVar(&o.host, "hostname", "build-host", "hostname the events get")
	fs.Var(&o.redact, "redact", "substring whose string values are redacted (repeatable)")
	out := fs.String("o", "", "the fixture file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || fs.NArg() != 1 {
		return fmt.Errorf("usage: lakefixture -o FILE [-redact S ...] LAKE_DIR")
	}
	evs, err := readLake(fs.Arg(0))
	if err != nil {
		return err
	}
	for i := range evs {
		o.apply(&evs[i])
	}
	w := event.NewFileWriter()
	if err := w.Write(evs); err != nil {
		return err
	}
	data, err := w.Close()
	if err != nil {
		return err
	}
	fmt.Printf("%d events, %d bytes (%.1f bytes/event)\n", len(evs), len(data), float64(len(data))/float64(len(evs)))
	return os.WriteFile(*out, data, 0o644)
}

// readLake decodes every Parquet file below dir, in path order (a lake's
// files sort by hour, sensor and ULID).
func readLake(dir string) ([]event.Event, error) {
	var evs []event.Event
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".parquet" {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if evs, err = event.Decode(evs, data, 0); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		return nil
	})
	if err == nil && len(evs) == 0 {
		err = fmt.Errorf("%s: no events", dir)
	}
	return evs, err
}

type options struct {
	sensor, host string
	redact       redactList
}

// apply replaces e's identity and redacts its strings.
func (o *options) apply(e *event.Event) {
	e.SensorID, e.Hostname = o.sensor, o.host
	v := reflect.ValueOf(e).Elem()
	for i := range v.NumField() {
		switch f := v.Field(i); f.Kind() {
		case reflect.String:
			f.SetString(o.scrub(f.String()))
		case reflect.Slice:
			if f.Type().Elem().Kind() != reflect.String || f.Len() == 0 {
				continue
			}
			l := make([]string, f.Len())
			for j := range l {
				l[j] = o.scrub(f.Index(j).String())
			}
			f.Set(reflect.ValueOf(l))
		}
	}
}

func (o *options) scrub(s string) string {
	for _, r := range o.redact {
		if strings.Contains(s, r) {
			return "[redacted]"
		}
	}
	return s
}
