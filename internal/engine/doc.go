// Package engine is Vigil's detection and response rule language: it parses rules in
// the D&R YAML format (a `detection:` tree of operators over rule paths and a
// `response:` list of actions), validates them with errors that name the file, line
// and rule, compiles every path to an accessor from package event, and evaluates
// events against the rules indexed by event type and by the literal values they
// require (index.go: an event is evaluated only against the rules whose required
// values it holds).
//
// A rule file holds one rule; its name is the file name without extension:
//
//	detection:
//	  event: NEW_PROCESS
//	  op: and
//	  rules:
//	    - op: in list
//	      path: event/FILE_NAME
//	      list: shells
//	    - macro: run_by_web_server
//	response:
//	  - action: report
//	    name: web_server_spawns_shell
//
// Shared lists and macros come from the lists/macros files of the same directory
// (Library; Load and LoadPack read them first). Stateless rules evaluate with
// Engine.Eval; Engine.Process evaluates every rule, the stateful ones (with child,
// with descendant, count) included, applying action conditions and suppression, with
// state kept in a State (NewMemoryState in process, NewBoundedMemoryState with a
// bound on its entries).
//
// Match.Explain says why a rule fired (package explain): it evaluates the matched
// rule again on the event in an explaining mode, off the evaluation path, and names
// the earlier events of a stateful rule, which a State that is an EventKeeper keeps
// beside its markers and counters (MemoryState does). Rule.Explain and
// ExplainEvents explain a rule on events of one's own (`vigil rules explain`), and
// failing fixtures carry the explanation of the event that decided them.
//
// Rule.Edge says whether a sensor may evaluate a rule on its own host (package
// sensor/edge): not when its state spans hosts (a count or a suppression not per
// sensor) or its file says edge: false. isolate, kill and snapshot actions take
// edge: true (Action.Edge): such a sensor then carries them out itself.
//
// Tuning changes a compiled rule without its file: Rule.WithException returns a copy
// whose detection is `and not` an exception node, Rule.WithSeverity a copy with
// another report severity (package tuning applies tuning files with them).
// Warnings checks any set of rules and its library; Document decodes the one YAML
// document of a rules file with errors naming the file and line.
//
// The full language is documented in docs/rules.md.
package engine
