// Package event defines Vigil's telemetry row: one Go struct, with parquet-go tags,
// from which every consumer derives its schema (the sensor, the detect function, the
// local and S3 lake, the Glue table). It also holds the table of rule paths
// (routing/… and event/…) that maps each path a rule can name to an accessor on the
// struct, and the Parquet batch codec used on the wire and in the lake: a
// columnar writer made for Event (columnar.go, columns.go) and parquet-go's
// reader.
//
// This package imports nothing else from Vigil.
package event
