// Command forward is the Lambda function behind the EventBridge rule that sends
// every detection on the Vigil bus to the configured SIEMs: Splunk's HTTP Event
// Collector (SPLUNK_HEC_URL, token in the secret SPLUNK_HEC_TOKEN_SECRET) and/or
// Elasticsearch's bulk API (ELASTIC_URL, API key or user:password in a secret).
// The stack creates it only when a SIEM is configured. See internal/siem.
package main
