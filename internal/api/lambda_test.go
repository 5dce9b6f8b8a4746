package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

type staticKeys map[string]Key

func (s staticKeys) Lookup(_ context.Context, key string) (Key, bool, error) {
	k, ok := s[key]
	return k, ok, nil
}

// TestLambdaRoundTrip feeds the handler an HTTP API v2 event as API Gateway sends it.
func TestLambdaRoundTrip(t *testing.T) {
	raw := `{"version":"2.0","routeKey":"POST /v1/orgs/{org}/sensors/{id}/tasks","rawPath":"/v1/orgs/acme/sensors/s1/tasks",
		"rawQueryString":"","headers":{"authorization":"Bearer k","content-type":"application/json"},
		"requestContext":{"http":{"method":"POST","path":"/v1/orgs/acme/sensors/s1/tasks"}},
		"body":"eyJhY3Rpb24iOiJleHBsb2RlIn0=","isBase64Encoded":true}`
	var in events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatal(err)
	}
	s := &Server{Keys: staticKeys{"k": {Org: "acme"}}}
	out, err := Lambda(s.Handler())(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	// {"action":"explode"} reaches the handler decoded and is refused by it
	if out.StatusCode != http.StatusBadRequest || out.Headers["Content-Type"] != "application/json" {
		t.Fatalf("response %d %v %s", out.StatusCode, out.Headers, out.Body)
	}
	var body map[string]string
	if err := json.Unmarshal([]byte(out.Body), &body); err != nil || body["error"] == "" {
		t.Fatalf("body %s", out.Body)
	}
}

func TestAuthorizer(t *testing.T) {
	auth := Authorizer(staticKeys{"good": {Org: "acme", Name: "ci"}, "old": {Org: "acme", Revoked: true}})
	tests := []struct {
		header, path string
		allow        bool
	}{
		{"Bearer good", "/v1/orgs/acme/sensors", true},
		{"Bearer good", "/v1/orgs/globex/sensors", false},
		{"Bearer old", "/v1/orgs/acme/sensors", false},
		{"Bearer nope", "/v1/orgs/acme/sensors", false},
		{"good", "/v1/orgs/acme/sensors", false},
		{"", "/v1/orgs/acme/sensors", false},
	}
	for _, tc := range tests {
		in := events.APIGatewayV2CustomAuthorizerV2Request{RawPath: tc.path}
		if tc.header != "" {
			in.IdentitySource = []string{tc.header}
		}
		out, err := auth(context.Background(), in)
		if err != nil || out.IsAuthorized != tc.allow {
			t.Errorf("%q %s: authorized=%v err=%v, want %v", tc.header, tc.path, out.IsAuthorized, err, tc.allow)
		}
	}
}

// TestLambdaTrustsTheAuthorizer: behind API Gateway the api function has no key
// store; the org the authorizer admitted must match the path.
func TestLambdaTrustsTheAuthorizer(t *testing.T) {
	s := &Server{Rules: nil}
	h := Lambda(s.Handler())
	tests := []struct {
		path, org string
		status    int
	}{
		{"/v1/orgs/acme/rules", "acme", http.StatusOK},
		{"/v1/orgs/globex/rules", "acme", http.StatusForbidden},
		{"/v1/orgs/acme/rules", "", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		in := events.APIGatewayV2HTTPRequest{RawPath: tc.path}
		in.RequestContext.HTTP.Method = "GET"
		if tc.org != "" {
			in.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"org": tc.org}}
		}
		out, err := h(context.Background(), in)
		if err != nil || out.StatusCode != tc.status {
			t.Errorf("%s as %q: %d %s (%v), want %d", tc.path, tc.org, out.StatusCode, out.Body, err, tc.status)
		}
	}
}

