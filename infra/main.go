package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func main() {
	err := run()
	jsii.Close()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vigil infra: %v\n", err)
		os.Exit(1)
	}
}

// run builds the app from the context the CDK CLI passes in and synthesizes it.
func run() error {
	app := awscdk.NewApp(nil)
	if _, err := NewVigilStack(app, StackName, &awscdk.StackProps{
		Description: jsii.String("Vigil detection backend: ingest stream and lake, detection, paging, response workflow, API, hunting"),
	}); err != nil {
		return err
	}
	app.Synth(nil)
	return nil
}
