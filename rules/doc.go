// Package rules is Vigil's shipped detection and response rule pack: one YAML file
// per rule in this directory, the lists and macros they share in lists.yaml and,
// under testdata/<rule>/, the events each rule must match (match.yaml) and the
// benign look-alikes it must not (nomatch.yaml). The pack is embedded in the
// binaries with go:embed; `vigil rules test` and the tests here run every fixture
// and check that each rule's report carries a severity, a category, MITRE ATT&CK
// technique ids, a maturity (stable or incubating) and a description.
//
// docs/rule-pack.md lists every rule of the pack by category and ends with
// coverage.md, which maps the behaviour classes of Falco's rules to the pack's rules
// (TestCoverage keeps the rule names in it real); the page is generated from this
// directory by scripts/rulesdoc (go generate ./rules).
package rules

//go:generate go run ../scripts/rulesdoc -o ../docs/rule-pack.md
