// Command vigil is Vigil's command line.
//
// On one machine, no cloud:
//
//	vigil local [--json] [--enforce] [--replay DIR|FILE] [--rules DIR|FILE]... [--model FILE] ...
//	    the whole pipeline in one process: eBPF sensor → in-process stream of
//	    Parquet batches → rules and anomaly scorer → embedded store, the HTTP API
//	    and the dashboard on 127.0.0.1:8080; events in a local lake (Hive layout).
//	    Live capture needs Linux and root (exit code 2 otherwise); --replay
//	    does not, and the rest of the CLI also runs on macOS and Windows.
//	vigil local keys list|create|revoke [--data DIR]   its API keys, on the store
//	    or, while vigil local runs, through its control socket DIR/api.sock
//	vigil events DIR|FILE [--json]          what a lake or Parquet file holds
//	vigil cost --hosts N --events-per-host R [--retention 365d] [--region R] [--from-lake DIR] [--json]
//	    what the deployed stack costs a month for a fleet, per AWS service and per host
//
// Rules as code:
//
//	vigil rules validate [--strict] [--no-builtin] [DIR|FILE...]   the rule set of
//	    the built-in pack and the sources given (Vigil, Falco, Sigma and tuning
//	    files, directories read recursively): every error, the tuning, warnings
//	vigil rules test [--no-builtin] [DIR|FILE...]    run the fixtures of every rule
//	vigil rules import [--from falco|sigma] FILE...  convert to D&R rule files
//	vigil anomaly train|score|eval                   host activity models
//
// Pipelines (VIGIL_API_URL, VIGIL_API_KEY, VIGIL_ORG, or `vigil local`'s API):
//
//	vigil sensors list|wait, vigil detections list|watch, vigil gate,
//	vigil baseline, vigil compliance, vigil task isolate|rejoin|kill|snapshot,
//	vigil metrics push, vigil completion bash|zsh|fish, vigil version (--version)
//
// A deployed stack's API keys (AWS credentials from the SDK's configuration):
//
//	vigil keys list|create|revoke --table TABLE --org ORG   (revoke ID|NAME|KEY; create --name NAME)
//
// Exit codes: 0 success; 1 a check failed (a fixture, the gate's threshold, a
// baseline or compliance failure, a timeout); 2 usage, configuration or
// authorization error (an unknown command or flag, extra arguments, not root, a
// refused API key); 3 the API could not be reached; 4 the gate's deployment was
// not monitored (no sensor with its tag sent a heartbeat during the window).
// docs/devops.md documents each command.
package main
