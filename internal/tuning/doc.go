// Package tuning reads tuning files and applies them to loaded rules, so that a
// user changes the shipped pack (or any rule set) without copying it.
//
// A tuning file is a YAML mapping whose one key is tuning:, a list of entries. Each
// entry selects rules and says what to change in them:
//
//	tuning:
//	  - rules: [binary_executed_from_tmp]     # selectors: rules, tags, sources, maturity
//	    exceptions:
//	      - name: go_builds                   # Falco-style: fields, comps, rows of values
//	        fields: [event/FILE_PATH, event/PARENT/FILE_NAME]
//	        comps: [starts with, is]
//	        values:
//	          - [/tmp/go-build, go]
//	      - name: ci_runners                  # LimaCharlie-style: a detection node
//	        detection: {op: is tagged, tag: ci}
//	  - tags: [cryptomining]
//	    severity: critical
//	  - maturity: incubating
//	    enabled: false
//
// Selectors: rules (rule names, * and ? globs), tags (a rule's tags are its report's
// tags, category and MITRE technique ids; globs, case ignored), sources (builtin,
// the format a rule was written in — vigil, falco or sigma — or a path given as
// whole segments of the rule file's path, so the same file works wherever the
// sources are mounted) and maturity (stable, incubating). Every selector given must
// hold; within one, any value. An entry needs a selector and a change.
//
// Changes: enabled (false disables the selected rules, true enables them again),
// severity (the report's), exceptions. An exception is compiled by the engine
// (engine.Rule.WithException) and joined to the rule's detection as `and not`: with
// fields, each row of values is the and of `<field> <comp> <value>` (comps default
// to is; the others are contains, starts with, ends with, matches, in and cidr) and
// the rows are or'ed; with detection, any node of the rule language.
//
// Entries apply in order (files in the order their sources are given, a directory's
// files in lexical order) after every rule has loaded, so a later entry overrides an
// earlier one: a user file can enable again what a shared file disabled. Parse
// reports every error of a file with its line and field; Apply reports an exception
// that does not compile for a selected rule as an error naming the rule, and an
// entry that selects no rule as a warning (naming the nearest rule name when a name
// was misspelled).
package tuning
