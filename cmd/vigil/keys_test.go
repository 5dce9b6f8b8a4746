package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	vaws "github.com/vigil-sec/vigil/internal/aws"
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
