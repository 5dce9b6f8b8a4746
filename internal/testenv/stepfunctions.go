package testenv

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// LambdaFunc is an in-process Lambda handler: the event in, the result out.
type LambdaFunc func(ctx context.Context, payload json.RawMessage) (any, error)

// LambdaEndpoint serves the Lambda Invoke API (POST
// /2015-03-31/functions/{name}/invocations) on 127.0.0.1, dispatching to fns by
// function name (the name, or the last segment of an ARN). A handler's error is
// answered as Lambda reports a function error: X-Amz-Function-Error with
// {"errorMessage", "errorType"}.
func LambdaEndpoint(t testing.TB, fns map[string]LambdaFunc) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rest, ok := strings.CutPrefix(r.URL.Path, "/2015-03-31/functions/")
		name, ok2 := strings.CutSuffix(rest, "/invocations")
		if !ok || !ok2 || r.Method != http.MethodPost {
			http.Error(w, `{"message":"unknown operation"}`, http.StatusNotFound)
			return
		}
		if i := strings.LastIndex(name, ":"); i >= 0 {
			name = name[i+1:]
		}
		fn, found := fns[name]
		if !found {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"Type":"User","message":"Function not found: %s"}`, name)
			return
		}
		payload, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, err := fn(r.Context(), payload)
		if err != nil {
			w.Header().Set("X-Amz-Function-Error", "Unhandled")
			_ = json.NewEncoder(w).Encode(map[string]string{"errorMessage": err.Error(), "errorType": "error"})
			return
		}
		_ = json.NewEncoder(w).Encode(out)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// StepFunctions returns the endpoint of a Step Functions API: AWS_ENDPOINT_URL when
// set, else a stepfunctions-local bound to 127.0.0.1 that invokes Lambda functions
// at lambdaEndpoint.
func StepFunctions(t testing.TB, lambdaEndpoint string) string {
	t.Helper()
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		return ep
	}
	return start(t, "stepfunctions-local", func(port int) *exec.Cmd {
		// The server listens on every address; bind it to loopback instead.
		script := fmt.Sprintf(`const http = require('http');
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (port, cb) { return listen.call(this, port, '127.0.0.1', cb); };
require('stepfunctions-local').start({port: %d, region: 'us-east-1', lambdaEndpoint: %q, lambdaRegion: 'us-east-1'});`, port, lambdaEndpoint)
		cmd := nodeCommand(t, "stepfunctions-local", "-e", script)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1")
		return cmd
	})
}
