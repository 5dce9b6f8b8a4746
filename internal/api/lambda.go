package api

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Lambda serves h to API Gateway HTTP API (payload format 2.0) requests, so the api
// function runs the very handler `vigil local` serves.
func Lambda(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, in events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		body := in.Body
		if in.IsBase64Encoded {
			b, err := base64.StdEncoding.DecodeString(in.Body)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest, Body: `{"error":"body: invalid base64"}`}, nil
			}
			body = string(b)
		}
		u := url.URL{Path: in.RawPath, RawQuery: in.RawQueryString}
		req, err := http.NewRequestWithContext(ctx, in.RequestContext.HTTP.Method, u.String(), strings.NewReader(body))
		if err != nil {
			return events.APIGatewayV2HTTPResponse{}, fmt.Errorf("api: build request: %w", err)
		}
		for k, v := range in.Headers {
			req.Header.Set(k, v)
		}
		if a := in.RequestContext.Authorizer; a != nil {
			if org, ok := a.Lambda["org"].(string); ok && org != "" {
				req = req.WithContext(WithOrg(req.Context(), org))
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

// admittedOrg carries the org a request was admitted for before it reached the
// API: by API Gateway's Lambda authorizer, or by whoever serves the API (a
// dashboard session, a local control socket).
type admittedOrg struct{}

// WithOrg returns ctx admitting its request for org: the API then checks no key,
// only that the path's org is org. The server's owner calls it once it has
// authenticated the request some other way (a dashboard session cookie, a peer
// on a socket only the owner can reach); nothing a client sends sets it.
func WithOrg(ctx context.Context, org string) context.Context {
	return context.WithValue(ctx, admittedOrg{}, org)
}

// Authorizer is the HTTP API's Lambda authorizer (simple responses): it admits a
// request whose bearer key is known, not revoked and of the org in the path, and
// hands the org to the api function in the authorizer context, so the api function
// needs no access to the keys. API Gateway caches an authorization for the
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
		if !found || k.Revoked {
			return deny, nil
		}
		if org := orgOf(in.RawPath); org != "" && org != k.Org {
			return deny, nil
		}
		return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: map[string]any{"org": k.Org, "key": k.Name}}, nil
	}
}
