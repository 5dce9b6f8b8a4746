package main

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awskinesis"

	"github.com/vigil-sec/vigil/internal/cost"
)

// Context keys read by the app (cdk.json "context" or `cdk synth -c key=value`).
const (
	ctxStreamMode      = "streamMode"
	ctxShardCount      = "shardCount"
	ctxLakeGlacierDays = "lakeGlacierDays"
	ctxLakeRetention   = "lakeRetentionDays"
	ctxLambdaDir       = "lambdaDir"

	ctxBusName                 = "busName"
	ctxTaskPollSeconds         = "taskPollSeconds"
	ctxPagerDutySecretArn      = "pagerDutySecretArn"
	ctxDatadogAPIKeySecretArn  = "datadogApiKeySecretArn"
	ctxDatadogSite             = "datadogSite"
	ctxDatadogExtensionVersion = "datadogExtensionVersion"

	ctxTrainDays      = "trainDays"
	ctxAnomalyGroupBy = "anomalyGroupBy"

	ctxRuleSources  = "ruleSources"
	ctxBuiltinRules = "builtinRules"

	ctxSplunkHecURL           = "splunkHecUrl"
	ctxSplunkTokenSecretArn   = "splunkTokenSecretArn"
	ctxElasticURL             = "elasticUrl"
	ctxElasticAPIKeySecretArn = "elasticApiKeySecretArn"

	ctxEKSAuditLogGroups = "eksAuditLogGroups"

	// The fleet's size: with both, and streamMode not set, the stream's capacity
	// mode and shard count are internal/cost's choice for the fleet.
	ctxFleetHosts    = "fleetHosts"
	ctxEventsPerHost = "eventsPerHost"
	ctxFleetRegion   = "fleetRegion"
)

// Defaults used when a context key is not set.
const (
	defaultShardCount      = 1
	defaultLakeGlacierDays = 30
	defaultLakeRetention   = 365
	defaultLambdaDir       = "bin"

	defaultBusName                 = "vigil"
	defaultTaskPollSeconds         = 5
	defaultDatadogSite             = "datadoghq.com"
	defaultDatadogExtensionVersion = 65

	defaultTrainDays      = 7
	defaultAnomalyGroupBy = "env"
	// maxTrainDays is the longest window the training job accepts (VIGIL_TRAIN_DAYS).
	maxTrainDays = 90
)

// Config is the deploy-time configuration of the stack, read from CDK context.
type Config struct {
	// StreamMode is the capacity mode of the ingest stream.
	StreamMode awskinesis.StreamMode
	// ShardCount is the number of shards of a provisioned stream; 0 when on-demand.
	ShardCount int
	// LakeGlacierDays is the age after which lake objects under events/ and
	// artifacts/ move to S3 Glacier Instant Retrieval.
	LakeGlacierDays int
	// LakeRetention is the age in days at which lake objects under events/
	// expire, and the oldest day the Glue table projects.
	LakeRetention int
	// LambdaDir holds one directory per function, each with a linux/arm64 `bootstrap`.
	LambdaDir string

	// BusName is the name of the EventBridge bus detections are published on.
	BusName string
	// TaskPollSeconds is how long the response workflow waits between two checks of
	// a sensor task.
	TaskPollSeconds int
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

	// TrainDays is how many days of events the daily training reads (VIGIL_TRAIN_DAYS).
	TrainDays int
	// AnomalyGroupBy is the tag key the training fits one model per value of
	// (VIGIL_ANOMALY_GROUP_BY); "-" for a single global model.
	AnomalyGroupBy string

	// RuleSources are directories and files of rules (Vigil, Falco, Sigma and tuning
	// files) on the machine that synthesizes, deployed as a layer to the detect and
	// api functions after the embedded pack; empty: the pack alone.
	RuleSources []string
	// NoBuiltinRules leaves the embedded pack out (context builtinRules=false).
	NoBuiltinRules bool

	// SplunkHecURL is the Splunk HTTP Event Collector endpoint detections are forwarded
	// to; empty: no Splunk forwarding.
	SplunkHecURL string
	// SplunkTokenSecretArn is the complete ARN of the secret holding the HEC token;
	// required with SplunkHecURL.
	SplunkTokenSecretArn string
	// ElasticURL is the Elasticsearch endpoint detections are forwarded to; empty: no
	// Elasticsearch forwarding.
	ElasticURL string
	// ElasticAPIKeySecretArn is the complete ARN of the secret holding the Elasticsearch
	// API key; required with ElasticURL.
	ElasticAPIKeySecretArn string

	// EKSAuditLogGroups are existing EKS control-plane log groups
	// (/aws/eks/<cluster>/cluster) whose audit events a CloudWatch Logs
	// subscription filter puts on the ingest stream; empty: none.
	EKSAuditLogGroups []string

	// FleetHosts and EventsPerHost are the fleet's size (0: not given);
	// FleetRegion the region whose prices the capacity choice compares.
	FleetHosts    int
	EventsPerHost float64
	FleetRegion   string
	// StreamFromFleet is true when StreamMode and ShardCount are internal/cost's
	// choice for the fleet rather than the defaults or streamMode.
	StreamFromFleet bool
}

