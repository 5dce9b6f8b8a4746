package main

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// Names of the Lambda functions: functions/<name> in the repository, <lambdaDir>/<name>
// holds the built bootstrap, and each function carries its name in VIGIL_FUNCTION.
const (
	fnDetect     = "detect"
	fnRespond    = "respond"
	fnAPI        = "api"
	fnAuthorizer = "authorizer"
	fnTrain      = "train"
	fnForward    = "forward"
)

// functionNames lists every function of the stack, in the order they are checked
// and built. forward is deployed only when a SIEM is configured (Config.Functions).
var functionNames = []string{fnDetect, fnRespond, fnAPI, fnAuthorizer, fnTrain, fnForward}

// envFunction is the environment variable naming the function (metrics tags, and how
// StateMachineDefinition maps a template's functions to names).
const envFunction = "VIGIL_FUNCTION"

// functionSpec describes one Go Lambda function.
type functionSpec struct {
	name        string // one of functionNames
	description string
	memoryMB    float64
	timeout     awscdk.Duration
	env         map[string]*string
	// quiet keeps the runtime's START and REPORT lines out of the function's log
	// (JSON log format, system log level WARN): for a function invoked for
	// every task poll of every sensor, those lines are most of the stack's
	// log bytes. Its own lines at INFO and above are kept.
	quiet bool
}

// functionID is the construct id of a function: "DetectFunction", "ApiFunction", …;
// its CloudFormation logical id starts with it.
func functionID(name string) string {
	switch name {
	case fnAPI:
		return "ApiFunction"
	}
	return string(name[0]-'a'+'A') + name[1:] + "Function"
}

// newGoFunction adds a provided.al2023 arm64 function running codeDir/bootstrap.
func newGoFunction(scope constructs.Construct, spec functionSpec, codeDir string) awslambda.Function {
	env := map[string]*string{envFunction: jsii.String(spec.name)}
	for k, v := range spec.env {
		env[k] = v
	}
	props := &awslambda.FunctionProps{
		Description:  jsii.String(spec.description),
		Runtime:      awslambda.Runtime_PROVIDED_AL2023(),
		Architecture: awslambda.Architecture_ARM_64(),
		Handler:      jsii.String("bootstrap"),
		Code:         awslambda.Code_FromAsset(jsii.String(codeDir), nil),
		MemorySize:   jsii.Number(spec.memoryMB),
		Timeout:      spec.timeout,
		Environment:  &env,
	}
	if spec.quiet {
		props.LoggingFormat = awslambda.LoggingFormat_JSON
		props.SystemLogLevelV2 = awslambda.SystemLogLevel_WARN
		props.ApplicationLogLevelV2 = awslambda.ApplicationLogLevel_INFO
	}
	return awslambda.NewFunction(scope, jsii.String(functionID(spec.name)), props)
}
