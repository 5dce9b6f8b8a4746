package main

import (
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// contractPattern is the agreed pattern of detections that page.
const contractPattern = `{"source":["vigil"],"detail-type":["Detection"],"detail":{"severity":["high","critical"]}}`

// busRules returns the rules on the bus by logical id.
func busRules(t *testing.T, s *synthed) map[string]map[string]any {
	t.Helper()
	bus, _ := onlyResource(t, s.json, "AWS::Events::EventBus")
	out := map[string]map[string]any{}
	for id, r := range resourcesOf(s.json, "AWS::Events::Rule") {
		if p := props(r); reflect.DeepEqual(p["EventBusName"], ref(bus)) {
			out[id] = p
		}
	}
	if len(out) == 0 {
		t.Fatal("no rule on the bus")
	}
	return out
}

// pagingRules returns the paging rules (one per pagingRoutes entry) by logical id:
// the rules of the bus but the forward rule.
func pagingRules(t *testing.T, s *synthed) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	for id, p := range busRules(t, s) {
		for _, r := range pagingRoutes {
			if strings.HasPrefix(id, r.id) {
				out[id] = p
			}
		}
	}
	if len(out) != len(pagingRoutes) {
		t.Fatalf("paging rules %v, want one per paging severity", sortedKeys(out))
	}
	return out
}

func TestBus(t *testing.T) {
	for _, tc := range []struct {
		name, ctxName string
		ctx           map[string]any
		want          string
	}{
		{"default name", "defaults", nil, "vigil"},
		{"busName context", "custom", customContext, "vigil-test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthApp(t, tc.ctx)
			id, p := onlyResource(t, s.json, "AWS::Events::EventBus")
			if p["Name"] != tc.want {
				t.Errorf("bus name %v, want %s", p["Name"], tc.want)
			}
			_, archive := onlyResource(t, s.json, "AWS::Events::Archive")
			want := map[string]any{
				"SourceArn":     arn(id),
				"RetentionDays": 30.0,
				"EventPattern":  map[string]any{"account": []any{ref("AWS::AccountId")}},
			}
			for k, v := range want {
				if !reflect.DeepEqual(archive[k], v) {
					t.Errorf("archive %s = %v, want %v", k, archive[k], v)
				}
			}
		})
	}
}

// TestPagingRules: one rule per paging severity; each pattern is the contract's with
// the severity narrowed to one value, and together they cover exactly the contract.
func TestPagingRules(t *testing.T) {
	s := synthApp(t, nil)
	var contract map[string]any
	if err := json.Unmarshal([]byte(contractPattern), &contract); err != nil {
		t.Fatal(err)
	}
	rules := busRules(t, s) // every rule of the bus: none but the paging rules without a SIEM
	var covered []any
	for id, p := range rules {
		pattern, _ := p["EventPattern"].(map[string]any)
		detail, _ := pattern["detail"].(map[string]any)
		sev, _ := detail["severity"].([]any)
		if len(sev) != 1 {
			t.Errorf("rule %s: severities %v, want one", id, sev)
			continue
		}
		covered = append(covered, sev[0])
		want := map[string]any{
			"source":      contract["source"],
			"detail-type": contract["detail-type"],
			"detail":      map[string]any{"severity": []any{sev[0]}},
		}
		if !reflect.DeepEqual(pattern, want) {
			t.Errorf("rule %s: pattern %v, want %v", id, pattern, want)
		}
		if p["State"] != "ENABLED" {
			t.Errorf("rule %s: state %v", id, p["State"])
		}
	}
	wantSev := contract["detail"].(map[string]any)["severity"].([]any)
	slices.SortFunc(covered, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	slices.SortFunc(wantSev, func(a, b any) int { return strings.Compare(a.(string), b.(string)) })
	if !reflect.DeepEqual(covered, wantSev) {
		t.Errorf("the rules page for %v, want %v", covered, wantSev)
	}
}

var placeholderRE = regexp.MustCompile(`<([A-Za-z0-9_-]+)>`)

// pagerDutyBody renders a target's input template with the secret reference given as
// secretRef, the unquoted placeholders as "<name>" strings, and decodes it.
func pagerDutyBody(t *testing.T, target map[string]any, secretRef func(map[string]any) string) (map[string]any, map[string]any) {
	t.Helper()
	tr, _ := target["InputTransformer"].(map[string]any)
	text := render(t, tr["InputTemplate"], secretRef)
	// A placeholder inside a string stays; one standing for a whole JSON value is quoted.
	var quoted strings.Builder
	inString := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '"' && (i == 0 || text[i-1] != '\\'):
			inString = !inString
		case c == '<' && !inString:
			end := strings.IndexByte(text[i:], '>')
			quoted.WriteString(`"` + text[i:i+end+1] + `"`)
			i += end
			continue
		}
		quoted.WriteByte(c)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(quoted.String()), &body); err != nil {
		t.Fatalf("input template is not JSON once its placeholders are filled: %v\n%s", err, text)
	}
	paths, _ := tr["InputPathsMap"].(map[string]any)
	return body, paths
}

