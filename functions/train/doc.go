// Command train is the scheduled Lambda function (EventBridge Scheduler, daily)
// that trains the host activity anomaly models: it reads the last
// VIGIL_TRAIN_DAYS days (default 7) of HOST_STATS events from the S3 lake in
// VIGIL_LAKE_BUCKET (events/dt=YYYY-MM-DD/ prefixes), fits an isolation forest per
// env tag value plus a global one, and writes the model set to VIGIL_MODEL_KEY
// (default models/host_activity.json) in the same bucket, where the detect
// function loads it. VIGIL_S3_PATH_STYLE=true addresses the bucket in the path
// (S3-compatible stores, emulators). See anomaly.JobFromEnv for the other optional
// settings and docs/anomaly.md for the models.
package main
