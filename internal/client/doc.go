// Package client is a Go client of Vigil's HTTP API (see internal/api): sensors,
// detections, rules and sensor tasks of one org.
//
// Requests carry `Authorization: Bearer <key>`. Each attempt has its own timeout;
// network errors, timeouts, 5xx answers and 429 Too Many Requests are retried with
// exponential backoff and jitter. Other 4xx answers never are, nor is a 2xx answer
// whose body is not the expected JSON (asking again would get the same answer), nor
// CreateTask. Errors from the API are *APIError values; errors.Is matches them
// against ErrUnauthorized (401), ErrForbidden (403) and ErrNotFound (404).
package client
