package main

import (
	"encoding/json"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2authorizers"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsapigatewayv2integrations"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslogs"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// apiRoutes are the routes of the HTTP API; every one goes through the authorizer to
// the api function.
var apiRoutes = []struct {
	method awsapigatewayv2.HttpMethod
	path   string
}{
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/sensors"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/detections"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/detections/{id}"},
	{awsapigatewayv2.HttpMethod_PATCH, "/v1/orgs/{org}/detections/{id}"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/detections/{id}/comments"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/rules"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/events/search"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/events/search/{id}"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/detections/{id}/context"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/sensors/{id}/tasks"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/tasks/{id}"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/sensors/{id}/tasks"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/tasks/{id}/result"},
	{awsapigatewayv2.HttpMethod_GET, "/v1/orgs/{org}/keys"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/keys"},
	{awsapigatewayv2.HttpMethod_DELETE, "/v1/orgs/{org}/keys/{id}"},
	{awsapigatewayv2.HttpMethod_POST, "/v1/orgs/{org}/k8s/audit"},
}

// Settings of the Lambda authorizer.
const (
	authorizerIdentitySource = "$request.header.Authorization"
	authorizerCacheSeconds   = 300
)

// apiAccessLogFormat is one JSON line per request in the access log group.
var apiAccessLogFormat = map[string]string{
	"requestId":          "$context.requestId",
	"ip":                 "$context.identity.sourceIp",
	"requestTime":        "$context.requestTime",
	"httpMethod":         "$context.httpMethod",
	"routeKey":           "$context.routeKey",
	"status":             "$context.status",
	"protocol":           "$context.protocol",
	"responseLength":     "$context.responseLength",
	"integrationError":   "$context.integrationErrorMessage",
	"authorizerError":    "$context.authorizer.error",
	"integrationLatency": "$context.integrationLatency",
}

// API is the HTTP API sensors and users call with a Bearer API key.
type API struct {
	Function   awslambda.Function
	Authorizer awslambda.Function
	HTTPAPI    awsapigatewayv2.HttpApi
	AccessLogs awslogs.LogGroup
}

// newAPI adds the api function, its authorizer and the HTTP API. The api
// function puts the Kubernetes audit webhook's events on the ingest stream.
func newAPI(scope constructs.Construct, store *Store, in *Ingest, apiDir, authorizerDir string) *API {
	var a API

	a.Function = newGoFunction(scope, functionSpec{
		name:        fnAPI,
		description: "Vigil api: sensors, detections, tasks and rules over HTTP",
		memoryMB:    256,
		// a detection's context waits for its Athena query: up to API Gateway's 30 s
		timeout: awscdk.Duration_Seconds(jsii.Number(29)),
		quiet:   true, // a task poll per sensor every 30 s
		env: map[string]*string{
			"VIGIL_DETECTIONS_TABLE": store.Detections.TableName(),
			"VIGIL_SENSORS_TABLE":    store.Sensors.TableName(),
			"VIGIL_TASKS_TABLE":      store.Tasks.TableName(),
			"VIGIL_TASK_BELLS_TABLE": store.TaskBells.TableName(),
			"VIGIL_API_KEYS_TABLE":   store.APIKeys.TableName(),
			"VIGIL_INGEST_STREAM":    in.Stream.StreamName(),
		},
	}, apiDir)
	grantStreamPut(a.Function.GrantPrincipal(), in, "PutAuditEventBatches") // the audit webhook
	// Read on a table with indexes includes its indexes.
	store.Detections.GrantReadData(a.Function)
	// a detection's triage: conditional updates of its items, never a new or deleted item
	store.Detections.Grant(a.Function, jsii.String("dynamodb:UpdateItem"))
	store.Sensors.GrantReadData(a.Function)
	store.Tasks.GrantReadWriteData(a.Function)
	store.grantRing(a.Function)                  // tasks created through the API
	store.APIKeys.GrantReadWriteData(a.Function) // the keys routes: list, create, revoke

	a.Authorizer = newGoFunction(scope, functionSpec{
		name:        fnAuthorizer,
		description: "Vigil authorizer: checks the Bearer API key of HTTP API requests",
		memoryMB:    128,
		timeout:     awscdk.Duration_Seconds(jsii.Number(5)),
		env: map[string]*string{
			"VIGIL_API_KEYS_TABLE": store.APIKeys.TableName(),
		},
	}, authorizerDir)
	store.APIKeys.GrantReadData(a.Authorizer)

	authorizer := awsapigatewayv2authorizers.NewHttpLambdaAuthorizer(jsii.String("ApiKeyAuthorizer"), a.Authorizer,
		&awsapigatewayv2authorizers.HttpLambdaAuthorizerProps{
			AuthorizerName: jsii.String("api-key"),
			IdentitySource: jsii.Strings(authorizerIdentitySource),
			// Simple responses ({"isAuthorized": bool}) imply payload format 2.0.
			ResponseTypes:   &[]awsapigatewayv2authorizers.HttpLambdaResponseType{awsapigatewayv2authorizers.HttpLambdaResponseType_SIMPLE},
			ResultsCacheTtl: awscdk.Duration_Seconds(jsii.Number(authorizerCacheSeconds)),
		})

	a.HTTPAPI = awsapigatewayv2.NewHttpApi(scope, jsii.String("Api"), &awsapigatewayv2.HttpApiProps{
		ApiName:     jsii.String("vigil"),
		Description: jsii.String("Vigil API (Bearer API key)"),
	})
	integration := awsapigatewayv2integrations.NewHttpLambdaIntegration(jsii.String("ApiIntegration"), a.Function,
		&awsapigatewayv2integrations.HttpLambdaIntegrationProps{
			PayloadFormatVersion: awsapigatewayv2.PayloadFormatVersion_VERSION_2_0(),
		})
	for _, r := range apiRoutes {
		a.HTTPAPI.AddRoutes(&awsapigatewayv2.AddRoutesOptions{
			Path:        jsii.String(r.path),
			Methods:     &[]awsapigatewayv2.HttpMethod{r.method},
			Integration: integration,
			Authorizer:  authorizer,
		})
	}

	a.AccessLogs = awslogs.NewLogGroup(scope, jsii.String("ApiAccessLogs"), &awslogs.LogGroupProps{
		Retention: awslogs.RetentionDays_THREE_MONTHS,
	})
	format, _ := json.Marshal(apiAccessLogFormat) // a map of strings always marshals
	stage := a.HTTPAPI.DefaultStage().Node().DefaultChild().(awsapigatewayv2.CfnStage)
	stage.SetAccessLogSettings(&awsapigatewayv2.CfnStage_AccessLogSettingsProperty{
		DestinationArn: a.AccessLogs.LogGroupArn(),
		Format:         jsii.String(string(format)),
	})
	return &a
}
