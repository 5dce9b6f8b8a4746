// Command detect is the Lambda function on the Kinesis event source mapping. It
// decodes each record's Parquet batch and evaluates one rule set: the embedded
// pack (rules/; left out when VIGIL_BUILTIN_RULES is false) and the sources
// VIGIL_RULE_SOURCES lists, colon-separated: directories and files of Vigil,
// Falco, Sigma and tuning files, which the stack deploys as a layer under
// /opt/vigil-rules (see internal/rulesource; a broken file fails the cold start
// with its file and line). It stores each detection in DynamoDB (once, by
// detection id), publishes it on the EventBridge bus and starts the response
// workflow for rules with response actions; sensors' heartbeats update the
// sensors table. Edge records (detect.EdgeRecord: the detections a sensor made
// on its host, and the tasks it carried out for them) are stored and published
// the same way, the detections as the sensor sent them, the tasks in the tasks
// table VIGIL_TASKS_TABLE; the cloud's evaluation of the batch then finds them
// stored. HOST_STATS events are scored with the anomaly model
// VIGIL_MODEL_KEY of the lake bucket VIGIL_LAKE_BUCKET, addressed in the path
// when VIGIL_S3_PATH_STYLE is true (as for the train function). Undecodable
// records are reported as batch item failures.
package main
