package agent

import (
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/enrich"
)

// collectorOptions maps the run's options onto the collector's. The collector
// does not take file path prefixes yet: Options.FilePathPrefixes is accepted and
// kept for when it does.
func collectorOptions(o Options, enr *enrich.Enricher, host string) collector.Options {
	return collector.Options{Enricher: enr, SensorID: o.SensorID, Hostname: host, Tags: o.Tags}
}
