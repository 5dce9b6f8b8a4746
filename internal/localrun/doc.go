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
// the sensors' heartbeats and the publishers. Today there are two paths:
//
//   - live (App.Live): the sensor (sensor/agent) ships Parquet batches onto an
//     in-process stream, the same records Kinesis would carry, and the App decodes
//     each record and processes it at the wall clock;
//   - replay (App.Replay): the Parquet files of a recorded lake, each processed on
//     its events' own clock, as fast as they can be read.
//
// A third, evaluating the sensor's events inline as they are captured (before they
// are batched), calls App.Process the same way. Process is safe for concurrent
// use, so such a path can run beside the stream's.
//
// Run does what the command does: it checks the options, builds the App, serves
// the API and dashboard, then replays or runs live until its context ends. Errors
// in what it was given (options, rule files, a store in use, an address that
// cannot be listened on) match ErrSetup; the CLI exits with code 2 on them.
//
// localrun is the one package under internal/ that imports sensor packages
// (agent, collector, respond): it assembles the sensor with the backend core, the
// work of a main package, and only cmd/vigil imports it (docs/architecture.md).
package localrun
