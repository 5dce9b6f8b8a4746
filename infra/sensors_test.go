package main

import (
	"reflect"
	"slices"
	"testing"
)

func TestSensorRole(t *testing.T) {
	s := synthApp(t, nil)
	ids := idsOf(t, s)
	_, profile := onlyResource(t, s.json, "AWS::IAM::InstanceProfile")
	roles, _ := profile["Roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("instance profile roles %v", roles)
	}
	role := roles[0].(map[string]any)["Ref"].(string)

	res := resourcesOf(s.json, "AWS::IAM::Role")[role]
	p := props(res)
	trust := p["AssumeRolePolicyDocument"].(map[string]any)["Statement"].([]any)
	wantTrust := []any{map[string]any{
		"Action": "sts:AssumeRole", "Effect": "Allow",
		"Principal": map[string]any{"Service": "ec2.amazonaws.com"},
	}}
	if !reflect.DeepEqual(trust, wantTrust) {
		t.Errorf("trust policy %v, want EC2 only", trust)
	}
	if p["ManagedPolicyArns"] != nil || p["Policies"] != nil {
		t.Errorf("role has managed or inline policies: %v %v", p["ManagedPolicyArns"], p["Policies"])
	}

	region := ref("AWS::Region")
	viaServices := map[string]any{"StringEquals": map[string]any{"kms:ViaService": []any{
		join("kinesis.", region, ".amazonaws.com"),
		join("s3.", region, ".amazonaws.com"),
	}}}
	want := []statement{
		{Sid: "PutEventBatches", Effect: "Allow", Actions: []string{"kinesis:PutRecord", "kinesis:PutRecords"},
			Resources: []any{arn(ids.stream)}},
		{Sid: "PutLakeObjects", Effect: "Allow", Actions: []string{"s3:AbortMultipartUpload", "s3:PutObject"},
			Resources: []any{join(arn(ids.lake), "/artifacts/*"), join(arn(ids.lake), "/events/*")}},
		{Sid: "UseIngestKeyThroughKinesisAndS3", Effect: "Allow", Actions: []string{"kms:Decrypt", "kms:GenerateDataKey"},
			Resources: []any{arn(ids.key)}, Condition: viaServices},
		// user-data's VIGIL_API_KEY_PARAMETER and install-sensor.sh --ssm-parameter
		{Sid: "ReadSensorParameters", Effect: "Allow", Actions: []string{"ssm:GetParameter"},
			Resources: []any{join("arn:", ref("AWS::Partition"), ":ssm:", region, ":", ref("AWS::AccountId"), ":parameter/vigil/*")}},
		// respond.task_bell_table: a bell's number, nothing else of the table
		{Sid: "ReadTaskBells", Effect: "Allow", Actions: []string{"dynamodb:GetItem"}, Resources: []any{arn(ids.bells)},
			Condition: map[string]any{
				"ForAllValues:StringEquals": map[string]any{"dynamodb:Attributes": []any{"sensor_id", "seq"}},
				"StringEqualsIfExists":      map[string]any{"dynamodb:Select": "SPECIFIC_ATTRIBUTES"},
			}},
	}
	got := statementsOf(s.json, role)
	for i := range got {
		slices.Sort(got[i].Actions)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sensor role statements\n got %+v\nwant %+v", got, want)
	}
}
