package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/vigil-sec/vigil/internal/api"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/localrun"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestKeys creates and revokes a key in an api_keys table on a DynamoDB API.
func TestKeys(t *testing.T) {
	ep := testenv.DynamoDB(t)
	c := dynamodb.NewFromConfig(testenv.AWSConfig(t, ep))
	table := testenv.CreateTable(t, c, testenv.APIKeysTable)
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", ep)
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	run := func(args ...string) (string, error) {
		root := newRoot()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetArgs(args)
		err := root.Execute()
		return out.String(), err
	}
	out, err := run("keys", "create", "--table", table, "--org", "acme", "--name", "ci")
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(out)
	keys := &vaws.APIKeys{Client: c, Table: table}
	if k, ok, err := keys.Lookup(context.Background(), key); err != nil || !ok || k.Org != "acme" || k.Name != "ci" || k.Revoked {
		t.Fatalf("stored %+v ok=%v err=%v", k, ok, err)
	}
	out, err = run("keys", "list", "--table", table, "--org", "acme", "--json")
	var listed struct{ Keys []api.Key }
	if err != nil || json.Unmarshal([]byte(out), &listed) != nil || len(listed.Keys) != 1 || listed.Keys[0].Name != "ci" || strings.Contains(out, key) {
		t.Fatalf("keys list: %v %s", err, out)
	}
	if _, err := run("keys", "revoke", "--table", table, key); err != nil {
		t.Fatal(err)
	}
	if k, _, _ := keys.Lookup(context.Background(), key); !k.Revoked {
		t.Fatal("the key is not revoked")
	}
	for _, args := range [][]string{{"keys", "create", "--name", "x"}, {"keys", "create", "--table", table}, {"keys", "revoke", "--table", table, "vk_unknown"}} {
		if _, err := run(args...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}

// runVigil runs the CLI with args and returns its stdout.
func runVigil(args ...string) (string, error) {
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(io.Discard)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), err
}

// keyStatus is the status of the API's answer to a request made with key.
func keyStatus(t *testing.T, base, key string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/v1/orgs/local/sensors", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func listLocalKeys(t *testing.T, data string) []api.Key {
	t.Helper()
	out, err := runVigil("local", "keys", "list", "--data", data, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var got struct{ Keys []api.Key }
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("keys list --json: %v: %s", err, out)
	}
	return got.Keys
}

// TestLocalKeysCLI lists, creates and revokes vigil local's keys from the CLI:
// on the store while vigil local is stopped, and through its control socket
// while it runs, a revoked key being refused (403) at once.
func TestLocalKeysCLI(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	o := localrun.Options{Data: data, Listen: "127.0.0.1:0", LoadRules: ruleEngine(nil, false)}
	if _, err := runVigil("local", "keys", "list", "--data", data); exitCode(err) != 2 {
		t.Errorf("list without a store: %v, want a usage error", err)
	}

	a, err := localrun.New(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	first := a.APIKey()
	base := "http://" + a.Addr()

	// running: through the control socket
	out, err := runVigil("local", "keys", "create", "--data", data, "--name", "ci")
	ci := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(ci, "vk_") {
		t.Fatalf("create while running: %q %v", out, err)
	}
	if code := keyStatus(t, base, ci); code != 200 {
		t.Fatalf("the new key: %d", code)
	}
	keys := listLocalKeys(t, data)
	if len(keys) != 2 || keys[0].Name != "local" || keys[1].Name != "ci" || keys[1].Prefix != ci[:8] || keys[1].LastUsed.IsZero() ||
		keys[0].Role != api.RoleAdmin || keys[1].Role != api.RoleViewer {
		t.Fatalf("keys while running: %+v", keys)
	}
	table, err := runVigil("local", "keys", "list", "--data", data)
	if err != nil || !strings.Contains(table, "ROLE") || !strings.Contains(table, " viewer ") || !strings.Contains(table, keys[1].ID) || strings.Contains(table, ci) {
		t.Errorf("keys list: %v\n%s", err, table)
	}
	out, err = runVigil("local", "keys", "revoke", "--data", data, keys[1].ID)
	if err != nil || !strings.Contains(out, "revoked "+keys[1].ID) {
		t.Fatalf("revoke by id while running: %q %v", out, err)
	}
	if code := keyStatus(t, base, ci); code != 403 {
		t.Errorf("the revoked key: %d, want 403", code)
	}
	if _, err := runVigil("local", "keys", "revoke", "--data", data, "ci"); err == nil {
		t.Error("revoking the name of revoked keys only: no error")
	}
	a.Close()
	if _, err := os.Stat(filepath.Join(data, localrun.ControlSocket)); !os.IsNotExist(err) {
		t.Errorf("the control socket outlives vigil local: %v", err)
	}

	// stopped: on the store
	if _, err := runVigil("local", "keys", "create", "--data", data, "--name", "ci"); err != nil {
		t.Fatal(err)
	}
	out, err = runVigil("local", "keys", "revoke", "--data", data, "ci")
	if err != nil || strings.Count(out, "revoked ") != 1 {
		t.Fatalf("revoke by name on the store: %q %v", out, err)
	}
	keys = listLocalKeys(t, data)
	if len(keys) != 3 || keys[0].Revoked || !keys[1].Revoked || !keys[2].Revoked {
		t.Errorf("keys on the store: %+v", keys)
	}
	if out, err := runVigil("local", "keys", "create", "--data", data, "--name", "s9", "--role", "sensor", "--sensor", "s9"); err != nil || !strings.HasPrefix(out, "vk_") {
		t.Fatalf("create a sensor key: %q %v", out, err)
	}
	if keys := listLocalKeys(t, data); keys[len(keys)-1].Role != api.RoleSensor || keys[len(keys)-1].SensorID != "s9" {
		t.Errorf("the sensor key: %+v", keys[len(keys)-1])
	}
	for _, args := range [][]string{{"create"}, {"create", "--name", "a\nb"}, {"revoke", "0123456789abcdef"}, {"revoke", "nobody"},
		{"create", "--name", "x", "--role", "root"}, {"create", "--name", "x", "--role", "sensor"}, {"create", "--name", "x", "--sensor", "s1"}} {
		if _, err := runVigil(append([]string{"local", "keys", "--data", data}, args...)...); err == nil {
			t.Errorf("%v: no error", args)
		}
	}

	a, err = localrun.New(o)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Serve(ctx); err != nil {
		t.Fatal(err)
	}
	if code := keyStatus(t, "http://"+a.Addr(), first); code != 200 || a.APIKey() != "" {
		t.Errorf("the first key after a restart: %d (new key %q)", code, a.APIKey())
	}
}
