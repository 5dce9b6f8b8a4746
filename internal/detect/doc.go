// Package detect is the detection core shared by the detect Lambda function and
// `vigil local`: it decodes Parquet batches of events, evaluates them against the
// rule engine and turns every match into a Detection, which it hands to a Publisher
// (stdout, a store, a bus: whatever the wiring supplies).
//
// A detection carries the report's output rendered for its event (Output): the
// report metadata's output_template, a Go template over the event in rule-path
// shape with a path function for any rule path (the Falco importer writes a Falco
// rule's output there), or the plain output text.
//
// A detection's id is derived from the rule and the event id, so evaluating the same
// batch twice (a Kinesis retry, a replayed lake) yields the same ids and stores can
// deduplicate.
package detect
