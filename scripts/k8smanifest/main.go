package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "k8smanifest: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("k8smanifest", flag.ContinueOnError)
	chart := flags.String("chart", "deploy/helm/vigil-sensor", "the chart's directory")
	values := flags.String("f", "", "a values file (default: the chart's values)")
	out := flags.String("o", "", "write the manifests to this file instead of stdout")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	var vals map[string]any
	if *values != "" {
		f, err := os.Open(*values)
		if err != nil {
			return err
		}
		defer f.Close()
		if vals, err = loader.LoadValues(f); err != nil {
			return fmt.Errorf("%s: %w", *values, err)
		}
	}
	m, err := Manifest(*chart, vals)
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = io.WriteString(stdout, m)
		return err
	}
	return os.WriteFile(*out, []byte(m), 0o644)
}
