package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/rules"
)

// coverageFile is the Markdown in a rules directory that the page ends with, if the
// directory has it.
const coverageFile = "coverage.md"

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "rulesdoc: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	flags := flag.NewFlagSet("rulesdoc", flag.ContinueOnError)
	dir := flags.String("rules", "", "directory of rules to document instead of the built-in pack")
	link := flags.String("link", "../rules", "directory rule names link to, relative to the page (empty: no links)")
	out := flags.String("o", "", "write the page to this file instead of stdout")
	flags.Usage = func() {
		fmt.Fprintf(flags.Output(), "usage: rulesdoc [-rules DIR] [-link DIR] [-o FILE]\n\n"+
			"Writes the Markdown catalogue of a rule pack (default: the built-in pack).\n\n")
		flags.PrintDefaults()
	}
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		flags.Usage()
		return fmt.Errorf("unexpected arguments: %v", flags.Args())
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
	if p.Appendix, err = readCoverage(*dir); err != nil {
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

// readCoverage returns the coverage.md of the rules directory dir (the built-in
// pack's when dir is empty), or "" when it has none.
func readCoverage(dir string) (string, error) {
	var (
		b   []byte
		err error
	)
	if dir == "" {
		b, err = fs.ReadFile(rules.FS, coverageFile)
	} else {
		b, err = os.ReadFile(filepath.Join(dir, coverageFile))
	}
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	return string(b), err
}