// Forward reports whether detections are forwarded to a SIEM (the forward function
// is deployed).
func (c Config) Forward() bool { return c.SplunkHecURL != "" || c.ElasticURL != "" }

// Functions returns the functions the configuration deploys, in functionNames order:
// every one but forward, which is deployed only when a SIEM is configured.
func (c Config) Functions() []string {
	var out []string
	for _, name := range functionNames {
		if name == fnForward && !c.Forward() {
			continue
		}
		out = append(out, name)
	}
	return out
}

// ConfigFromContext reads the stack configuration through lookup, which returns the
// context value for a key or nil. Values given on the command line arrive as strings,
// values from cdk.json or tests may be numbers; both are accepted.
func ConfigFromContext(lookup func(key string) any) (Config, error) {
	cfg := Config{
		StreamMode:      awskinesis.StreamMode_ON_DEMAND,
		LakeGlacierDays: defaultLakeGlacierDays,
		LakeRetention:   defaultLakeRetention,
		LambdaDir:       defaultLambdaDir,

		BusName:                 defaultBusName,
		TaskPollSeconds:         defaultTaskPollSeconds,
		DatadogSite:             defaultDatadogSite,
		DatadogExtensionVersion: defaultDatadogExtensionVersion,
		TrainDays:               defaultTrainDays,
		AnomalyGroupBy:          defaultAnomalyGroupBy,
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

	if err := cfg.fleet(lookup); err != nil {
		return Config{}, err
	}

	if v := lookup(ctxLakeGlacierDays); v != nil {
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxLakeGlacierDays, err)
		}
		cfg.LakeGlacierDays = n
	}
	if v := lookup(ctxLakeRetention); v != nil {
		n, err := parsePositiveInt(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxLakeRetention, err)
		}
		cfg.LakeRetention = n
	}
	if cfg.LakeGlacierDays >= cfg.LakeRetention {
		return Config{}, fmt.Errorf("context %q (%d) must be greater than %q (%d): lake events would expire before they move to Glacier Instant Retrieval",
			ctxLakeRetention, cfg.LakeRetention, ctxLakeGlacierDays, cfg.LakeGlacierDays)
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

	for _, c := range []struct {
		key string
		dst *string
	}{
		{ctxPagerDutySecretArn, &cfg.PagerDutySecretArn},
		{ctxDatadogAPIKeySecretArn, &cfg.DatadogAPIKeySecretArn},
		{ctxSplunkTokenSecretArn, &cfg.SplunkTokenSecretArn},
		{ctxElasticAPIKeySecretArn, &cfg.ElasticAPIKeySecretArn},
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

	if v := lookup(ctxTrainDays); v != nil {
		n, err := parsePositiveInt(v)
		if err == nil && n > maxTrainDays {
			err = fmt.Errorf("want at most %d days, got %d", maxTrainDays, n)
		}
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxTrainDays, err)
		}
		cfg.TrainDays = n
	}

	if v := lookup(ctxAnomalyGroupBy); v != nil {
		s, ok := v.(string)
		if !ok || !tagKeyRE.MatchString(s) {
			return Config{}, fmt.Errorf("context %q: want a tag key (letters, digits, . _ -) or \"-\" for none, got %v", ctxAnomalyGroupBy, v)
		}
		cfg.AnomalyGroupBy = s
	}

	if v := lookup(ctxRuleSources); v != nil {
		paths, err := parsePaths(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxRuleSources, err)
		}
		cfg.RuleSources = paths
	}
	if v := lookup(ctxBuiltinRules); v != nil {
		on, err := parseBool(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxBuiltinRules, err)
		}
		if !on && len(cfg.RuleSources) == 0 {
			return Config{}, fmt.Errorf("context %q is false but %q is not set: the functions would have no rules", ctxBuiltinRules, ctxRuleSources)
		}
		cfg.NoBuiltinRules = !on
	}

	if v := lookup(ctxEKSAuditLogGroups); v != nil {
		groups, err := parseEKSLogGroups(v)
		if err != nil {
			return Config{}, fmt.Errorf("context %q: %w", ctxEKSAuditLogGroups, err)
		}
		cfg.EKSAuditLogGroups = groups
	}

	// A SIEM endpoint and the secret holding its credential come together.
	for _, c := range []struct {
		urlKey, secretKey string
		url               *string
		secret            string
	}{
		{ctxSplunkHecURL, ctxSplunkTokenSecretArn, &cfg.SplunkHecURL, cfg.SplunkTokenSecretArn},
		{ctxElasticURL, ctxElasticAPIKeySecretArn, &cfg.ElasticURL, cfg.ElasticAPIKeySecretArn},
	} {
		v := lookup(c.urlKey)
		if v == nil {
			if c.secret != "" {
				return Config{}, fmt.Errorf("context %q is set but %q is not", c.secretKey, c.urlKey)
			}
			continue
		}
		s, ok := v.(string)
		if !ok {
			return Config{}, fmt.Errorf("context %q: want an https:// URL, got %v", c.urlKey, v)
		}
		if err := checkEndpointURL(s); err != nil {
			return Config{}, fmt.Errorf("context %q: %w", c.urlKey, err)
		}
		if c.secret == "" {
			return Config{}, fmt.Errorf("context %q is set but %q is not: "+
				"set it to the complete ARN of the secret holding the credential", c.urlKey, c.secretKey)
		}
		*c.url = s
	}

	return cfg, nil
}

