package testenv

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// DynamoDB returns the endpoint of a DynamoDB API: AWS_ENDPOINT_URL when set, else
// a dynalite started for this test (in memory).
func DynamoDB(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv("AWS_ENDPOINT_URL"); ep != "" {
		return ep
	}
	return start(t, "dynalite", func(port int) *exec.Cmd {
		return nodeCommand(t, "dynalite", filepath.Join("node_modules", "dynalite", "cli.js"),
			"--host", "127.0.0.1", "--port", strconv.Itoa(port), "--createTableMs", "20", "--deleteTableMs", "20", "--updateTableMs", "20")
	})
}

// Table describes a table to create: its key and global secondary indexes. Every
// key attribute is a string.
type Table struct {
	Name      string
	Key       string
	SortKey   string
	Indexes   []Index
	TTLColumn string // ignored: dynalite has no UpdateTimeToLive
}

// Index is a global secondary index projecting all attributes.
type Index struct {
	Name, Key, SortKey string
}

// CreateTable creates t (with a unique suffix on the name, returned) and waits until
// it is active; it is deleted when the test ends.
func CreateTable(tb testing.TB, c *dynamodb.Client, t Table) string {
	tb.Helper()
	name := fmt.Sprintf("%s-%d", t.Name, time.Now().UnixNano())
	attrs := map[string]bool{}
	schema := func(hash, sort string) []types.KeySchemaElement {
		attrs[hash] = true
		ks := []types.KeySchemaElement{{AttributeName: aws.String(hash), KeyType: types.KeyTypeHash}}
		if sort != "" {
			attrs[sort] = true
			ks = append(ks, types.KeySchemaElement{AttributeName: aws.String(sort), KeyType: types.KeyTypeRange})
		}
		return ks
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name), KeySchema: schema(t.Key, t.SortKey), BillingMode: types.BillingModePayPerRequest}
	for _, ix := range t.Indexes {
		in.GlobalSecondaryIndexes = append(in.GlobalSecondaryIndexes, types.GlobalSecondaryIndex{
			IndexName: aws.String(ix.Name), KeySchema: schema(ix.Key, ix.SortKey),
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		})
	}
	for a := range attrs {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(a), AttributeType: types.ScalarAttributeTypeS})
	}
	ctx := context.Background()
	if _, err := c.CreateTable(ctx, in); err != nil {
		tb.Fatalf("create table %s: %v", name, err)
	}
	w := dynamodb.NewTableExistsWaiter(c, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 20 * time.Millisecond })
	if err := w.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		tb.Fatalf("table %s not active: %v", name, err)
	}
	tb.Cleanup(func() {
		_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	})
	return name
}

// The stack's tables (infra/store.go), as the stores expect them.
var (
	DetectionsTable = Table{Name: "detections", Key: "id", Indexes: []Index{
		{Name: "by_sensor", Key: "sensor_id", SortKey: "time_id"}, {Name: "by_tag", Key: "tag", SortKey: "time_id"}}}
	SensorsTable   = Table{Name: "sensors", Key: "sensor_id"}
	TasksTable     = Table{Name: "tasks", Key: "task_id", Indexes: []Index{{Name: "by_sensor", Key: "sensor_id", SortKey: "created"}}}
	APIKeysTable   = Table{Name: "api_keys", Key: "key_hash"}
	RuleStateTable = Table{Name: "rule_state", Key: "key"}
	TaskBellsTable = Table{Name: "task_bells", Key: "sensor_id"}
)
