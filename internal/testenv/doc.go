// Package testenv starts the real AWS-API emulators that tests talk to through
// aws-sdk-go-v2: processes from the npm packages pinned in tools/ (installed by
// `make test`), bound to 127.0.0.1 on free ports and stopped when the test ends.
// Tests skip, saying why, only when node itself is missing; a missing npm install is
// a failure telling the developer to run `make test`.
//
// Set AWS_ENDPOINT_URL to run the same tests against LocalStack or a real account
// instead: the emulators are then not started.
package testenv
