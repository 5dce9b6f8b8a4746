// Package rules is Vigil's shipped detection and response rule pack: one YAML file
// per rule in this directory and, under testdata/<rule>/, the events each rule must
// match (match.yaml) and must not (nomatch.yaml). The pack is embedded in the
// binaries with go:embed; `vigil rules test` and the tests here run every fixture.
package rules
