package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchfmt: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchfmt", flag.ContinueOnError)
	var h Header
	fs.StringVar(&h.Date, "date", "", "when the benchmarks ran")
	fs.StringVar(&h.Go, "go", "", "output of `go version`")
	fs.StringVar(&h.CPU, "cpu", "", "CPU model")
	fs.StringVar(&h.Kernel, "kernel", "", "kernel (uname -srm)")
	fs.IntVar(&h.Count, "count", 0, "the -count the benchmarks ran with")
	fs.StringVar(&h.Module, "module", "", "module path to strip from package headings")
	out := fs.String("o", "", "write the page to this file instead of stdout")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: benchfmt [flags] [bench-output-file ...]\n\n"+
			"Reads go test -bench output (stdin when no file is given) and writes a Markdown\n"+
			"page of per-package tables of medians.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}

	var s Set
	if fs.NArg() == 0 {
		if err := s.Parse(stdin, "stdin"); err != nil {
			return err
		}
	}
	for _, name := range fs.Args() {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = s.Parse(f, name)
		f.Close()
		if err != nil {
			return err
		}
	}

	var page bytes.Buffer
	if err := Render(&page, h, &s); err != nil {
		return err
	}
	if *out != "" {
		old, err := os.ReadFile(*out)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		page.Write(handWritten(old))
	}
	if *out == "" {
		_, err := stdout.Write(page.Bytes())
		return err
	}
	// Write beside the target and rename, so a failed run leaves the old page intact.
	tmp, err := os.CreateTemp(filepath.Dir(*out), ".benchfmt-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(page.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), *out)
}

// HandWrittenMark starts the part of the page written by hand (measurements
// the benchmarks cannot make on their own, such as two commits compared): it
// and everything after it are carried over from the page being replaced.
const HandWrittenMark = "<!-- written by hand from here on: scripts/bench.sh keeps it -->"

// handWritten returns the hand-written end of page, from the line
// HandWrittenMark on, after a blank line; nothing if page has none.
func handWritten(page []byte) []byte {
	i := bytes.Index(page, []byte("\n"+HandWrittenMark+"\n"))
	if i < 0 {
		return nil
	}
	return append([]byte("\n"), page[i+1:]...)
}
