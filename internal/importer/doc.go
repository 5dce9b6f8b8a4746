// Package importer holds what the rule importers share: telling rule formats apart
// (Sniff), the converted-rule types (Rule, Skipped), and a small tree of Vigil D&R
// detection nodes (Node) that the importers build, simplify and print as D&R YAML
// documents following the rule language of package engine.
//
// The converters themselves live in the sub-packages falco and sigma; each turns one
// foreign rule file into Vigil D&R rule files (one YAML document per rule) and
// reports every rule it cannot convert faithfully with the reason, rather than
// emitting a rule that would match something else.
package importer
