// Package siem forwards detections to SIEMs: Splunk through the HTTP Event Collector
// and Elasticsearch (or OpenSearch) through the bulk API. Both implement
// detect.Publisher, so a forwarder slots in wherever detections are published (the
// detect function's bus, `vigil local`).
//
// Delivery is at least once: a failed batch is retried with backoff on 5xx, 429 and
// network errors, and a Publish error makes the caller retry the whole batch. Both
// forwarders are idempotent per detection where the product allows it
// (Elasticsearch documents are indexed under the detection id).
package siem
