package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/vigil-sec/vigil/internal/testcheck"
)

// detectionFixture is a detection's wire form with its explanation, as package
// detect writes it and the API serves it.
const detectionFixture = "../../internal/detect/testdata/detection_explained.json"

func TestDetectionsGet(t *testing.T) {
	body, err := os.ReadFile(detectionFixture)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer k" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.Method == http.MethodGet && r.URL.Path == "/v1/orgs/acme/detections/c407d015d765a4efa4e8878cd5d01c0d" {
			w.Write(body)
			return
		}
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"not found"}`))
	}))
	t.Cleanup(srv.Close)
	api := []string{"--api-url", srv.URL, "--api-key", "k", "--org", "acme"}
	tests := []struct {
		name    string
		args    []string
		code    int
		wantOut []string // in order
		wantErr string
	}{
		{
			name: "text: key fields and the tree",
			args: []string{"detections", "get", "c407d015d765a4efa4e8878cd5d01c0d"},
			wantOut: []string{
				"detection c407d015d765a4efa4e8878cd5d01c0d",
				"rule:     web_server_shell (web server spawns a shell)",
				"severity: high",
				"sensor:   s-1 (web-1)",
				"key fields:",
				`event/FILE_PATH: "/bin/sh"`,
				`event/COMMAND_LINE: "sh -c id"`,
				"why it fired:",
				"with child within 10m0s",
				"parent process:",
				"01KAQ0000000000000000000P1 2025-11-22T08:26:40.000Z NEW_PROCESS",
				`event/COMMAND_LINE: "nginx: worker process"`,
				"detection (on the parent process):",
				`✓ event/FILE_PATH ends with "/nginx": actual "/usr/sbin/nginx"`,
				"child (this event):",
				"✓ and",
				`    ✓ event/FILE_NAME in list ["sh", "bash", "dash"]: actual "sh"`,
				`    ✓ event/COMMAND_LINE contains "-c": actual "sh -c id"`,
			},
		},
		{name: "unknown id", args: []string{"detections", "get", "nope"}, code: 1, wantErr: "detection nope: not found in org acme"},
		{name: "no id", args: []string{"detections", "get"}, code: 2, wantErr: "accepts 1 arg"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, stderr, code := runCLI(t, append(tc.args, api...)...)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", code, tc.code, out, stderr)
			}
			testcheck.InOrder(t, "output", out, tc.wantOut)
			if tc.wantErr != "" {
				testcheck.InOrder(t, "stderr", stderr, []string{tc.wantErr})
			}
		})
	}
	out, stderr, code := runCLI(t, append([]string{"detections", "get", "--json", "c407d015d765a4efa4e8878cd5d01c0d"}, api...)...)
	var got struct {
		ID          string
		Explanation struct {
			Matched bool
			Earlier []struct{ ID string }
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &got) != nil || !got.Explanation.Matched || len(got.Explanation.Earlier) != 1 {
		t.Fatalf("--json: exit %d %s%s", code, out, stderr)
	}
}
