// Command api is the Lambda function behind the HTTP API (API Gateway, payload
// format 2.0). It serves internal/api's handler — the one `vigil local` serves —
// over the DynamoDB tables named in its environment.
package main
