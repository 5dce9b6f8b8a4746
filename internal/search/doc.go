// Package search finds stored events with the rule language as the query
// language: a query's condition is a detection node (engine.ParseWhere), so a
// search and a rule agree on what matches.
//
// Lake searches a local lake directory in the Hive layout
// events/dt=YYYY-MM-DD/hr=HH/sensor=<id>/<ulid>.parquet. It prunes in three
// steps: partitions (dt, hr and sensor directories) against the query's time
// range and sensors; row groups by the bounds their footers keep (event time,
// event type, and the columns an is, starts with or in list comparison
// names); and columns: a row group is first read with only the columns the
// condition needs, and again in full only when one of its rows matched.
//
// SQL compiles a query to one Athena (Trino) statement over one of the
// lake's two Glue tables (partitioned by dt, hr and sensor when the query
// names sensors, by dt and hr when it names none), with the partition
// predicates that let Athena read only the hours and sensors asked for, and
// values as escaped literals; paths and operators without a SQL form are errors naming
// them. EventFromRow maps a result row back to an event.
//
// Context gathers the events around a detection: the detection's process, its
// ancestors and descendants, and the process tree they form (BuildTree).
// Results pages the results of searches held in memory, for an API whose
// searches complete at once (vigil local's).
package search