// checkEndpointURL accepts the base URL of a SIEM: absolute https with a host (the
// forward function runs outside any VPC and sends credentials with every request),
// and no path but "/", query or fragment, since the forward function appends the
// API's path itself (Splunk /services/collector/event, Elasticsearch /_bulk).
func checkEndpointURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("want an https:// URL: %w", err)
	}
	if u.Scheme != "https" || u.Host == "" || u.User != nil {
		return fmt.Errorf("want an https:// URL with a host (and no credentials), got %q", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return fmt.Errorf("want the base URL, %s://%s, without path, query or fragment "+
			"(the forward function appends the API path itself), got %q", u.Scheme, u.Host, s)
	}
	return nil
}

var (
	tagKeyRE  = regexp.MustCompile(`^(-|[A-Za-z0-9._-]{1,128})$`)
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

// parsePaths reads a list of paths: comma-separated on the command line, a list of
// strings in cdk.json.
func parsePaths(v any) ([]string, error) {
	out, err := parseList(v, "paths")
	if err == nil && len(out) == 0 {
		err = fmt.Errorf("want at least one directory or file of rules, got %q", v)
	}
	return out, err
}

// parseList reads a list of what: comma-separated on the command line, a list of
// strings in cdk.json; blank items are dropped.
func parseList(v any, what string) ([]string, error) {
	var raw []string
	switch x := v.(type) {
	case string:
		raw = strings.Split(x, ",")
	case []any:
		for _, it := range x {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("want %s, got %v (%T) in the list", what, it, it)
			}
			raw = append(raw, s)
		}
	default:
		return nil, fmt.Errorf("want comma-separated %s or a list of %s, got %v (%T)", what, what, v, v)
	}
	var out []string
	for _, p := range raw {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out, nil
}

// eksLogGroupRE matches the log group of an EKS cluster's control plane,
// /aws/eks/<cluster>/cluster (cluster names: 1-100 letters, digits, - and _,
// beginning with a letter or digit).
var eksLogGroupRE = regexp.MustCompile(`^/aws/eks/[A-Za-z0-9][A-Za-z0-9_-]{0,99}/cluster$`)

// parseEKSLogGroups reads the EKS control-plane log groups whose audit logs
// are subscribed to the ingest stream, each named once.
func parseEKSLogGroups(v any) ([]string, error) {
	groups, err := parseList(v, "log group names")
	if err != nil {
		return nil, err
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("want at least one log group, /aws/eks/<cluster>/cluster, got %q", v)
	}
	seen := map[string]bool{}
	for _, g := range groups {
		if !eksLogGroupRE.MatchString(g) {
			return nil, fmt.Errorf("log group %q is not an EKS cluster's: want /aws/eks/<cluster>/cluster, "+
				"where EKS writes the control plane's logs (the detect function reads the cluster's name there)", g)
		}
		if seen[g] {
			return nil, fmt.Errorf("log group %q named twice", g)
		}
		seen[g] = true
	}
	return groups, nil
}

func parseBool(v any) (bool, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case string:
		b, err := strconv.ParseBool(strings.TrimSpace(x))
		if err != nil {
			return false, fmt.Errorf("want true or false, got %q", x)
		}
		return b, nil
	}
	return false, fmt.Errorf("want true or false, got %v (%T)", v, v)
}

