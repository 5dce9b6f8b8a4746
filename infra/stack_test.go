package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// customContext sets every context key the stack reads (but lambdaDir), as given on
// the command line: -c streamMode=provisioned -c shardCount=4 ...
var customContext = map[string]any{
	"streamMode":              "provisioned",
	"shardCount":              "4",
	"lakeGlacierDays":         "60",
	"lakeRetentionDays":       "730",
	"busName":                 "vigil-test",
	"taskPollSeconds":         "1",
	"pagerDutySecretArn":      testPagerDutySecretArn,
	"datadogApiKeySecretArn":  testDatadogSecretArn,
	"datadogSite":             "datadoghq.eu",
	"datadogExtensionVersion": "70",
	"trainDays":               "3",
	"anomalyGroupBy":          "team",
	"splunkHecUrl":            testSplunkURL,
	"splunkTokenSecretArn":    testSplunkSecretArn,
	"elasticUrl":              testElasticURL,
	"elasticApiKeySecretArn":  testElasticSecretArn,
}

// splunkContext forwards detections to Splunk only.
var splunkContext = map[string]any{
	"splunkHecUrl":         testSplunkURL,
	"splunkTokenSecretArn": testSplunkSecretArn,
}

const (
	testPagerDutySecretArn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil/pagerduty-AbCdEf"
	testDatadogSecretArn   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog/api-key-XyZ123"
	testSplunkURL          = "https://splunk.example.com:8088"
	testSplunkSecretArn    = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil/splunk-hec-QwErTy"
	testElasticURL         = "https://es.example.com:9243"
	testElasticSecretArn   = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil/elastic-key-AsDfGh"
)

