// Package localrun is `vigil local`: the pipeline of the AWS stack assembled in
// one process on one machine. An App holds the embedded store, the rule engine
// (and the anomaly scorer), the publishers of new detections (stdout, the
// dashboard's live stream, the responder: host actions as tasks, dry runs unless
// enforced, and notify to a webhook) and the HTTP side (the API handler of the api
// function and the dashboard, plus a control socket in the store's directory for
// `vigil local keys`).
//
// Events reach the App by paths that all end in one step, App.Process: a batch of
// events through the rules and the anomaly scorer, then the dashboard's timeline,
// the sensors' heartbeats and the publishers. There are two paths:
//
//   - live (App.Live): the sensor (sensor/agent) ships Parquet batches onto an
//     in-process stream, the same records Kinesis would carry, and the App decodes
//     each record and processes it at the wall clock;
//   - replay (App.Replay): the Parquet files of a recorded lake, each processed on
//     its events' own clock, as fast as they can be read.
//
// Live, the sensor also evaluates the App's rule set (the pack, the rule sources,
// tuning) on each event as it is captured, before it is batched (sensor/edge, as
// vigil-sensor with rules.edge), and puts its detections on the stream at once as
// edge records, ahead of the batch that carries the event. The App publishes an
// edge record's detections through the same publishers as Process (the store
// first, so stdout, the dashboard and the responder see each once) and stores its
// finished tasks: a detection reaches stdout within milliseconds of the syscall
// instead of after the batch.
//
// The batch's evaluation that follows runs every rule, those the edge evaluated
// included, and relies on the detection ids to publish nothing twice: an edge
// detection has the id the batch's evaluation gives the same match
// (detect.DetectionID(rule, event id)), the store claims each id once, and the
// document stored and printed is the edge's (marked edge). Skipping the edge's
// rules on the batch instead would lose what only the batch sees: matches the
// edge missed when its bounded state dropped a marker or counter or its queue of
// records was full, rules on the sensor's own events (SENSOR_HEARTBEAT,
// HOST_STATS) that the edge does not evaluate, and the rules engine.Rule.Edge
// keeps in the cloud (a count whose group by leaves out the sensor id), which
// only the batch evaluates. It is the cloud's arrangement too.
//
// Edge actions (isolate, kill, snapshot with edge: true) run in the sensor, dry
// runs unless Options.Enforce, through the task runner Live starts (its state file
// runs a task at most once). The responder leaves a detection's EdgeActions out;
// the edge record's tasks, of the workflow's ids (<detection id>-<action>), are
// stored as the edge finished them.
//
// Process is safe for concurrent use, and so is the publishing of edge records.
//
// Run does what the command does: it checks the options, builds the App, serves
// the API and dashboard, then replays or runs live until its context ends. Errors
// in what it was given (options, rule files, a store in use, an address that
// cannot be listened on) match ErrSetup; the CLI exits with code 2 on them.
//
// localrun is the one package under internal/ that imports sensor packages
// (agent, collector, config, edge, respond): it assembles the sensor with the backend core, the
// work of a main package, and only cmd/vigil imports it (docs/architecture.md).
package localrun
