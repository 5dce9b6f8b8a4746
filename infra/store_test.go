package main

import (
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
)

// tableIDs returns the logical id of each table by its construct id (the
// logical id without CDK's hash: "TasksTable").
func tableIDs(t *testing.T, tmpl map[string]any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for id := range resourcesOf(tmpl, "AWS::DynamoDB::Table") {
		if len(id) <= 8 {
			t.Fatalf("table %q: no construct id before the hash", id)
		}
		out[id[:len(id)-8]] = id
	}
	return out
}

func gsi(name, partition, sort string) map[string]any {
	return map[string]any{
		"IndexName": name,
		"KeySchema": []any{
			map[string]any{"AttributeName": partition, "KeyType": "HASH"},
			map[string]any{"AttributeName": sort, "KeyType": "RANGE"},
		},
		"Projection": map[string]any{"ProjectionType": "ALL"},
	}
}

func TestStore(t *testing.T) {
	s := synthApp(t, nil)
	if got := len(resourcesOf(s.json, "AWS::DynamoDB::Table")); got != 6 {
		t.Fatalf("%d tables, want 6", got)
	}
	ids := tableIDs(t, s.json)

	attrs := func(names ...string) any {
		var want []any
		for _, n := range names {
			want = append(want, map[string]any{"AttributeName": n, "AttributeType": "S"})
		}
		return assertions.Match_ArrayEquals(&want)
	}
	hash := func(name string) any {
		return []any{map[string]any{"AttributeName": name, "KeyType": "HASH"}}
	}
	tests := []struct {
		name  string
		key   string
		props map[string]any
	}{
		{
			name: "detections",
			key:  "DetectionsTable",
			props: map[string]any{
				"KeySchema":            hash("id"),
				"AttributeDefinitions": attrs("id", "sensor_id", "time_id", "tag"),
				"GlobalSecondaryIndexes": []any{
					gsi("by_sensor", "sensor_id", "time_id"),
					gsi("by_tag", "tag", "time_id"),
				},
				"TimeToLiveSpecification": assertions.Match_Absent(),
			},
		},
		{
			name: "sensors",
			key:  "SensorsTable",
			props: map[string]any{
				"KeySchema":              hash("sensor_id"),
				"AttributeDefinitions":   attrs("sensor_id"),
				"GlobalSecondaryIndexes": assertions.Match_Absent(),
			},
		},
		{
			name: "tasks",
			key:  "TasksTable",
			props: map[string]any{
				"KeySchema":               hash("task_id"),
				"AttributeDefinitions":    attrs("task_id", "sensor_id", "created"),
				"GlobalSecondaryIndexes":  []any{gsi("by_sensor", "sensor_id", "created")},
				"TimeToLiveSpecification": map[string]any{"AttributeName": "expires_at", "Enabled": true},
			},
		},
		{
			name: "api keys",
			key:  "ApiKeysTable",
			props: map[string]any{
				"KeySchema":              hash("key_hash"),
				"AttributeDefinitions":   attrs("key_hash"),
				"GlobalSecondaryIndexes": assertions.Match_Absent(),
			},
		},
		{
			name: "task bells",
			key:  "TaskBellsTable",
			props: map[string]any{
				"KeySchema":               hash("sensor_id"),
				"AttributeDefinitions":    attrs("sensor_id"),
				"GlobalSecondaryIndexes":  assertions.Match_Absent(),
				"TimeToLiveSpecification": assertions.Match_Absent(),
				// DynamoDB's own key (SSEEnabled false: encrypted at rest,
				// not with KMS): no KMS request for a sensor's read
				"SSESpecification": map[string]any{"SSEEnabled": false},
			},
		},
		{
			name: "rule state",
			key:  "RuleStateTable",
			props: map[string]any{
				"KeySchema":               hash("key"),
				"AttributeDefinitions":    attrs("key"),
				"TimeToLiveSpecification": map[string]any{"AttributeName": "expires_at", "Enabled": true},
			},
		},
	}
	common := map[string]any{
		"BillingMode":                      "PAY_PER_REQUEST",
		"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
		"SSESpecification":                 map[string]any{"SSEEnabled": true},
		"ProvisionedThroughput":            assertions.Match_Absent(),
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, ok := ids[tt.key]
			if !ok {
				t.Fatalf("no table %q (tables: %v)", tt.key, ids)
			}
			want := map[string]any{}
			for k, v := range common {
				want[k] = v
			}
			for k, v := range tt.props {
				want[k] = v
			}
			matchResource(t, s, id, map[string]any{"Properties": want, "DeletionPolicy": "Retain"})
		})
	}
}
