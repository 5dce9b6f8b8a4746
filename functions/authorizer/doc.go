// Command authorizer is the HTTP API's Lambda authorizer: it admits requests whose
// `Authorization: Bearer <key>` is a known, unrevoked key (stored hashed in the
// api_keys table) of the org in the path. See internal/api.Authorizer.
package main