// fleet reads the fleet's size and, when streamMode was not given, takes the
// stream's capacity from internal/cost's choice for that fleet.
func (cfg *Config) fleet(lookup func(key string) any) error {
	hosts, rate, region := lookup(ctxFleetHosts), lookup(ctxEventsPerHost), lookup(ctxFleetRegion)
	if hosts == nil && rate == nil {
		if region != nil {
			return fmt.Errorf("context %q is set but %q and %q are not", ctxFleetRegion, ctxFleetHosts, ctxEventsPerHost)
		}
		return nil
	}
	if hosts == nil || rate == nil {
		return fmt.Errorf("contexts %q and %q go together: give both or neither", ctxFleetHosts, ctxEventsPerHost)
	}
	n, err := parsePositiveInt(hosts)
	if err != nil {
		return fmt.Errorf("context %q: %w", ctxFleetHosts, err)
	}
	r, err := parsePositiveFloat(rate)
	if err != nil {
		return fmt.Errorf("context %q: %w", ctxEventsPerHost, err)
	}
	p := cost.DefaultParams()
	p.Hosts, p.EventsPerHostPerSec = n, r
	if region != nil {
		s, ok := region.(string)
		if !ok {
			return fmt.Errorf("context %q: want a region name, got %v", ctxFleetRegion, region)
		}
		p.Region = s
	}
	c, err := cost.ChooseCapacity(p)
	if err != nil {
		return fmt.Errorf("contexts %q, %q: %w", ctxFleetHosts, ctxEventsPerHost, err)
	}
	cfg.FleetHosts, cfg.EventsPerHost, cfg.FleetRegion = n, r, p.Region
	if lookup(ctxStreamMode) != nil {
		return nil // the mode given explicitly wins
	}
	cfg.StreamFromFleet = true
	cfg.StreamMode, cfg.ShardCount = awskinesis.StreamMode_ON_DEMAND, 0
	if c.Mode == cost.Provisioned {
		cfg.StreamMode, cfg.ShardCount = awskinesis.StreamMode_PROVISIONED, c.Shards
	}
	return nil
}

func parsePositiveFloat(v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case string:
		var err error
		if f, err = strconv.ParseFloat(strings.TrimSpace(x), 64); err != nil {
			return 0, fmt.Errorf("want a positive number: %w", err)
		}
	case float64:
		f = x
	case int:
		f = float64(x)
	default:
		return 0, fmt.Errorf("want a positive number, got %v (%T)", v, v)
	}
	if !(f > 0) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("want a positive number, got %v", f)
	}
	return f, nil
}
