// Command infra is the AWS CDK app (Go, aws-cdk-lib v2) that defines the Vigil stack.
//
// It is run by the CDK CLI through cdk.json ({"app": "go run ./infra"}), from the
// repository root:
//
//	make lambdas   # builds bin/<function>/bootstrap (linux/arm64)
//	cdk synth --app "go run ./infra" -o cdk.out -c lambdaDir=bin
//
// The stack "Vigil" is built one file per concern:
//
//   - ingest.go: the customer-managed KMS key (rotation on) that encrypts both the
//     Kinesis stream and the lake; the stream sensors put one Parquet batch per record
//     on (partition key = sensor id); the lake bucket (SSE-KMS with a bucket key,
//     public access blocked, TLS ≥ 1.2 only, versioned, with lake.go's lifecycle rules)
//     and its server-access-log bucket (SSE-S3, which is all S3 log delivery
//     supports; public access blocked, TLS only).
//   - store.go: the DynamoDB tables, all on-demand (PAY_PER_REQUEST), with
//     point-in-time recovery, encrypted with the AWS-managed key and retained when the
//     stack is deleted: detections (id; GSIs by_sensor = sensor_id + time_id and
//     by_tag = tag + time_id, the latter sparse), sensors (sensor_id), tasks (task_id;
//     GSI by_sensor = sensor_id + created; TTL expires_at), api_keys (key_hash, the hex
//     SHA-256 of a key) and rule_state (key; TTL expires_at). Table names are generated
//     by CloudFormation and passed to the functions in their environment.
//   - functions.go: what every function shares: provided.al2023, arm64, handler
//     "bootstrap", code from <lambdaDir>/<name>, and VIGIL_FUNCTION=<name> in its
//     environment (detect, respond, api, authorizer, train, and forward when a SIEM is
//     configured).
//   - detect.go: the detect function (512 MB, 60 s) fed by a Kinesis event source
//     mapping: LATEST, batches of 100, partial batch responses (ReportBatchItemFailures),
//     bisect on error, 3 retries, records older than 6 h skipped. Batches given up on
//     send their shard and sequence-number range to an SQS dead-letter queue (SSE-SQS,
//     TLS only, 14 days); the stream keeps the records 24 h, so they can be replayed
//     from there. The parallelization factor stays 1, keeping each sensor's events in
//     order. It reads and writes the detections, sensors and rule_state tables, and
//     the tasks table (the tasks sensors carried out for their edge actions), puts
//     events on the bus, starts response executions, and reads the anomaly model
//     (s3:GetObject under models/ only; VIGIL_MODEL_KEY = anomaly.DefaultModelKey,
//     models/host_activity.json, the same key the train function is given).
//   - train.go: the train function (1024 MB, 15 min) that fits the host activity
//     anomaly models: VIGIL_LAKE_BUCKET, VIGIL_MODEL_KEY (as detect's),
//     VIGIL_TRAIN_DAYS (context trainDays) and VIGIL_ANOMALY_GROUP_BY (context
//     anomalyGroupBy); see anomaly.JobFromEnv. It may s3:ListBucket the lake with
//     s3:prefix events/*, s3:GetObject under events/, s3:PutObject on the model object
//     only, and kms:Decrypt and kms:GenerateDataKey on the ingest key. EventBridge
//     Scheduler (the stable awsscheduler Schedule of aws-cdk-lib, rather than a
//     scheduled EventBridge rule: its own retry policy and role, no bus) invokes it
//     every day at 03:00 UTC (cron(0 3 * * ? *), no flexible window; delivery retried
//     10 times within 6 h) through a role trusted by scheduler.amazonaws.com for this
//     account only and allowed lambda:InvokeFunction on the function. A failed run is
//     retried once (asynchronous invocation), not twice.
//   - forward.go: only when context splunkHecUrl and/or elasticUrl is set, the forward
//     function (256 MB, 180 s) that sends every detection to Splunk HEC and/or
//     Elasticsearch: SPLUNK_HEC_URL and SPLUNK_HEC_TOKEN_SECRET (context
//     splunkTokenSecretArn), ELASTIC_URL and ELASTIC_API_KEY_SECRET (context
//     elasticApiKeySecretArn), SIEM_TIMEOUT=10s per attempt; secretsmanager:GetSecretValue
//     on those secrets only. The rule ForwardDetections on the bus
//     ({"source":["vigil"],"detail-type":["Detection"]}, every severity) targets it,
//     with 185 retries within 24 h; EventBridge invokes it asynchronously, so a
//     detection the function fails on is retried twice by Lambda (within 6 h). Both
//     kinds of failure end in the forward dead-letter queue (SSE-SQS, TLS only, 14
//     days): from the rule's target, and as the function's on-failure destination.
//   - route.go: the EventBridge bus ("vigil", context busName) with an archive of
//     every event of the bus (30 days), and the paging rules. PagerDuty Events v2 knows
//     the severities critical, error, warning and info, so there is one rule per paging
//     severity: PageCritical ({"source":["vigil"],"detail-type":["Detection"],
//     "detail":{"severity":["critical"]}}) pages as "critical", PageHigh (the same with
//     "high") pages as "error"; together they match the agreed pattern
//     {"source":["vigil"],"detail-type":["Detection"],"detail":{"severity":["high","critical"]}}.
//     Both target an API destination (POST https://events.pagerduty.com/v2/enqueue, at
//     most 10 calls/s) through a connection with API_KEY authorization (header
//     X-Routing-Key, which PagerDuty ignores) whose value is the routing key. The body
//     is built by an input transformer: {"routing_key": <routing key>, "event_action":
//     "trigger", "dedup_key": detail.id, "payload": {"summary": "<detail.name> on
//     <detail.hostname>", "severity": critical|error, "source": detail.hostname,
//     "custom_details": detail}}. Undeliverable events (after 185 retries within 24 h)
//     go to a dead-letter queue.
//   - respond.go: the respond function (256 MB, 30 s; tasks table read/write,
//     GetSecretValue on the PagerDuty secret) and the response state machine
//     (STANDARD, X-Ray tracing, every event logged at level ALL with execution data to a
//     log group kept 3 months). Its definition keeps to what stepfunctions-local runs:
//     for isolate, kill and snapshot in turn, "A?" (Choice on $.steps.A) → "A: request"
//     (Pass, $.request = {"op":"create_task","action":A}) → "A: create task" (Task,
//     $.A_task) → "A: wait" (Wait taskPollSeconds) → "A: check request" (Pass,
//     {"op":"check_task","action":A}) → "A: check task" (Task, $.A_status) → "A: done?"
//     (done → next action, pending → "A: wait", otherwise the Fail state "Response
//     failed", Error TaskFailed); then "notify?" → "notify: request" → "notify" (Task,
//     $.notify_result) → "Done" (Succeed). Every Task runs the respond function by its
//     plain ARN, with no Parameters, retries the Lambda service errors (1 s, ×2, 3
//     attempts) and catches everything into $.error → "Response failed". No Map, no
//     TimeoutSeconds, no service integrations: deadlines are answered by the respond
//     function ("expired").
//   - api.go: the api function (256 MB, 29 s, JSON logs at system log level WARN:
//     no START and REPORT line per task poll; reads detections and sensors with their
//     indexes and updates detection items (their triage: UpdateItem only), reads and
//     writes tasks and api_keys, puts the Kubernetes audit webhook's events on the
//     stream named in VIGIL_INGEST_STREAM (kinesis:PutRecord(s), kms:GenerateDataKey
//     through Kinesis: the only function writing to the stream); the org, name and
//     role of a request's API key are handed over by the authorizer) behind an HTTP API with
//     the routes GET /v1/orgs/{org}/sensors, GET /v1/orgs/{org}/detections,
//     GET and PATCH /v1/orgs/{org}/detections/{id},
//     POST /v1/orgs/{org}/detections/{id}/comments, GET /v1/orgs/{org}/rules, POST and GET /v1/orgs/{org}/sensors/{id}/tasks,
//     GET /v1/orgs/{org}/tasks/{id}, POST /v1/orgs/{org}/tasks/{id}/result, GET and
//     POST /v1/orgs/{org}/keys, DELETE /v1/orgs/{org}/keys/{id} and
//     POST /v1/orgs/{org}/k8s/audit (Lambda
//     proxy, payload format 2.0), every one behind
//     the authorizer function (128 MB, 5 s; reads api_keys): a REQUEST authorizer with
//     payload 2.0, simple responses, identity source $request.header.Authorization and
//     results cached 300 s (so a revoked key is refused within 5 minutes). The $default stage writes one JSON access-log line per
//     request to a log group kept 3 months.
//   - eksaudit.go (with eksAuditLogGroups): a CloudWatch Logs subscription filter
//     "vigil-eks-audit" ({ $.kind = "Event" }: the JSON audit events, not the group's
//     text logs) from each EKS control-plane log group to the stream, and the role
//     CloudWatch Logs assumes for it: trusted by logs.<region>.amazonaws.com with
//     aws:SourceArn arn:<partition>:logs:<region>:<account>:* (the documented form),
//     allowed kinesis:PutRecord(s) on the stream and kms:GenerateDataKey on the ingest
//     key through Kinesis only. Each filter depends on the role and its policy:
//     CloudWatch Logs tries the destination when the filter is created.
//   - lake.go: the lake bucket's lifecycle, one rule per prefix: events/ to Glacier
//     Instant Retrieval after lakeGlacierDays (only when they then stay there the 90
//     days it bills at least) and expired after lakeRetentionDays, noncurrent versions
//     a day later; artifacts/ (memory snapshots) to Glacier Instant Retrieval after
//     lakeGlacierDays and never expired, noncurrent versions after 30 days; models/
//     kept, the models replaced (noncurrent) after 30 days; athena-results/ expired
//     after 7 days; every rule aborts incomplete multipart uploads after 3 days. The
//     Glue database "vigil" and two tables over s3://<lake>/events/ (Parquet,
//     columns from event.Columns() — the Event schema, never a second copy —
//     partitions as strings) with partition projection, so no crawler, MSCK REPAIR
//     or glue:GetPartitions is needed: dt a date (yyyy-MM-dd) of the last
//     lakeRetentionDays, hr 00-23; "events" also has the partition sensor, injected,
//     so a query of it names its sensor(s) in the WHERE clause
//     (… WHERE sensor = 'i-0abc' AND dt >= '2025-01-01'), and "events_all_sensors"
//     has dt and hr only, for queries naming no sensor (Athena reads the sensor=
//     directories under each hour). The Athena workgroup "vigil" enforces its
//     configuration: results under s3://<lake>/athena-results/, encrypted with the
//     ingest key (SSE-KMS).
//   - sensors.go: the sensor role (trusted by EC2 only) and its instance profile; see
//     "Scoping of the sensor role" below.
//   - observability.go: alarms (no actions: subscribe them to what pages you) — detect
//     IteratorAge maximum > 60 s, ApproximateNumberOfMessagesVisible > 0 on the detect
//     and paging dead-letter queues (and the forward one when deployed), Errors > 0 of
//     each function deployed (train and forward included), ExecutionsFailed > 0 of
//     the response workflow, each over 5 minutes, missing data not breaching — and the
//     Datadog Lambda extension when context datadogApiKeySecretArn is set: on every
//     function deployed the layer arn:<partition>:lambda:<region>:464622532012:layer:Datadog-Extension-ARM:<version>,
//     the environment DD_API_KEY_SECRET_ARN, DD_SITE and DD_SERVERLESS_LOGS_ENABLED=false,
//     and secretsmanager:GetSecretValue on that secret. Functions send statsd metrics
//     (datadog-go) to the extension on localhost:8125.
//   - nag.go: the cdk-nag AwsSolutions findings accepted, each with its reason and,
//     for IAM findings, the exact resource it accepts (see "cdk-nag" below).
//   - stack.go: wires the concerns together and exports the outputs StreamName,
//     LakeBucketName, SensorInstanceProfileName, ApiUrl, BusName, StateMachineArn,
//     DetectDeadLetterQueueUrl, PagerDutySecretArn and AthenaWorkGroup.
//   - config.go: the context keys below, checked before anything is built.
//   - template.go: Synth and StateMachineDefinition, for tests that need the
//     synthesized template (see "Helpers" below).
//
// # The PagerDuty routing key
//
// The routing key lives in a Secrets Manager secret as {"routing_key": "..."}. Unless
// context pagerDutySecretArn names an existing secret, the stack creates one with a
// random placeholder (so the field exists at deploy time): put the integration's
// routing key in it (output PagerDutySecretArn) and deploy again. The template only
// ever holds the CloudFormation dynamic reference
// {{resolve:secretsmanager:<secret ARN>:SecretString:routing_key::}} — in the input
// transformer's template and in the connection — which CloudFormation resolves at
// deploy time; so after changing the key, deploy again. Once resolved, the key is part
// of the rule targets' configuration: whoever may call events:ListTargetsByRule on the
// bus can read it. Rotation is by hand (in PagerDuty and in the secret together).
//
// # Scoping of the sensor role
//
// Every sensor instance shares the role, and a role session carries no per-sensor
// identity that IAM policy variables could match against the lake layout
// (events/dt=…/hr=…/sensor=<id>/: the date comes before the sensor, and the sensor id
// is not the instance id for every deployment). So the role is scoped by prefix, not
// by sensor:
//   - kinesis:PutRecord and kinesis:PutRecords on the stream, nothing else on Kinesis
//     (no reads, no shard listing: the shipper does not need it);
//   - s3:PutObject and s3:AbortMultipartUpload on <lake>/events/* and
//     <lake>/artifacts/* (memory snapshots), no read, list or delete — a sensor can add
//     objects but neither see nor destroy what others wrote (the lake is versioned);
//   - kms:GenerateDataKey and kms:Decrypt on the ingest key, only when the request comes
//     through Kinesis or S3 of the stack's region (kms:ViaService): encrypting a record
//     or an object takes a data key, and completing a multipart upload decrypts it;
//   - on DynamoDB, only dynamodb:GetItem on the task bells table, of the seq attribute
//     (dynamodb:Attributes sensor_id and seq, dynamodb:Select SPECIFIC_ATTRIBUTES): a
//     bell is a number raised when a task is created for its sensor, so reading another
//     sensor's tells when it got tasks, not what they are. A sensor reads its tasks and
//     reports results through the HTTP API with an API key, where the api function
//     decides what a key may see. IAM could not scope the tasks table per sensor itself:
//     dynamodb:LeadingKeys applies to the table's partition key (task_id), not to the
//     sensor_id of the by_sensor index;
//   - ssm:GetParameter on the parameters under /vigil/ of the stack's account and
//     region (sensorParameterPath), read at boot: the sensor.yaml of
//     install-sensor.sh --ssm-parameter (/vigil/sensor.yaml) and the API key of
//     user-data's VIGIL_API_KEY_PARAMETER (e.g. /vigil/api-key). No kms:Decrypt: a
//     SecureString under the default aws/ssm key is decrypted through SSM, which that
//     key's policy allows every principal of the account; under a customer-managed
//     key, grant the role kms:Decrypt on that key yourself. No other SSM action (no
//     GetParametersByPath, no Session Manager).
//
// Nothing else (no CloudWatch, no Session Manager): add managed policies to the role
// yourself if you manage the instances with them.
//
// # Context keys
//
// Set in cdk.json "context" or with -c key=value on the command line:
//
//	streamMode               "on-demand" (default) or "provisioned"
//	shardCount               shards of a provisioned stream (default 1; only with provisioned)
//	fleetHosts, eventsPerHost  the fleet's size: without streamMode, the capacity mode
//	                         and shard count internal/cost chooses for it
//	fleetRegion              region of the prices that choice compares (default us-east-1)
//	lakeGlacierDays          days before lake objects under events/ and artifacts/ move to
//	                         Glacier Instant Retrieval (default 30)
//	lakeRetentionDays        days before lake objects under events/ expire (default 365;
//	                         greater than lakeGlacierDays)
//	lambdaDir                directory holding <function>/bootstrap (default "bin")
//	busName                  name of the event bus (default "vigil")
//	taskPollSeconds          seconds the response workflow waits between task checks (default 5)
//	pagerDutySecretArn       complete ARN of an existing secret {"routing_key": "..."} (default: created)
//	datadogApiKeySecretArn   complete ARN of the Datadog API key secret; set: Datadog extension on
//	datadogSite              Datadog site, DD_SITE (default "datadoghq.com")
//	datadogExtensionVersion  version of the Datadog-Extension-ARM layer (default 65)
//	trainDays                days of events the daily training reads, VIGIL_TRAIN_DAYS (default 7, at most 90)
//	anomalyGroupBy           tag key of the per-group models, VIGIL_ANOMALY_GROUP_BY (default "env"; "-": one model)
//	ruleSources              directories and files of rules (Vigil, Falco, Sigma, tuning), comma-separated
//	                         or a cdk.json list; set: the rules layer on detect and api (below)
//	builtinRules             "false" leaves the embedded pack out (default true; needs ruleSources)
//	splunkHecUrl             base https:// URL of the Splunk HTTP Event Collector (no path); set: forward function on
//	splunkTokenSecretArn     complete ARN of the secret holding the HEC token (required with splunkHecUrl)
//	elasticUrl               base https:// URL of Elasticsearch (no path); set: forward function on
//	elasticApiKeySecretArn   complete ARN of the secret holding the Elasticsearch API key (required with elasticUrl)
//
// With ruleSources, synth loads the sources with the pack exactly as the functions
// will (internal/rulesource) and fails on any error of any file, naming it; it then
// copies the files it read into the RuleSources layer (rulesources.go; provided.al2023,
// arm64), source i under /opt/vigil-rules/<i>/<base name of its directory>, loads
// that copy again and fails if it gives another rule set (a tuning sources: selector
// naming a directory above a source). The detect and api functions get the layer,
// VIGIL_RULE_SOURCES (the sources in it, colon-separated) and, with
// builtinRules=false, VIGIL_BUILTIN_RULES=false; the api function lists the rules the
// detect function runs.
//
// Secret ARNs must be complete (ending in the six characters Secrets Manager appends),
// since IAM policies name them exactly. A SIEM URL without its secret (or a secret
// without its URL) is an error naming both keys. A SIEM URL is the base URL (no path
// but "/", no query or fragment): the forward function appends the API path itself
// (/services/collector/event, /_bulk). Synth fails with an error naming the
// missing file when lambdaDir/<function>/bootstrap does not exist for one of detect,
// respond, api, authorizer and train, or for forward when a SIEM is configured: run
// `make lambdas` first (it builds every functions/<name>).
//
// # cdk-nag
//
// The tests run the cdk-nag AwsSolutions pack and fail on any error or warning that is
// not suppressed. The accepted findings (nag.go): the functions' roles carry
// AWSLambdaBasicExecutionRole (logs only); grants on tables with GSIs include
// <table>/index/*; the detect function reads <lake>/models/*; the train function reads
// <lake>/events/*; the sensors write <lake>/events/* and <lake>/artifacts/*; the state
// machine's role needs Resource * for X-Ray and log delivery and invokes
// <respond ARN>:*; the train schedule's role invokes <train ARN>:*; the dead-letter
// queues (detect, paging, forward) have no dead-letter queue of their own; the created PagerDuty secret is not rotated by a
// function; the stream uses the stack's customer-managed key rather than aws/kinesis.
//
// # Helpers
//
// template.go exports, for tests in this package (package main cannot be imported):
//
//	func Synth(ctx map[string]string) (map[string]any, error)
//	func StateMachineDefinition(template map[string]any, lambdaArns map[string]string) (string, error)
//
// Synth synthesizes the app with the context of the nearest cdk.json and ctx on top
// (as -c key=value would) into a temporary directory and returns the template as
// decoded JSON. StateMachineDefinition returns the definition of the template's one
// state machine with each {"Fn::GetAtt": [<function>, "Arn"]} replaced by the ARN
// lambdaArns gives for that function's name (its VIGIL_FUNCTION, or else the name whose
// construct id — DetectFunction, RespondFunction, ApiFunction, AuthorizerFunction, … —
// starts the logical id); ready for CreateStateMachine on stepfunctions-local.
//
// cdk.json carries the recommended feature flags of the aws-cdk-lib version in go.mod,
// turns off version reporting, notices and CLI telemetry so that synth never needs the
// network. The assembly it writes (schema 50) needs CDK CLI 2.1105.0 or newer.
//
// The tests (go test ./infra/) synthesize the stack three times — with the defaults,
// with every context key set (both SIEMs included), and with Splunk forwarding only —
// with the same cdk.json context and stand-in bootstrap files,
// and check the templates with the assertions module and by reading the template JSON.
package main
