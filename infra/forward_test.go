package main

import (
	"reflect"
	"slices"
	"testing"
)

func TestConfigFunctions(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want []string
	}{
		{"no SIEM", Config{}, []string{fnDetect, fnRespond, fnAPI, fnAuthorizer, fnTrain}},
		{"splunk", Config{SplunkHecURL: testSplunkURL}, functionNames},
		{"elasticsearch", Config{ElasticURL: testElasticURL}, functionNames},
	} {
		if got := tc.cfg.Functions(); !slices.Equal(got, tc.want) {
			t.Errorf("%s: Functions() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestForwardAbsentByDefault(t *testing.T) {
	s := synthApp(t, nil)
	if _, ok := functionsByName(t, s.json)[fnForward]; ok {
		t.Error("forward function without a SIEM")
	}
	for id := range busRules(t, s) {
		if id[:min(len(id), 7)] == "Forward" {
			t.Errorf("rule %s without a SIEM", id)
		}
	}
	if n := len(resourcesOf(s.json, "AWS::SQS::Queue")); n != 2 {
		t.Errorf("%d queues, want the detect and paging dead-letter queues", n)
	}
}

// forwardRule returns the id and properties of the one bus rule targeting fnID.
func forwardRule(t *testing.T, s *synthed, fnID string) (string, map[string]any, map[string]any) {
	t.Helper()
	for id, p := range busRules(t, s) {
		targets, _ := p["Targets"].([]any)
		for _, tg := range targets {
			if target := asMap(tg); reflect.DeepEqual(target["Arn"], arn(fnID)) {
				if len(targets) != 1 {
					t.Errorf("rule %s has %d targets, want 1", id, len(targets))
				}
				return id, p, target
			}
		}
	}
	t.Fatal("no rule on the bus targets the forward function")
	return "", nil, nil
}

func TestForward(t *testing.T) {
	tests := []struct {
		name    string
		ctx     map[string]any
		env     map[string]any // exactly these variables but VIGIL_FUNCTION and DD_*
		secrets []string
	}{
		{
			name: "splunk",
			ctx:  splunkContext,
			env: map[string]any{
				"SPLUNK_HEC_URL":          testSplunkURL,
				"SPLUNK_HEC_TOKEN_SECRET": testSplunkSecretArn,
				"SIEM_TIMEOUT":            "10s",
			},
			secrets: []string{testSplunkSecretArn},
		},
		{
			name: "splunk and elasticsearch",
			ctx:  customContext,
			env: map[string]any{
				"SPLUNK_HEC_URL":          testSplunkURL,
				"SPLUNK_HEC_TOKEN_SECRET": testSplunkSecretArn,
				"ELASTIC_URL":             testElasticURL,
				"ELASTIC_API_KEY_SECRET":  testElasticSecretArn,
				"SIEM_TIMEOUT":            "10s",
			},
			secrets: []string{testSplunkSecretArn, testElasticSecretArn},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := synthApp(t, tt.ctx)
			f, ok := functionsByName(t, s.json)[fnForward]
			if !ok {
				t.Fatal("no forward function")
			}

			t.Run("function", func(t *testing.T) {
				want := map[string]any{"Runtime": "provided.al2023", "Architectures": []any{"arm64"},
					"Handler": "bootstrap", "MemorySize": 256.0, "Timeout": 180.0}
				for k, v := range want {
					if !reflect.DeepEqual(f.props[k], v) {
						t.Errorf("%s = %v, want %v", k, f.props[k], v)
					}
				}
				env := map[string]any{}
				for k, v := range f.env {
					if k != envFunction && (len(k) < 3 || k[:3] != "DD_") {
						env[k] = v
					}
				}
				if !reflect.DeepEqual(env, tt.env) {
					t.Errorf("environment\n got %v\nwant %v", env, tt.env)
				}
				if f.env[envFunction] != fnForward {
					t.Errorf("%s = %v", envFunction, f.env[envFunction])
				}
			})

			t.Run("secrets", func(t *testing.T) {
				stmts := statementsOf(s.json, f.role)
				for _, arn := range []string{testSplunkSecretArn, testElasticSecretArn} {
					want := slices.Contains(tt.secrets, arn)
					if got := allows(stmts, "secretsmanager:GetSecretValue", arn); got != want {
						t.Errorf("GetSecretValue on %s: %v, want %v", arn, got, want)
					}
				}
				for _, st := range stmts {
					if st.Effect == "Allow" && slices.Contains(st.Resources, any("*")) {
						t.Errorf("statement %v allows on every resource", st.Actions)
					}
				}
			})

			ruleID, rule, target := forwardRule(t, s, f.id)
			dlq := asMap(asMap(target["DeadLetterConfig"])["Arn"])
			att, _ := dlq["Fn::GetAtt"].([]any)
			if len(att) != 2 {
				t.Fatalf("rule %s: dead-letter queue %v", ruleID, target["DeadLetterConfig"])
			}
			queue := att[0].(string)

			t.Run("rule", func(t *testing.T) {
				wantPattern := map[string]any{"source": []any{"vigil"}, "detail-type": []any{"Detection"}}
				if !reflect.DeepEqual(rule["EventPattern"], wantPattern) {
					t.Errorf("pattern %v, want %v", rule["EventPattern"], wantPattern)
				}
				if rule["State"] != "ENABLED" {
					t.Errorf("state %v", rule["State"])
				}
				if want := map[string]any{"MaximumEventAgeInSeconds": 86400.0, "MaximumRetryAttempts": 185.0}; !reflect.DeepEqual(target["RetryPolicy"], want) {
					t.Errorf("retry policy %v, want %v", target["RetryPolicy"], want)
				}
				if target["Input"] != nil || target["InputTransformer"] != nil {
					t.Errorf("the target rewrites the event: %v %v", target["Input"], target["InputTransformer"])
				}
				found := false
				for _, r := range resourcesOf(s.json, "AWS::Lambda::Permission") {
					p := props(r)
					if reflect.DeepEqual(p["FunctionName"], arn(f.id)) && p["Principal"] == "events.amazonaws.com" &&
						reflect.DeepEqual(p["SourceArn"], arn(ruleID)) && p["Action"] == "lambda:InvokeFunction" {
						found = true
					}
				}
				if !found {
					t.Error("the rule may not invoke the function")
				}
			})

			t.Run("dead-letter queue", func(t *testing.T) {
				if queue == resourceIDs(t, s.tmpl).queue {
					t.Error("forward shares the detect dead-letter queue")
				}
				matchResource(t, s, queue, map[string]any{"Properties": map[string]any{
					"SqsManagedSseEnabled":   true,
					"MessageRetentionPeriod": 14 * 86400,
				}})
				tls := false
				for _, r := range resourcesOf(s.json, "AWS::SQS::QueuePolicy") {
					p := props(r)
					if !reflect.DeepEqual(p["Queues"], []any{ref(queue)}) {
						continue
					}
					doc := asMap(p["PolicyDocument"])
					for _, st := range doc["Statement"].([]any) {
						m := asMap(st)
						if m["Effect"] == "Deny" && reflect.DeepEqual(m["Condition"],
							map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}}) {
							tls = true
						}
					}
				}
				if !tls {
					t.Error("the dead-letter queue accepts requests without TLS")
				}
				// Failed runs of the function land there too.
				for _, r := range resourcesOf(s.json, "AWS::Lambda::EventInvokeConfig") {
					p := props(r)
					if !reflect.DeepEqual(p["FunctionName"], ref(f.id)) {
						continue
					}
					want := map[string]any{"OnFailure": map[string]any{"Destination": arn(queue)}}
					if !reflect.DeepEqual(p["DestinationConfig"], want) || p["MaximumRetryAttempts"] != 2.0 {
						t.Errorf("asynchronous invocation %v retries %v, want failures to the queue after 2", p["DestinationConfig"], p["MaximumRetryAttempts"])
					}
					return
				}
				t.Error("no asynchronous invocation settings for the forward function")
			})

			t.Run("alarms", func(t *testing.T) {
				want := map[string][]any{
					"Errors": {map[string]any{"Name": "FunctionName", "Value": ref(f.id)}},
					"ApproximateNumberOfMessagesVisible": {map[string]any{"Name": "QueueName",
						"Value": map[string]any{"Fn::GetAtt": []any{queue, "QueueName"}}}},
				}
				for metric, dims := range want {
					found := false
					for _, a := range resourcesOf(s.json, "AWS::CloudWatch::Alarm") {
						p := props(a)
						if p["MetricName"] == metric && reflect.DeepEqual(p["Dimensions"], dims) {
							found = p["Threshold"] == 0.0 && p["ComparisonOperator"] == "GreaterThanThreshold"
						}
					}
					if !found {
						t.Errorf("no alarm on %s > 0 of %v", metric, dims)
					}
				}
			})
		})
	}
}