// Set up once by TestMain.
var (
	testRoot      string         // temporary directory removed after the tests
	testLambdaDir string         // holds <function>/bootstrap stand-ins for `make lambdas`
	cdkContext    map[string]any // the "context" of ../cdk.json (feature flags)
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	// The jsii runtime (started while the packages initialize, before this runs) warns
	// about end-of-life node versions; export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION
	// to quiet it.
	defer jsii.Close()

	var err error
	if testRoot, err = os.MkdirTemp("", "vigil-infra-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(testRoot)

	testLambdaDir = filepath.Join(testRoot, "bin")
	for _, name := range functionNames {
		if err := os.MkdirAll(filepath.Join(testLambdaDir, name), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		if err := os.WriteFile(filepath.Join(testLambdaDir, name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}

	if cdkContext, err = readCDKContext(filepath.Join("..", "cdk.json")); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// lambdaDirWithout returns a new lambda directory with every function built but skip.
func lambdaDirWithout(t *testing.T, skip string) string {
	t.Helper()
	dir, err := os.MkdirTemp(testRoot, "bin-")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range functionNames {
		if name == skip {
			continue
		}
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestForwardBuiltOnlyWhenConfigured: without a SIEM the stack is built without
// <lambdaDir>/forward (only the construction is checked, nothing is synthesized).
func TestForwardBuiltOnlyWhenConfigured(t *testing.T) {
	app := newTestApp(t, map[string]any{ctxLambdaDir: lambdaDirWithout(t, fnForward)})
	if _, err := NewVigilStack(app, StackName, nil); err != nil {
		t.Fatalf("NewVigilStack without a SIEM and without the forward build: %v", err)
	}
}

// readCDKContext returns the "context" object of a cdk.json, so the tests synthesize
// with the same feature flags as `cdk synth`.
func readCDKContext(path string) (map[string]any, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cdk.json: %w", err)
	}
	var f struct {
		Context map[string]any `json:"context"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("parse %s: %w", path, err)
	}
	return f.Context, nil
}

// newTestApp returns an app with the cdk.json context, the stand-in lambda directory
// and the given context on top, writing its assembly under the test root.
func newTestApp(t *testing.T, ctx map[string]any) awscdk.App {
	t.Helper()
	all := maps.Clone(cdkContext)
	all[ctxLambdaDir] = testLambdaDir
	maps.Copy(all, ctx)
	outdir, err := os.MkdirTemp(testRoot, "cdk.out-")
	if err != nil {
		t.Fatal(err)
	}
	return awscdk.NewApp(&awscdk.AppProps{Context: &all, Outdir: jsii.String(outdir)})
}

// Synthesizing starts from scratch in node and takes seconds, so each distinct
// context is synthesized once (with the cdk-nag AwsSolutions checks) and the result
// shared by every test that needs it.
var (
	synthsMu sync.Mutex
	synths   = map[string]*synthed{}
)

// synthed is one synthesized app: its stack, the template for the assertions module
// and the same template decoded.
type synthed struct {
	stack awscdk.Stack
	tmpl  assertions.Template
	json  map[string]any
}

func synthApp(t *testing.T, ctx map[string]any) *synthed {
	t.Helper()
	key, err := json.Marshal(ctx) // map keys are sorted
	if err != nil {
		t.Fatal(err)
	}
	synthsMu.Lock()
	defer synthsMu.Unlock()
	if s, ok := synths[string(key)]; ok {
		return s
	}
	all := maps.Clone(cdkContext)
	all[ctxLambdaDir] = testLambdaDir
	maps.Copy(all, ctx)
	outdir, err := os.MkdirTemp(testRoot, "cdk.out-")
	if err != nil {
		t.Fatal(err)
	}
	res, err := synthesize(all, outdir, cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}))
	if err != nil {
		t.Fatalf("synth with context %s: %v", key, err)
	}
	s := &synthed{stack: res.stack, json: res.template}
	if msg := recovered(func() { s.tmpl = assertions.Template_FromStack(res.stack, nil) }); msg != "" {
		t.Fatalf("template of the stack with context %s: %s", key, msg)
	}
	synths[string(key)] = s
	return s
}

func synthTemplate(t *testing.T, ctx map[string]any) assertions.Template {
	t.Helper()
	return synthApp(t, ctx).tmpl
}

// recovered runs f and returns the message of the panic it raised, if any: the
// assertions module reports a mismatch by throwing, which jsii turns into a panic.
func recovered(f func()) (msg string) {
	defer func() {
		if r := recover(); r != nil {
			msg = fmt.Sprint(r)
		}
	}()
	f()
	return ""
}

// logicalID returns the id of the one resource of type typ matching props.
func logicalID(t *testing.T, tmpl assertions.Template, typ string, props map[string]any) string {
	t.Helper()
	var pattern any
	if props != nil {
		pattern = map[string]any{"Properties": props}
	}
	found := tmpl.FindResources(jsii.String(typ), pattern)
	if found == nil || len(*found) != 1 {
		n := 0
		if found != nil {
			n = len(*found)
		}
		t.Fatalf("want exactly one %s matching %v, found %d", typ, props, n)
	}
	for id := range *found {
		return id
	}
	return ""
}

// ids are the logical ids of the resources other resources point at.
type ids struct {
	key, stream, lake, logs, queue string
}

func resourceIDs(t *testing.T, tmpl assertions.Template) ids {
	t.Helper()
	sse := func(algorithm string) map[string]any {
		return map[string]any{"BucketEncryption": map[string]any{
			"ServerSideEncryptionConfiguration": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"ServerSideEncryptionByDefault": map[string]any{"SSEAlgorithm": algorithm},
				}),
			}),
		}}
	}
	return ids{
		key:    logicalID(t, tmpl, "AWS::KMS::Key", nil),
		stream: logicalID(t, tmpl, "AWS::Kinesis::Stream", nil),
		lake:   logicalID(t, tmpl, "AWS::S3::Bucket", sse("aws:kms")),
		logs:   logicalID(t, tmpl, "AWS::S3::Bucket", sse("AES256")),
		queue:  detectDLQ(t, tmpl),
	}
}

// detectDLQ returns the id of the queue the detect event source mapping sends to.
func detectDLQ(t *testing.T, tmpl assertions.Template) string {
	t.Helper()
	found := tmpl.FindResources(jsii.String("AWS::Lambda::EventSourceMapping"), nil)
	for _, r := range *found {
		props, _ := (*r)["Properties"].(map[string]any)
		dest, _ := props["DestinationConfig"].(map[string]any)
		onFailure, _ := dest["OnFailure"].(map[string]any)
		destination, _ := onFailure["Destination"].(map[string]any)
		if att, ok := destination["Fn::GetAtt"].([]any); ok {
			return att[0].(string)
		}
	}
	t.Fatal("no event source mapping with an on-failure destination")
	return ""
}

func ref(id string) map[string]any { return map[string]any{"Ref": id} }
func arn(id string) map[string]any { return map[string]any{"Fn::GetAtt": []any{id, "Arn"}} }

// policyWith matches the properties of an AWS::IAM::Policy having statement.
func policyWith(statement any) map[string]any {
	return map[string]any{"PolicyDocument": map[string]any{
		"Statement": assertions.Match_ArrayWith(&[]any{statement}),
	}}
}

// allow matches an Allow statement of action (a string, a list or a matcher) on resource.
func allow(action, resource any) assertions.Matcher {
	return assertions.Match_ObjectLike(&map[string]any{"Effect": "Allow", "Action": action, "Resource": resource})
}

// denyInsecureTransport matches a policy statement refusing requests made without TLS.
func denyInsecureTransport() assertions.Matcher {
	return assertions.Match_ObjectLike(&map[string]any{
		"Effect":    "Deny",
		"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
	})
}

// resourceCase expects count resources of typ with props (count 0: at least one).
type resourceCase struct {
	name  string
	typ   string
	props map[string]any
	count int
}

func runResourceCases(t *testing.T, tmpl assertions.Template, cases []resourceCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := recovered(func() {
				// HasResourceProperties reports the closest candidate on a mismatch.
				tmpl.HasResourceProperties(jsii.String(tc.typ), tc.props)
				if tc.count > 0 {
					tmpl.ResourcePropertiesCountIs(jsii.String(tc.typ), tc.props, jsii.Number(tc.count))
				}
			})
			if msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestIngest(t *testing.T) {
	tmpl := synthTemplate(t, nil)
	id := resourceIDs(t, tmpl)

	runResourceCases(t, tmpl, []resourceCase{
		{
			name: "stream encrypted with the customer key",
			typ:  "AWS::Kinesis::Stream",
			props: map[string]any{"StreamEncryption": map[string]any{
				"EncryptionType": "KMS",
				"KeyId":          arn(id.key),
			}},
		},
		{
			name:  "key rotation on",
			typ:   "AWS::KMS::Key",
			props: map[string]any{"EnableKeyRotation": true},
		},
		{
			name: "lake encrypted with the customer key",
			typ:  "AWS::S3::Bucket",
			props: map[string]any{"BucketEncryption": map[string]any{
				"ServerSideEncryptionConfiguration": []any{map[string]any{
					"BucketKeyEnabled": true,
					"ServerSideEncryptionByDefault": map[string]any{
						"SSEAlgorithm":   "aws:kms",
						"KMSMasterKeyID": arn(id.key),
					},
				}},
			}},
		},
		{
			name:  "lake versioned",
			typ:   "AWS::S3::Bucket",
			props: map[string]any{"VersioningConfiguration": map[string]any{"Status": "Enabled"}},
		},
		{
			name: "lake events move to Glacier Instant Retrieval after 30 days",
			typ:  "AWS::S3::Bucket",
			props: map[string]any{"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
				assertions.Match_ObjectLike(&map[string]any{
					"Prefix":      "events/",
					"Status":      "Enabled",
					"Transitions": []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}},
				}),
			})}},
		},
		{
			name: "lake access logs go to the log bucket",
			typ:  "AWS::S3::Bucket",
			props: map[string]any{"LoggingConfiguration": map[string]any{
				"DestinationBucketName": ref(id.logs),
			}},
		},
		{
			name: "both buckets block all public access",
			typ:  "AWS::S3::Bucket",
			props: map[string]any{"PublicAccessBlockConfiguration": map[string]any{
				"BlockPublicAcls":       true,
				"BlockPublicPolicy":     true,
				"IgnorePublicAcls":      true,
				"RestrictPublicBuckets": true,
			}},
			count: 2,
		},
		{
			name: "both buckets refuse requests without TLS",
			typ:  "AWS::S3::BucketPolicy",
			props: map[string]any{"PolicyDocument": map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{denyInsecureTransport()}),
			}},
			count: 2,
		},
	})
}

func TestDetect(t *testing.T) {
	tmpl := synthTemplate(t, nil)
	id := resourceIDs(t, tmpl)

	runResourceCases(t, tmpl, []resourceCase{
		{
			name: "function",
			typ:  "AWS::Lambda::Function",
			props: map[string]any{
				"Runtime":       "provided.al2023",
				"Architectures": []any{"arm64"},
				"Handler":       "bootstrap",
				"MemorySize":    1024,
				"Timeout":       60,
				"Environment":   map[string]any{"Variables": map[string]any{"VIGIL_FUNCTION": fnDetect}},
			},
			count: 1,
		},
		{
			name: "event source mapping",
			typ:  "AWS::Lambda::EventSourceMapping",
			props: map[string]any{
				"EventSourceArn":             arn(id.stream),
				"StartingPosition":           "LATEST",
				"BatchSize":                  1000,
				"ParallelizationFactor":      2,
				"FunctionResponseTypes":      []any{"ReportBatchItemFailures"},
				"BisectBatchOnFunctionError": true,
				"MaximumRetryAttempts":       3,
				"MaximumRecordAgeInSeconds":  6 * 3600,
				"DestinationConfig": map[string]any{
					"OnFailure": map[string]any{"Destination": arn(id.queue)},
				},
			},
			count: 1,
		},
		{
			name:  "dead-letter queue encrypted",
			typ:   "AWS::SQS::Queue",
			props: map[string]any{"SqsManagedSseEnabled": true},
		},
		{
			name: "dead-letter queue refuses requests without TLS",
			typ:  "AWS::SQS::QueuePolicy",
			props: map[string]any{"PolicyDocument": map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{denyInsecureTransport()}),
			}},
		},
		{
			name:  "function reads the stream",
			typ:   "AWS::IAM::Policy",
			props: policyWith(allow(assertions.Match_ArrayWith(&[]any{"kinesis:GetRecords", "kinesis:GetShardIterator"}), arn(id.stream))),
		},
		{
			name:  "function decrypts with the ingest key",
			typ:   "AWS::IAM::Policy",
			props: policyWith(allow("kms:Decrypt", arn(id.key))),
		},
		{
			name:  "function sends to the queue",
			typ:   "AWS::IAM::Policy",
			props: policyWith(allow(assertions.Match_ArrayWith(&[]any{"sqs:SendMessage"}), arn(id.queue))),
		},
	})
}

func TestOutputs(t *testing.T) {
	tmpl := synthTemplate(t, nil)
	id := resourceIDs(t, tmpl)

	s := synthApp(t, nil)
	all := idsOf(t, s)
	profile, _ := onlyResource(t, s.json, "AWS::IAM::InstanceProfile")
	api, _ := onlyResource(t, s.json, "AWS::ApiGatewayV2::Api")
	workgroup, _ := onlyResource(t, s.json, "AWS::Athena::WorkGroup")
	tests := []struct {
		output string
		value  any
	}{
		{outStreamName, ref(id.stream)},
		{outLakeBucket, ref(id.lake)},
		{outDLQURL, ref(id.queue)},
		{outInstanceProfile, ref(profile)},
		{outAPIURL, map[string]any{"Fn::GetAtt": []any{api, "ApiEndpoint"}}},
		{outBusName, ref(all.bus)},
		{outStateMachineArn, ref(all.stateMachine)},
		{outPagerDutySecretArn, ref(all.secret)},
		{outAthenaWorkGroup, ref(workgroup)},
		{outTaskBellsTable, ref(all.bells)},
	}
	for _, tt := range tests {
		t.Run(tt.output, func(t *testing.T) {
			if msg := recovered(func() {
				tmpl.HasOutput(jsii.String(tt.output), map[string]any{"Value": tt.value})
			}); msg != "" {
				t.Error(msg)
			}
		})
	}
}

func TestContextSettings(t *testing.T) {
	tests := []struct {
		name string
		ctx  map[string]any
		want []resourceCase
	}{
		{
			name: "defaults",
			want: []resourceCase{
				{
					name: "on-demand stream",
					typ:  "AWS::Kinesis::Stream",
					props: map[string]any{
						"StreamModeDetails": map[string]any{"StreamMode": "ON_DEMAND"},
						"ShardCount":        assertions.Match_Absent(),
					},
					count: 1,
				},
				{
					name: "glacier instant retrieval after 30 days",
					typ:  "AWS::S3::Bucket",
					props: map[string]any{"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
						assertions.Match_ObjectLike(&map[string]any{
							"Prefix":      "events/",
							"Transitions": []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 30}},
						}),
					})}},
					count: 1,
				},
			},
		},
		{
			// As given on the command line: -c streamMode=provisioned -c shardCount=4 ...
			name: "provisioned stream, later glacier, longer retention",
			ctx:  customContext,
			want: []resourceCase{
				{
					name: "provisioned stream",
					typ:  "AWS::Kinesis::Stream",
					props: map[string]any{
						"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"},
						"ShardCount":        4,
					},
					count: 1,
				},
				{
					name: "glacier instant retrieval after 60 days, expiry after 730",
					typ:  "AWS::S3::Bucket",
					props: map[string]any{"LifecycleConfiguration": map[string]any{"Rules": assertions.Match_ArrayWith(&[]any{
						assertions.Match_ObjectLike(&map[string]any{
							"Prefix":           "events/",
							"ExpirationInDays": 730,
							"Transitions":      []any{map[string]any{"StorageClass": "GLACIER_IR", "TransitionInDays": 60}},
						}),
					})}},
					count: 1,
				},
			},
		},
		{
			// 10 hosts at 100 events/s: internal/cost chooses 1 provisioned shard.
			name: "small fleet",
			ctx:  map[string]any{"fleetHosts": "10", "eventsPerHost": "100"},
			want: []resourceCase{{
				name:  "one provisioned shard",
				typ:   "AWS::Kinesis::Stream",
				props: map[string]any{"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}, "ShardCount": 1},
				count: 1,
			}},
		},
		{
			// 10,000 hosts at 100 events/s: 86 provisioned shards.
			name: "large fleet",
			ctx:  map[string]any{"fleetHosts": "10000", "eventsPerHost": "100"},
			want: []resourceCase{{
				name:  "86 provisioned shards",
				typ:   "AWS::Kinesis::Stream",
				props: map[string]any{"StreamModeDetails": map[string]any{"StreamMode": "PROVISIONED"}, "ShardCount": 86},
				count: 1,
			}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runResourceCases(t, synthTemplate(t, tt.ctx), tt.want)
		})
	}
}

func TestStackConfigErrors(t *testing.T) {
	missing := filepath.Join(testRoot, "not-built")
	withoutForward := lambdaDirWithout(t, fnForward)
	tests := []struct {
		name    string
		ctx     map[string]any
		wantErr []string
		notExst bool // the error wraps fs.ErrNotExist
	}{
		{
			name:    "lambda dir not built",
			ctx:     map[string]any{"lambdaDir": missing},
			wantErr: []string{"make lambdas", filepath.Join(missing, "detect", "bootstrap")},
			notExst: true,
		},
		{
			name:    "forward not built",
			ctx:     map[string]any{"lambdaDir": withoutForward, "elasticUrl": testElasticURL, "elasticApiKeySecretArn": testElasticSecretArn},
			wantErr: []string{"make lambdas", filepath.Join(withoutForward, "forward", "bootstrap")},
			notExst: true,
		},
		{
			name:    "unknown stream mode",
			ctx:     map[string]any{"streamMode": "turbo"},
			wantErr: []string{"streamMode", "turbo"},
		},
		{
			name:    "splunk URL without its secret",
			ctx:     map[string]any{"splunkHecUrl": testSplunkURL},
			wantErr: []string{"splunkHecUrl", "splunkTokenSecretArn"},
		},
		{
			name:    "elastic secret without its URL",
			ctx:     map[string]any{"elasticApiKeySecretArn": testElasticSecretArn},
			wantErr: []string{"elasticApiKeySecretArn", "elasticUrl"},
		},
		{
			name:    "retention before the move to Glacier",
			ctx:     map[string]any{"lakeRetentionDays": "10"},
			wantErr: []string{"lakeRetentionDays", "lakeGlacierDays"},
		},
		{
			name:    "shard count on an on-demand stream",
			ctx:     map[string]any{"shardCount": "2"},
			wantErr: []string{"shardCount", "provisioned"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t, tt.ctx)
			stack, err := NewVigilStack(app, StackName, nil)
			if err == nil {
				t.Fatalf("NewVigilStack with context %v succeeded, want an error", tt.ctx)
			}
			if stack != nil || app.Node().TryFindChild(jsii.String(StackName)) != nil {
				t.Errorf("NewVigilStack added a stack despite the error %v", err)
			}
			for _, s := range tt.wantErr {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if tt.notExst && !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("error %q does not wrap fs.ErrNotExist", err)
			}
		})
	}
}
