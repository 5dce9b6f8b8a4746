// Package convert ties the importers together: it tells a rule file's format
// (importer.Sniff), converts Falco and Sigma files with the matching converter, and
// checks every converted rule with engine.Parse, so that a caller gets D&R rules the
// engine accepts, or the reasons it did not get them. Load compiles a foreign rule
// file straight into engine rules. FalcoSet converts Falco files as one rule set, in
// order, as Falco loads them, and compiles every rule it returns.
package convert