func TestPagerDutyTarget(t *testing.T) {
	for _, tc := range []struct {
		name string
		ctx  map[string]any
	}{
		{"created secret", nil},
		{"existing secret", customContext},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := synthApp(t, tc.ctx)
			secretArn := any(testPagerDutySecretArn) // as it appears in the template
			if tc.ctx == nil {
				secretID, _ := onlyResource(t, s.json, "AWS::SecretsManager::Secret")
				secretArn = ref(secretID)
			}
			wantRef := "{{resolve:secretsmanager:<SECRET>:SecretString:routing_key::}}"
			secretRef := func(m map[string]any) string {
				if reflect.DeepEqual(m, secretArn) {
					return "<SECRET>"
				}
				t.Errorf("unexpected intrinsic %v in the input template", m)
				return ""
			}
			// With an existing secret the ARN is a literal of the template.
			literal := func(s string) string { return strings.ReplaceAll(s, testPagerDutySecretArn, "<SECRET>") }

			connID, conn := onlyResource(t, s.json, "AWS::Events::Connection")
			auth, _ := conn["AuthParameters"].(map[string]any)["ApiKeyAuthParameters"].(map[string]any)
			if conn["AuthorizationType"] != "API_KEY" || auth["ApiKeyName"] != pagerDutyHeader {
				t.Errorf("connection %v, want API_KEY auth with header %s", conn, pagerDutyHeader)
			}
			if got := literal(render(t, auth["ApiKeyValue"], secretRef)); got != wantRef {
				t.Errorf("connection key value %q, want the dynamic reference %q", got, wantRef)
			}

			destID, dest := onlyResource(t, s.json, "AWS::Events::ApiDestination")
			wantDest := map[string]any{
				"ConnectionArn":      arn(connID),
				"InvocationEndpoint": "https://events.pagerduty.com/v2/enqueue",
				"HttpMethod":         "POST",
			}
			for k, v := range wantDest {
				if !reflect.DeepEqual(dest[k], v) {
					t.Errorf("API destination %s = %v, want %v", k, dest[k], v)
				}
			}

			for id, rule := range pagingRules(t, s) {
				targets, _ := rule["Targets"].([]any)
				if len(targets) != 1 {
					t.Fatalf("rule %s: %d targets, want 1", id, len(targets))
				}
				target := targets[0].(map[string]any)
				if !reflect.DeepEqual(target["Arn"], arn(destID)) {
					t.Errorf("rule %s targets %v, want the API destination", id, target["Arn"])
				}
				if target["RoleArn"] == nil || target["DeadLetterConfig"] == nil {
					t.Errorf("rule %s: target without role or dead-letter queue: %v", id, target)
				}

				body, paths := pagerDutyBody(t, target, secretRef)
				body["routing_key"] = literal(body["routing_key"].(string))
				severity := rule["EventPattern"].(map[string]any)["detail"].(map[string]any)["severity"].([]any)[0]
				wantSeverity := map[any]string{"critical": "critical", "high": "error"}[severity]
				// The placeholders are resolved through the paths map.
				resolve := func(v any) any {
					if str, ok := v.(string); ok {
						return placeholderRE.ReplaceAllStringFunc(str, func(p string) string {
							path, _ := paths[p[1:len(p)-1]].(string)
							return "{" + path + "}"
						})
					}
					return v
				}
				payload, _ := body["payload"].(map[string]any)
				got := map[string]any{
					"routing_key":  body["routing_key"],
					"event_action": body["event_action"],
					"dedup_key":    resolve(body["dedup_key"]),
					"summary":      resolve(payload["summary"]),
					"severity":     payload["severity"],
					"source":       resolve(payload["source"]),
					"custom":       resolve(payload["custom_details"]),
				}
				want := map[string]any{
					"routing_key":  wantRef,
					"event_action": "trigger",
					"dedup_key":    "{$.detail.id}",
					"summary":      "{$.detail.name} on {$.detail.hostname}",
					"severity":     wantSeverity,
					"source":       "{$.detail.hostname}",
					"custom":       "{$.detail}",
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("rule %s: PagerDuty body\n got %v\nwant %v", id, got, want)
				}
				if len(body) != 4 || len(payload) != 4 {
					t.Errorf("rule %s: body has extra fields: %v", id, body)
				}
			}
		})
	}
}

