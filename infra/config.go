package main

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"
)

// Context keys read by the app (cdk.json "context" or `cdk synth -c key=value`).
const (
	ctxStreamMode      = "streamMode"
	ctxShardCount      = "shardCount"
	ctxLakeGlacierDays = "lakeGlacierDays"
	ctxLambdaDir       = "lambdaDir"

	ctxBusName                 = "busName"
	ctxTaskPollSeconds         = "taskPollSeconds"
	ctxOrg                     = "org"
	ctxPagerDutySecretArn      = "pagerDutySecretArn"
	ctxDatadogAPIKeySecretArn  = "datadogApiKeySecretArn"
	ctxDatadogSite             = "datadogSite"
	ctxDatadogExtensionVersion = "datadogExtensionVersion"
)

// Defaults used when a context key is not set.
const (
	defaultShardCount      = 1
	defaultLakeGlacierDays = 90
	defaultLambdaDir       = "bin"

	defaultBusName                 = "vigil"
	defaultTaskPollSeconds         = 5
	defaultOrg                     = "default"
	defaultDatadogSite             = "datadoghq.com"
	defaultDatadogExtensionVersion = 65
)

// Config is the deploy-time configuration of the stack, read from CDK context.
type Config struct {
	// StreamMode is the capacity mode of the ingest stream.
	StreamMode awskinesis.StreamMode
	// ShardCount is the number of shards of a provisioned stream; 0 when on-demand.
	ShardCount int
	// LakeGlacierDays is the age after which lake objects under events/ move to Glacier.
	LakeGlacierDays int
	// LambdaDir holds one directory per function, each with a linux/arm64 `bootstrap`.
	LambdaDir string

	// BusName is the name of the EventBridge bus detections are published on.
	BusName string
	// TaskPollSeconds is how long the response workflow waits between two checks of
	// a sensor task.
	TaskPollSeconds int
	// Org is the organisation the API serves (VIGIL_ORG).
	Org string
	// PagerDutySecretArn is the complete ARN of an existing Secrets Manager secret
	// holding {"routing_key": "..."}; empty: the stack creates the secret.
	PagerDutySecretArn string
	// DatadogAPIKeySecretArn is the complete ARN of the secret holding the Datadog API
	// key; empty: no Datadog extension.
	DatadogAPIKeySecretArn string
	// DatadogSite is the Datadog site metrics go to (DD_SITE).
	DatadogSite string
	// DatadogExtensionVersion is the version of the Datadog-Extension-ARM layer.
	DatadogExtensionVersion int
}

