package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/rules"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "rulesdoc: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("rulesdoc", flag.ContinueOnError)
	dir := fs.String("rules", "", "directory of rules to document instead of the built-in pack")
	link := fs.String("link", "../rules", "directory rule names link to, relative to the page (empty: no links)")
	out := fs.String("o", "", "write the page to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: rulesdoc [-rules DIR] [-link DIR] [-o FILE]\n\n"+
			"Writes the Markdown catalogue of a rule pack (default: the built-in pack).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	var (
		rs  []*engine.Rule
		p   = Page{Source: "rules/", Link: *link}
		err error
	)
	if *dir == "" {
		rs, err = rules.Load()
	} else {
		rs, err = engine.LoadDir(*dir)
		p.Source = *dir
	}
	if err != nil {
		return err
	}

	var page bytes.Buffer
	if err := Render(&page, rs, p); err != nil {
		return err
	}
	if *out == "" {
		_, err := stdout.Write(page.Bytes())
		return err
	}
	return os.WriteFile(*out, page.Bytes(), 0o644)
}
