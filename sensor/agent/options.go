package agent

import (
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/enrich"
)

// collectorOptions maps the run's options onto the collector's: nil
// FilePathPrefixes keeps the collector's default file filters (an empty
// non-nil slice, none), zero RingBuffer and ReadDelay its default sizes.
func collectorOptions(o Options, enr *enrich.Enricher, host string) collector.Options {
	return collector.Options{Enricher: enr, SensorID: o.SensorID, Hostname: host, Tags: o.Tags,
		FilePrefixes: o.FilePathPrefixes, RingBufferSize: o.RingBuffer, MaxDelay: o.ReadDelay,
		Disable: o.DisableCapabilities, Environment: o.Environment,
		FileChangePrefixes: o.FileChangePrefixes}
}
