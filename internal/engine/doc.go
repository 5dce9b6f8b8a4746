// Package engine is Vigil's detection and response rule language: it parses rules in
// the D&R YAML format (a `detection:` tree of operators over rule paths and a
// `response:` list of actions), validates them with errors that name the file, line
// and rule, compiles every path to an accessor from package event, and evaluates
// events against the rules indexed by event type.
//
// A rule file holds one rule; its name is the file name without extension:
//
//	detection:
//	  event: NEW_PROCESS
//	  op: and
//	  rules:
//	    - op: is
//	      path: event/FILE_PATH
//	      value: /usr/bin/cryptominer
//	response:
//	  - action: report
//	    name: cryptocurrency_miner_detected
//
// The full language is documented in docs/rules.md.
package engine
