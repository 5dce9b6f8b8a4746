package agent

import (
	"slices"
	"testing"
)

// TestCollectorFilePrefixes: the run's file prefixes reach the collector as
// given, nil (the collector's defaults) included.
func TestCollectorFilePrefixes(t *testing.T) {
	for _, o := range []Options{
		{},
		{FilePathPrefixes: []string{"/etc/"}, FileChangePrefixes: []string{"/usr/bin/"}},
		{FilePathPrefixes: []string{}, FileChangePrefixes: []string{}},
	} {
		c := collectorOptions(o, nil, "h")
		if (c.FilePrefixes == nil) != (o.FilePathPrefixes == nil) || !slices.Equal(c.FilePrefixes, o.FilePathPrefixes) ||
			(c.FileChangePrefixes == nil) != (o.FileChangePrefixes == nil) || !slices.Equal(c.FileChangePrefixes, o.FileChangePrefixes) {
			t.Errorf("options %+v gave the collector %q and %q", o, c.FilePrefixes, c.FileChangePrefixes)
		}
	}
}
