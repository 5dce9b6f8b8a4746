// Command respond is the Lambda function behind every Task state of the response
// workflow: it creates sensor tasks in the tasks table, reports their status to the
// workflow's wait-and-check loop and notifies PagerDuty (Events API v2, routing key
// from the Secrets Manager secret VIGIL_PAGERDUTY_SECRET_ARN). See internal/respond.
package main
