// Package testcheck holds what the table-driven tests of several packages share:
// reading cases from a YAML file and fixture files from testdata/, and checking an
// expected error (or none), the errors a fixture file announces on its first lines,
// and text that must hold strings in order. It is imported by tests only.
package testcheck