// TestNoRoutingKeyInTemplate: the template holds the routing key only as a dynamic
// reference, never as a value.
func TestNoRoutingKeyInTemplate(t *testing.T) {
	for _, ctx := range []map[string]any{nil, customContext} {
		s := synthApp(t, ctx)
		// Every mention of routing_key in a value of the template is part of a dynamic
		// reference, the name of the generated field, or the secret's description.
		arnRE := regexp.MustCompile(`arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+`)
		allowed := regexp.MustCompile(`(?:"routing_key":")?\{\{resolve:secretsmanager:(?:<ARN>:SecretString:routing_key::\}\})?|` +
			`^:SecretString:routing_key::\}\}|\{"routing_key": "\.\.\."\}`)
		walkValues(s.json, func(str string) {
			if str != "routing_key" && strings.Contains(allowed.ReplaceAllString(arnRE.ReplaceAllString(str, "<ARN>"), ""), "routing_key") {
				t.Errorf("routing_key in the template outside a dynamic reference: %q", str)
			}
			// No value looks like an integration key (32 lower-case letters and digits).
			if regexp.MustCompile(`^[a-z0-9]{32}$`).MatchString(str) {
				t.Errorf("template holds %q, which looks like a routing key", str)
			}
		})
		b, err := json.Marshal(s.json)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.Contains(text, "SecretStringTemplate\":\"{\\\"routing_key") {
			t.Error("the created secret carries a routing key in its template")
		}
	}
}

func TestPagingDLQ(t *testing.T) {
	s := synthApp(t, nil)
	var dlq any
	for id, rule := range busRules(t, s) {
		target := rule["Targets"].([]any)[0].(map[string]any)
		d, _ := target["DeadLetterConfig"].(map[string]any)
		if dlq != nil && !reflect.DeepEqual(d["Arn"], dlq) {
			t.Errorf("rule %s: dead-letter queue %v, others %v", id, d["Arn"], dlq)
		}
		dlq = d["Arn"]
		if want := map[string]any{"MaximumEventAgeInSeconds": 86400.0, "MaximumRetryAttempts": 185.0}; !reflect.DeepEqual(target["RetryPolicy"], want) {
			t.Errorf("rule %s: retry policy %v, want %v", id, target["RetryPolicy"], want)
		}
	}
	att, _ := dlq.(map[string]any)["Fn::GetAtt"].([]any)
	if len(att) != 2 {
		t.Fatalf("dead-letter queue %v", dlq)
	}
	matchResource(t, s, att[0].(string), map[string]any{"Properties": map[string]any{"SqsManagedSseEnabled": true}})
}
