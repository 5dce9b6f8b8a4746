package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// localStackServices maps the service part of a CloudFormation resource type
// (AWS::<service>::<resource>) to the LocalStack services (SERVICES names) that
// create and serve it.
var localStackServices = map[string][]string{
	// The HTTP API is created through apigatewayv2 and invoked through LocalStack's
	// API Gateway endpoint (execute-api).
	"ApiGatewayV2":   {"apigateway", "apigatewayv2"},
	"Athena":         {"athena"},
	"CloudWatch":     {"cloudwatch"},
	"DynamoDB":       {"dynamodb"},
	"Events":         {"events"},
	"Glue":           {"glue"},
	"IAM":            {"iam"},
	"KMS":            {"kms"},
	"Kinesis":        {"kinesis"},
	"Lambda":         {"lambda"},
	"Logs":           {"logs"},
	"S3":             {"s3"},
	"SQS":            {"sqs"},
	"Scheduler":      {"scheduler"},
	"SecretsManager": {"secretsmanager"},
	"StepFunctions":  {"stepfunctions"},
}

// localStackDeployServices are what `cdklocal bootstrap` and `cdklocal deploy` use
// besides the stack's own resources: CloudFormation, STS for the caller's account,
// and the bootstrap stack's SSM version parameter and ECR asset repository.
var localStackDeployServices = []string{"cloudformation", "ecr", "ssm", "sts"}

// composeServices returns the SERVICES list of the localstack service in
// ../localstack/docker-compose.yml.
func composeServices(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "localstack", "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Services map[string]struct {
			Environment map[string]string `yaml:"environment"`
		} `yaml:"services"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatalf("docker-compose.yml: %v", err)
	}
	list := f.Services["localstack"].Environment["SERVICES"]
	if list == "" {
		t.Fatal("docker-compose.yml: no SERVICES in the environment of the localstack service")
	}
	return strings.Split(list, ",")
}

// TestLocalStackServices: the compose file starts exactly the LocalStack services
// the stack's resources (with the defaults and with every context key set) and the
// CDK deploy need.
func TestLocalStackServices(t *testing.T) {
	need := map[string]bool{}
	for _, s := range localStackDeployServices {
		need[s] = true
	}
	for _, ctx := range []map[string]any{nil, customContext} {
		resources, _ := synthApp(t, ctx).json["Resources"].(map[string]any)
		for id, r := range resources {
			typ := fmt.Sprint(asMap(r)["Type"])
			var services []string
			if parts := strings.Split(typ, "::"); len(parts) == 3 && parts[0] == "AWS" {
				services = localStackServices[parts[1]]
			}
			if len(services) == 0 {
				t.Errorf("%s: no LocalStack service known for %s: add it to localStackServices and "+
					"to SERVICES in localstack/docker-compose.yml", id, typ)
				continue
			}
			for _, s := range services {
				need[s] = true
			}
		}
	}
	want := sortedKeys(need)
	got := composeServices(t)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("localstack/docker-compose.yml SERVICES\n got %s\nwant %s", strings.Join(got, ","), strings.Join(want, ","))
	}
}

// TestDocsListOutputs: the pages describing the deployed stack name every output.
func TestDocsListOutputs(t *testing.T) {
	outputs, _ := synthApp(t, nil).json["Outputs"].(map[string]any)
	for _, page := range []string{
		filepath.Join("..", "docs", "deploy.md"),
		filepath.Join("..", "localstack", "README.md"),
	} {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range sortedKeys(outputs) {
			if !strings.Contains(string(b), "`"+name+"`") {
				t.Errorf("%s does not name the output %s", page, name)
			}
		}
	}
}
