package main

import (
	"fmt"
	"math"
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
)

// Defaults used when a context key is not set.
const (
	defaultShardCount      = 1
	defaultLakeGlacierDays = 90
	defaultLambdaDir       = "bin"
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
}

// ConfigFromContext reads the stack configuration through lookup, which returns the
// context value for a key or nil. Values given on the command line arrive as strings,
// values from cdk.json or tests may be numbers; both are accepted.
func ConfigFromContext(lookup func(key string) any) (Config, error) {
	cfg := Config{
		StreamMode:      awskinesis.StreamMode_ON_DEMAND,
		LakeGlacierDays: defaultLakeGlacierDays,
		LambdaDir:       defaultLambdaDir,
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

	return cfg, nil
}

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