// ConfigFromContext reads the stack configuration through lookup, which returns the
// context value for a key or nil. Values given on the command line arrive as strings,
// values from cdk.json or tests may be numbers; both are accepted.
func ConfigFromContext(lookup func(key string) any) (Config, error) {
	cfg := Config{
		StreamMode:      awskinesis.StreamMode_ON_DEMAND,
		LakeGlacierDays: defaultLakeGlacierDays,
		LambdaDir:       defaultLambdaDir,

		BusName:                 defaultBusName,
		TaskPollSeconds:         defaultTaskPollSeconds,
		Org:                     defaultOrg,
		DatadogSite:             defaultDatadogSite,
		DatadogExtensionVersion: defaultDatadogExtensionVersion,
	}

	if v := lookup(ctxStreamMode); v != nil {
		mode, err := parseStreamMode(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxStreamMode, err)
		}
		cfg.StreamMode = mode
	}

	if v := lookup(ctxShardCount); v != nil {
		if cfg.StreamMode != awskinesis.StreamMode_PROVISIONED {
			return Config{}, fmt.Errorf("context %q is only valid with %s=provisioned", ctxShardCount, ctxStreamMode)
		}
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxShardCount, err)
		}
		cfg.ShardCount = n
	} else if cfg.StreamMode == awskinesis.StreamMode_PROVISIONED {
		cfg.ShardCount = defaultShardCount
	}

	if v := lookup(ctxLakeGlacierDays); v != nil {
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxLakeGlacierDays, err)
		}
		cfg.LakeGlacierDays = n
	}

	if v := lookup(ctxLambdaDir); v != nil {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return Config{}, fmt.Errorf("context %q: want a directory path, got %v", ctxLambdaDir, v)
		}
		cfg.LambdaDir = s
	}

	if v := lookup(ctxBusName); v != nil {
		s, ok := v.(string)
		if !ok || !busNameRE.MatchString(s) || s == "default" {
			return Config{}, fmt.Errorf("context %q: want an event bus name (1-256 of A-Z a-z 0-9 . - _, not \"default\"), got %v", ctxBusName, v)
		}
		cfg.BusName = s
	}

	if v := lookup(ctxTaskPollSeconds); v != nil {
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxTaskPollSeconds, err)
		}
		cfg.TaskPollSeconds = n
	}

	if v := lookup(ctxOrg); v != nil {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/ ") {
			return Config{}, fmt.Errorf("context %q: want an organisation id without spaces or slashes, got %v", ctxOrg, v)
		}
		cfg.Org = s
	}

	for _, c := range []struct {
		key string
		dst *string
	}{
		{ctxPagerDutySecretArn, &cfg.PagerDutySecretArn},
		{ctxDatadogAPIKeySecretArn, &cfg.DatadogAPIKeySecretArn},
	} {
		v := lookup(c.key)
		if v == nil {
			continue
		}
		s, ok := v.(string)
		if !ok || !secretArnRE.MatchString(s) {
			return Config{}, fmt.Errorf("context %q: want the complete ARN of a Secrets Manager secret "+
				"(arn:PARTITION:secretsmanager:REGION:ACCOUNT:secret:NAME-XXXXXX), got %v", c.key, v)
		}
		*c.dst = s
	}

	if v := lookup(ctxDatadogSite); v != nil {
		s, ok := v.(string)
		if !ok || strings.TrimSpace(s) == "" || strings.ContainsAny(s, "/: ") {
			return Config{}, fmt.Errorf("context %q: want a Datadog site such as datadoghq.eu, got %v", ctxDatadogSite, v)
		}
		cfg.DatadogSite = s
	}

	if v := lookup(ctxDatadogExtensionVersion); v != nil {
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxDatadogExtensionVersion, err)
		}
		cfg.DatadogExtensionVersion = n
	}

	return cfg, nil
}

var (
	busNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)
	// A complete secret ARN ends in the six random characters Secrets Manager appends
	// to the name; IAM policies need it (or a wildcard) to match the secret.
	secretArnRE = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+-[A-Za-z0-9]{6}$`)
)

func parseStreamMode(v any) (awskinesis.StreamMode, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want \"on-demand\" or \"provisioned\", got %v", v)
	}
	switch strings.ReplaceAll(strings.ToLower(strings.TrimSpace(s)), "_", "-") {
	case "on-demand", "ondemand":
		return awskinesis.StreamMode_ON_DEMAND, nil
	case "provisioned":
		return awskinesis.StreamMode_PROVISIONED, nil
	}
	return "", fmt.Errorf("want \"on-demand\" or \"provisioned\", got %q", s)
}

func parsePositiveInt(v any) (int, error) {
	var n int
	switch x := v.(type) {
	case string:
		i, err := strconv.Atoi(strings.TrimSpace(x))
		if err != nil {
			return 0, fmt.Errorf("want a positive integer: %w", err)
		}
		n = i
	case float64:
		if x != math.Trunc(x) || x > math.MaxInt32 || x < math.MinInt32 {
			return 0, fmt.Errorf("want a positive integer, got %v", x)
		}
		n = int(x)
	case int:
		n = x
	default:
		return 0, fmt.Errorf("want a positive integer, got %v (%T)", v, v)
	}
	if n < 1 {
		return 0, fmt.Errorf("want a positive integer, got %d", n)
	}
	return n, nil
}
