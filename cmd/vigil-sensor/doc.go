// Command vigil-sensor is the edge sensor: it captures host activity with eBPF and
// ships it as Parquet batches to a Kinesis stream (hot path) and as lake files to an
// S3 bucket or a local directory (cold path), with a disk spool in front of both.
//
// Configuration comes from /etc/vigil/sensor.yaml (or --config FILE), VIGIL_*
// variables and flags, in that order of precedence (see package sensor/config;
// -h lists the flags). AWS credentials and endpoints come from the SDK's standard
// sources, AWS_ENDPOINT_URL included. On EC2 the sensor names and tags itself from
// IMDSv2; it asks the metadata service (and lets the SDK ask it for the instance
// role) only where the firmware's DMI says EC2, or with imds: true. --check
// validates the configuration, prints the settled values (what DMI said included)
// and exits.
//
// It needs root (or CAP_BPF, CAP_PERFMON, …); without it, it exits with code 2
// saying why. A bad configuration also exits with code 2. See docs/sensor.md.
package main