// TestAuthorizerPassesTheRole: behind API Gateway the authorizer hands the key's
// name, role and sensor to the api function, which enforces the role as the
// server does: a viewer key cannot start a response, a sensor key reads only its
// own sensor's tasks, a key stored without a role acts as admin.
func TestAuthorizerPassesTheRole(t *testing.T) {
	auth := Authorizer(staticKeys{
		"view":   {Org: "acme", Name: "dash", Role: RoleViewer},
		"resp":   {Org: "acme", Name: "alice", Role: RoleResponder},
		"legacy": {Org: "acme", Name: "old"},
		"sensor": {Org: "acme", Name: "s1-key", Role: RoleSensor, SensorID: "s1"},
		"broken": {Org: "acme", Name: "x", Role: RoleSensor},
	})
	s := &Server{Sensors: noSensors{}} // no stores: a refused request never reaches one
	h := Lambda(s.Handler())
	tests := []struct {
		key, method, path string
		role              string
		status            int
	}{
		{"view", "POST", "/v1/orgs/acme/sensors/s1/tasks", "viewer", http.StatusForbidden},
		{"view", "PATCH", "/v1/orgs/acme/detections/d1", "viewer", http.StatusForbidden},
		{"view", "GET", "/v1/orgs/acme/rules", "viewer", http.StatusOK},
		{"resp", "GET", "/v1/orgs/acme/keys", "responder", http.StatusForbidden},
		{"resp", "POST", "/v1/orgs/acme/sensors/nope/tasks", "responder", http.StatusNotFound},
		{"legacy", "GET", "/v1/orgs/acme/keys", "admin", http.StatusNotImplemented},
		{"sensor", "GET", "/v1/orgs/acme/sensors/s2/tasks", "sensor", http.StatusForbidden},
		{"sensor", "GET", "/v1/orgs/acme/rules", "sensor", http.StatusForbidden},
		{"broken", "GET", "/v1/orgs/acme/rules", "", 0},
	}
	for _, tc := range tests {
		a, err := auth(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{RawPath: tc.path, IdentitySource: []string{"Bearer " + tc.key}})
		if err != nil {
			t.Fatal(err)
		}
		if tc.status == 0 {
			if a.IsAuthorized {
				t.Errorf("%s: a sensor key bound to no sensor is admitted", tc.key)
			}
			continue
		}
		if !a.IsAuthorized || a.Context["role"] != tc.role {
			t.Fatalf("%s: %+v, want role %s", tc.key, a, tc.role)
		}
		// API Gateway hands the authorizer's context to the function as JSON
		raw, _ := json.Marshal(a.Context)
		var lambdaCtx map[string]any
		_ = json.Unmarshal(raw, &lambdaCtx)
		in := events.APIGatewayV2HTTPRequest{RawPath: tc.path, Body: `{"action":"isolate"}`}
		in.RequestContext.HTTP.Method = tc.method
		in.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambdaCtx}
		out, err := h(context.Background(), in)
		if err != nil || out.StatusCode != tc.status {
			t.Errorf("%s %s %s: %d %s (%v), want %d", tc.key, tc.method, tc.path, out.StatusCode, out.Body, err, tc.status)
		}
	}
}

// noSensors is a sensor store with no sensor registered.
type noSensors struct{}

func (noSensors) List(context.Context, []string) ([]Sensor, error) { return nil, nil }
func (noSensors) Get(_ context.Context, id string) (Sensor, error) {
	return Sensor{}, fmt.Errorf("sensor %s: %w", id, ErrNotFound)
}

// TestLambdaBadEvents: an event no server would take as a request is answered
// 400 with a JSON error, never an invocation error (API Gateway's 500); a
// percent-encoded path is read as the client sent it.
func TestLambdaBadEvents(t *testing.T) {
	h := Lambda((&Server{}).Handler())
	tests := []struct {
		name, method, path, body string
		b64                      bool
		status                   int
		want                     string
	}{
		{"bad base64", "POST", "/v1/orgs/acme/rules", "!!", true, 400, "body: invalid base64"},
		{"bad method", "GE T", "/v1/orgs/acme/rules", "", false, 400, `method "GE T": not an HTTP method`},
		{"relative path", "GET", "v1/orgs/acme/rules", "", false, 400, `path "v1/orgs/acme/rules": not an absolute path`},
		{"bad escape", "GET", "/v1/orgs/acme/%zz", "", false, 400, `path "/v1/orgs/acme/%zz": not an absolute path`},
		{"space", "GET", "// ", "", false, 400, `path "// ": not an absolute path`},
		{"escaped org", "GET", "/v1/orgs/ac%6De/rules", "", false, 200, ""},
		{"escaped slash in the org", "GET", "/v1/orgs/acme%2Fx/rules", "", false, 403, `API key is not valid for org "acme/x"`},
	}
	for _, tc := range tests {
		in := events.APIGatewayV2HTTPRequest{RawPath: tc.path, Body: tc.body, IsBase64Encoded: tc.b64}
		in.RequestContext.HTTP.Method = tc.method
		in.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: map[string]any{"org": "acme", "role": "viewer"}}
		out, err := h(context.Background(), in)
		var body map[string]any
		if err != nil || json.Unmarshal([]byte(out.Body), &body) != nil || out.Headers["Content-Type"] != "application/json" {
			t.Errorf("%s: %v %d %v %s", tc.name, err, out.StatusCode, out.Headers, out.Body)
			continue
		}
		if msg, _ := body["error"].(string); out.StatusCode != tc.status || msg != tc.want {
			t.Errorf("%s: %d %q, want %d %q", tc.name, out.StatusCode, msg, tc.status, tc.want)
		}
	}
}
