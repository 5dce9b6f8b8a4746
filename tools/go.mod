// This directory holds npm packages (emulators, the CDK CLI); its own go.mod keeps
// the Go files npm installs out of the main module.
module github.com/vigil-sec/vigil/tools

go 1.26
