// Command lakefixture turns lake files a sensor recorded (vigil-sensor
// --local DIR) into a test fixture: the host's identity (sensor id, hostname)
// is replaced, every string value holding one of the --redact substrings
// becomes "[redacted]", and the events are written again as one lake file.
// scripts/record-lake.sh records a lake and runs it; the fixture it makes is
// internal/detect/testdata/recorded-lake.parquet, which the detect function's
// benchmarks read.
package main
