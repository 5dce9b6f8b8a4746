package main

import (
	"reflect"
	"slices"
	"testing"
)

// eksContext subscribes two EKS clusters' audit logs to the ingest stream, as
// `cdk deploy -c eksAuditLogGroups=/aws/eks/prod-eu/cluster,/aws/eks/staging/cluster`.
var eksContext = map[string]any{"eksAuditLogGroups": "/aws/eks/prod-eu/cluster,/aws/eks/staging/cluster"}

// TestEKSAudit: with eksAuditLogGroups, each log group has a subscription
// filter of its audit events to the ingest stream, through a role only
// CloudWatch Logs of the stack's account and region assumes, which may put
// records on the stream and encrypt them with the ingest key through Kinesis,
// and nothing else; without it, neither exists.
func TestEKSAudit(t *testing.T) {
	t.Run("without the option", func(t *testing.T) {
		s := synthApp(t, nil)
		if fs := resourcesOf(s.json, "AWS::Logs::SubscriptionFilter"); len(fs) != 0 {
			t.Errorf("subscription filters %v without eksAuditLogGroups", sortedKeys(fs))
		}
		if roleOf(s.json, "logs.") != "" {
			t.Errorf("a role CloudWatch Logs assumes without eksAuditLogGroups")
		}
	})

	s := synthApp(t, eksContext)
	ids := idsOf(t, s)
	role := roleOf(s.json, "logs.")
	if role == "" {
		t.Fatal("no role CloudWatch Logs assumes")
	}
	t.Run("filters", func(t *testing.T) {
		filters := resourcesOf(s.json, "AWS::Logs::SubscriptionFilter")
		var groups []string
		for id, f := range filters {
			p := props(f)
			g, _ := p["LogGroupName"].(string)
			groups = append(groups, g)
			want := map[string]any{
				"FilterName":     "vigil-eks-audit",
				"FilterPattern":  `{ $.kind = "Event" }`,
				"DestinationArn": arn(ids.stream),
				"RoleArn":        arn(role),
			}
			for k, v := range want {
				if !reflect.DeepEqual(p[k], v) {
					t.Errorf("filter %s: %s = %v, want %v", id, k, p[k], v)
				}
			}
			// the role's policy is in place when CloudWatch Logs tries the stream
			deps, _ := f["DependsOn"].([]any)
			policyDep := slices.ContainsFunc(deps, func(d any) bool {
				p, ok := s.json["Resources"].(map[string]any)[d.(string)].(map[string]any)
				return ok && p["Type"] == "AWS::IAM::Policy"
			})
			if !slices.Contains(deps, any(role)) || !policyDep {
				t.Errorf("filter %s depends on %v, want the role %s and its policy", id, deps, role)
			}
		}
		slices.Sort(groups)
		if want := []string{"/aws/eks/prod-eu/cluster", "/aws/eks/staging/cluster"}; !slices.Equal(groups, want) {
			t.Errorf("filters on %v, want %v", groups, want)
		}
	})

	t.Run("trust", func(t *testing.T) {
		doc, _ := props(resourcesOf(s.json, "AWS::IAM::Role")[role])["AssumeRolePolicyDocument"].(map[string]any)
		stmts, _ := doc["Statement"].([]any)
		if len(stmts) != 1 {
			t.Fatalf("trust statements %v, want one", stmts)
		}
		st := stmts[0].(map[string]any)
		service := render(t, st["Principal"].(map[string]any)["Service"], refName)
		if service != "logs.<AWS::Region>.amazonaws.com" || st["Action"] != "sts:AssumeRole" {
			t.Errorf("trusts %s for %v, want logs.<AWS::Region>.amazonaws.com for sts:AssumeRole", service, st["Action"])
		}
		cond, _ := st["Condition"].(map[string]any)["StringLike"].(map[string]any)
		if src := render(t, cond["aws:SourceArn"], refName); src != "arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:*" {
			t.Errorf("aws:SourceArn %q, want CloudWatch Logs of the stack's account and region", src)
		}
	})

	t.Run("grants", func(t *testing.T) {
		stmts := statementsOf(s.json, role)
		for _, a := range []string{"kinesis:PutRecord", "kinesis:PutRecords"} {
			if !allows(stmts, a, arn(ids.stream)) {
				t.Errorf("no %s on the stream; granted there: %v", a, grantedOn(stmts, arn(ids.stream)))
			}
		}
		if !allows(stmts, "kms:GenerateDataKey", arn(ids.key)) {
			t.Errorf("no kms:GenerateDataKey on the ingest key; granted there: %v", grantedOn(stmts, arn(ids.key)))
		}
		var all []string
		for _, st := range stmts {
			all = append(all, st.Actions...)
		}
		slices.Sort(all)
		if want := []string{"kinesis:PutRecord", "kinesis:PutRecords", "kms:GenerateDataKey"}; !slices.Equal(all, want) {
			t.Errorf("the role may %v, want only %v", all, want)
		}
	})
}

// TestOnlyAPIPutsOnStream: of the functions, only the api (the audit webhook)
// puts records on the ingest stream.
func TestOnlyAPIPutsOnStream(t *testing.T) {
	s := synthApp(t, nil)
	ids := idsOf(t, s)
	for name, f := range functionsByName(t, s.json) {
		puts := allows(statementsOf(s.json, f.role), "kinesis:PutRecords", arn(ids.stream))
		if puts != (name == fnAPI) {
			t.Errorf("%s function puts on the stream: %v", name, puts)
		}
	}
}

// roleOf returns the logical id of the role whose trust policy names a service
// principal starting with prefix, or "".
func roleOf(tmpl map[string]any, prefix string) string {
	for id, r := range resourcesOf(tmpl, "AWS::IAM::Role") {
		doc, _ := props(r)["AssumeRolePolicyDocument"].(map[string]any)
		found := false
		walkStrings(doc["Statement"], func(s string) {
			if len(s) >= len(prefix) && s[:len(prefix)] == prefix {
				found = true
			}
		})
		if found {
			return id
		}
	}
	return ""
}
