package main

import (
	"flag"
	"fmt"
	"os"
)

// report measures one importer on the corpus under dir and writes its tables.
type report struct {
	name string
	run  func(dir string, w *os.File) error
}

// reports are registered by the importers' files (falco.go, sigma.go).
var reports []report

func main() {
	dir := flag.String("dir", "", "directory holding falco/ and sigma/")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "corpus: -dir is required (make corpus CORPUS=DIR)")
		os.Exit(2)
	}
	if st, err := os.Stat(*dir); err != nil || !st.IsDir() {
		fmt.Fprintf(os.Stderr, "corpus: %s is not a directory\n", *dir)
		os.Exit(2)
	}
	failed := false
	for _, r := range reports {
		if err := r.run(*dir, os.Stdout); err != nil {
			fmt.Fprintf(os.Stderr, "corpus: %s: %v\n", r.name, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}
