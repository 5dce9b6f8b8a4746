// Package explain says why a rule fired on an event, or why it did not: an
// Explanation holds the rule's conditions evaluated on the event (a tree of
// Conditions: for and, or and not which branches matched; for each comparison the
// path, the operator, the expected value and the event's actual value) and, for a
// stateful rule, the earlier events that completed it (the parent or ancestor
// process of with child / with descendant, the events a count counted).
//
// Package engine builds explanations (Match.Explain, Rule.Explain) only for the
// rules that matched, by evaluating the matched rule again in an explaining mode;
// evaluation itself does not build them. Detections carry them in their JSON form
// (field explanation), and Render prints one as an indented text tree with ✓ and ✗
// per condition, as `vigil detections get`, `vigil rules explain` and
// `vigil rules test` show them.
//
// The package imports nothing of Vigil's: the engine, the detection core, the API
// client and the CLI all use its types.
package explain
