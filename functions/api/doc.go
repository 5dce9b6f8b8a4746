// Command api is the Lambda function behind the HTTP API (API Gateway, payload
// format 2.0). It serves internal/api's handler — the one `vigil local` serves —
// over the DynamoDB tables named in its environment. VIGIL_API_KEYS_TABLE, when
// set, enables the keys routes (list, create, revoke an org's API keys) on that
// table; without it they answer 501. GET /v1/orgs/{org}/rules lists the rule set
// the detect function runs, read from the same VIGIL_BUILTIN_RULES and
// VIGIL_RULE_SOURCES (internal/rulesource). VIGIL_INGEST_STREAM, when set,
// names the Kinesis stream POST /v1/orgs/{org}/k8s/audit puts the Kubernetes
// audit webhook's events on (as Parquet batches, as a sensor does); without it
// that route answers 501.
package main
