// Package aws holds the adapters that implement Vigil's core interfaces with
// aws-sdk-go-v2 clients. Endpoints and credentials come from the SDK's standard
// configuration, so AWS_ENDPOINT_URL points them at LocalStack or an emulator with
// no code change.
package aws
