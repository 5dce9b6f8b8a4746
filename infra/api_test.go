package main

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestHTTPAPI(t *testing.T) {
	s := synthApp(t, nil)
	fns := functionsByName(t, s.json)
	apiID, api := onlyResource(t, s.json, "AWS::ApiGatewayV2::Api")
	if api["ProtocolType"] != "HTTP" {
		t.Errorf("API protocol %v, want HTTP", api["ProtocolType"])
	}

	authID, auth := onlyResource(t, s.json, "AWS::ApiGatewayV2::Authorizer")
	t.Run("authorizer", func(t *testing.T) {
		want := map[string]any{
			"ApiId":                          ref(apiID),
			"AuthorizerType":                 "REQUEST",
			"AuthorizerPayloadFormatVersion": "2.0",
			"EnableSimpleResponses":          true,
			"IdentitySource":                 []any{"$request.header.Authorization"},
			"AuthorizerResultTtlInSeconds":   300.0,
		}
		for k, v := range want {
			if !reflect.DeepEqual(auth[k], v) {
				t.Errorf("%s = %v, want %v", k, auth[k], v)
			}
		}
		uri := render(t, auth["AuthorizerUri"], refName)
		if want := "<" + fns[fnAuthorizer].id + ".Arn>"; !strings.Contains(uri, want) {
			t.Errorf("authorizer URI %s does not invoke the authorizer function %s", uri, want)
		}
	})

	integID, integ := onlyResource(t, s.json, "AWS::ApiGatewayV2::Integration")
	t.Run("integration", func(t *testing.T) {
		want := map[string]any{
			"ApiId":                ref(apiID),
			"IntegrationType":      "AWS_PROXY",
			"PayloadFormatVersion": "2.0",
			"IntegrationUri":       arn(fns[fnAPI].id),
		}
		for k, v := range want {
			if !reflect.DeepEqual(integ[k], v) {
				t.Errorf("%s = %v, want %v", k, integ[k], v)
			}
		}
	})

	t.Run("routes", func(t *testing.T) {
		var keys []string
		for id, r := range resourcesOf(s.json, "AWS::ApiGatewayV2::Route") {
			p := props(r)
			key, _ := p["RouteKey"].(string)
			keys = append(keys, key)
			if p["AuthorizationType"] != "CUSTOM" || !reflect.DeepEqual(p["AuthorizerId"], ref(authID)) {
				t.Errorf("route %s (%s) is not behind the authorizer: %v %v", id, key, p["AuthorizationType"], p["AuthorizerId"])
			}
			if !reflect.DeepEqual(p["Target"], join("integrations/", ref(integID))) {
				t.Errorf("route %s (%s) targets %v", id, key, p["Target"])
			}
		}
		slices.Sort(keys)
		want := []string{
			"DELETE /v1/orgs/{org}/keys/{id}",
			"GET /v1/orgs/{org}/detections",
			"GET /v1/orgs/{org}/detections/{id}",
			"GET /v1/orgs/{org}/detections/{id}/context",
			"GET /v1/orgs/{org}/events/search/{id}",
			"GET /v1/orgs/{org}/keys",
			"GET /v1/orgs/{org}/rules",
			"GET /v1/orgs/{org}/sensors",
			"GET /v1/orgs/{org}/sensors/{id}/tasks",
			"GET /v1/orgs/{org}/tasks/{id}",
			"PATCH /v1/orgs/{org}/detections/{id}",
			"POST /v1/orgs/{org}/detections/{id}/comments",
			"POST /v1/orgs/{org}/events/search",
			"POST /v1/orgs/{org}/k8s/audit",
			"POST /v1/orgs/{org}/keys",
			"POST /v1/orgs/{org}/sensors/{id}/tasks",
			"POST /v1/orgs/{org}/tasks/{id}/result",
		}
		if !slices.Equal(keys, want) {
			t.Errorf("routes\n got %v\nwant %v", keys, want)
		}
	})

	t.Run("access logging", func(t *testing.T) {
		_, stage := onlyResource(t, s.json, "AWS::ApiGatewayV2::Stage")
		if stage["StageName"] != "$default" || stage["AutoDeploy"] != true {
			t.Errorf("stage %v %v, want the auto-deployed $default stage", stage["StageName"], stage["AutoDeploy"])
		}
		logs, _ := stage["AccessLogSettings"].(map[string]any)
		att, _ := logs["DestinationArn"].(map[string]any)["Fn::GetAtt"].([]any)
		if len(att) != 2 || resourcesOf(s.json, "AWS::Logs::LogGroup")[att[0].(string)] == nil {
			t.Fatalf("access logs go to %v, want a log group of the stack", logs["DestinationArn"])
		}
		var format map[string]string
		if err := json.Unmarshal([]byte(logs["Format"].(string)), &format); err != nil {
			t.Fatalf("access log format is not JSON: %v", err)
		}
		for _, k := range []string{"requestId", "routeKey", "status", "authorizerError"} {
			if format[k] == "" {
				t.Errorf("access log format lacks %s", k)
			}
		}
	})

	t.Run("invoke permissions", func(t *testing.T) {
		invokers := map[string]int{}
		for _, r := range resourcesOf(s.json, "AWS::Lambda::Permission") {
			p := props(r)
			if p["Principal"] != "apigateway.amazonaws.com" {
				continue
			}
			att, _ := p["FunctionName"].(map[string]any)["Fn::GetAtt"].([]any)
			if len(att) == 2 {
				invokers[att[0].(string)]++
			}
		}
		for _, name := range []string{fnAPI, fnAuthorizer} {
			if invokers[fns[name].id] == 0 {
				t.Errorf("API Gateway may not invoke the %s function", name)
			}
		}
		if len(invokers) != 2 {
			t.Errorf("API Gateway may invoke %v, want only the api and authorizer functions", invokers)
		}
	})
}
