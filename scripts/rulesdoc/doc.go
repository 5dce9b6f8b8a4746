// Command rulesdoc writes docs/rule-pack.md, the catalogue of the shipped rule pack:
// a summary of the categories, then one Markdown table per category with each rule's
// severity, MITRE ATT&CK techniques (linked to attack.mitre.org), maturity,
// description and the event types it evaluates. It reads the report metadata every
// rule of the pack carries (see package rules) and nothing else, so the page cannot
// drift from the rules: regenerate it after changing the pack,
//
//	go generate ./rules                      (runs: go run ./scripts/rulesdoc -o docs/rule-pack.md)
//	go run ./scripts/rulesdoc -rules DIR     (any directory of rules, to stdout)
//
// and TestCommittedPage fails when the committed page is out of date.
//
// A coverage.md in the rules directory (the pack's: its coverage of Falco's
// behaviours) is copied as it is after the tables.
//
// Categories are listed by name; within a category rules are ordered by severity,
// highest first, then by name. Stateful rules say so in the event-types column
// (with child / with descendant and its window, count N within a window).
package main
