// Package metrics sends the Lambda functions' metrics over DogStatsD with
// datadog-go, to the Datadog Lambda extension (the stack adds it when
// datadogApiKeySecretArn is set; it listens on 127.0.0.1:8125). The names are the
// callers' (detect.MetricRecords, …).
//
// Every metric carries the function's tags (function:<name>). A nil *Client does
// nothing, so callers need not check whether metrics are enabled.
package metrics
