// Package version is the version every Vigil binary reports: the sensor in its
// heartbeats (what `vigil baseline --version` and `vigil compliance --version`
// compare), the CLI (`vigil version`, `vigil --version`), `vigil-sensor
// --version` and the Lambda functions (logged when they start).
//
// A release build stamps it with the linker:
//
//	go build -ldflags "-X github.com/vigil-sec/vigil/internal/version.Version=$(git describe --tags --always --dirty)" ./cmd/vigil
//
// (make build and make lambdas do). Unstamped, String falls back to what the Go
// toolchain recorded: the commit the binary was built from (its first 12 hex
// digits, "-dirty" added when the tree had changes: what `git describe --always
// --dirty` says in a repository without tags, abbreviated differently), else the
// module version of a `go install …@version`, else "dev".
package version
