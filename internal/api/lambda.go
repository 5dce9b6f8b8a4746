package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Lambda serves h to API Gateway HTTP API (payload format 2.0) requests, so the api
// function runs the very handler `vigil local` serves. The event's rawPath is
// the path as the client sent it, percent-encoded, and is read as net/http's
// server reads a request line's; an event no server would take (a path that
// does not parse or holds a space, a method that is no HTTP token, a body that
// is not base64 where it says it is) is answered 400 with a JSON error.
func Lambda(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, in events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		body := in.Body
		if in.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(in.Body)
			if err != nil {
				return lambdaError(http.StatusBadRequest, "body: invalid base64"), nil
			}
			body = string(b)
		}
		req, err := http.NewRequestWithContext(ctx, in.RequestContext.HTTP.Method, "/", strings.NewReader(body))
		if err != nil {
			return lambdaError(http.StatusBadRequest, fmt.Sprintf("method %q: not an HTTP method", in.RequestContext.HTTP.Method)), nil
		}
		u, err := url.ParseRequestURI(in.RawPath)
		if err != nil || !strings.HasPrefix(in.RawPath, "/") || strings.Contains(in.RawPath, " ") {
			return lambdaError(http.StatusBadRequest, fmt.Sprintf("path %q: not an absolute path", in.RawPath)), nil
		}
		u.RawQuery = in.RawQueryString
		req.URL, req.RequestURI = u, u.RequestURI()
		for k, v := range in.Headers {
			req.Header.Set(k, v)
		}
		if a := in.RequestContext.Authorizer; a != nil {
			if org, ok := a.Lambda["org"].(string); ok && org != "" {
				// the authorizer's context (see Authorizer): an authorizer of a
				// version before roles sends no role, and its keys had none
				name, _ := a.Lambda["key"].(string)
				role, _ := a.Lambda["role"].(string)
				sensor, _ := a.Lambda["sensor_id"].(string)
				req = req.WithContext(WithIdentity(req.Context(), Identity{Org: org, Name: name, Role: Role(role), SensorID: sensor}))
			}
		}
		for _, c := range in.Cookies {
			req.Header.Add("Cookie", c)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		out := events.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Body: rec.Body.String(), Headers: map[string]string{}}
		for k, v := range rec.Header() {
			out.Headers[k] = strings.Join(v, ", ")
		}
		return out, nil
	}
}

// lambdaError is an error answered without reaching the handler, as the
// handler answers its own.
func lambdaError(status int, msg string) events.APIGatewayV2HTTPResponse {
	b, _ := json.Marshal(map[string]string{"error": msg})
	return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: string(b) + "\n", Headers: map[string]string{"Content-Type": "application/json"}}
}

// Authorizer is the HTTP API's Lambda authorizer (simple responses): it admits a
// request whose bearer key is known, not revoked and of the org in the path, and
// hands the key's org, name, role (EffectiveRole) and sensor id to the api
// function in the authorizer context, so the api function enforces the key's
// role with no access to the keys. Its answer depends on the key alone, never
// on the route, since API Gateway caches it by the Authorization header. API Gateway caches an authorization for the
// authorizer's TTL: a revoked key stops working within that time.
func Authorizer(keys KeyStore) func(context.Context, events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	return func(ctx context.Context, in events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
		deny := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
		var header string
		if len(in.IdentitySource) > 0 {
			header = in.IdentitySource[0]
		}
		key, ok := strings.CutPrefix(header, "Bearer ")
		if !ok || strings.TrimSpace(key) == "" {
			return deny, nil
		}
		k, found, err := keys.Lookup(ctx, strings.TrimSpace(key))
		if err != nil {
			return deny, fmt.Errorf("authorizer: %w", err)
		}
		if !found || k.Revoked || CheckRole(EffectiveRole(k.Role), k.SensorID) != nil {
			return deny, nil
		}
		if org := orgOf(in.RawPath); org != "" && org != k.Org {
			return deny, nil
		}
		ctxOut := map[string]any{"org": k.Org, "key": k.Name, "role": string(EffectiveRole(k.Role))}
		if k.SensorID != "" {
			ctxOut["sensor_id"] = k.SensorID
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: ctxOut}, nil
	}
}
