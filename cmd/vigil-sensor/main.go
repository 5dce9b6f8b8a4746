package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kinesis"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/local"
	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/internal/version"
	"github.com/vigil-sec/vigil/rules"
	"github.com/vigil-sec/vigil/sensor/agent"
	"github.com/vigil-sec/vigil/sensor/collector"
	"github.com/vigil-sec/vigil/sensor/config"
	"github.com/vigil-sec/vigil/sensor/edge"
	"github.com/vigil-sec/vigil/sensor/identity"
	"github.com/vigil-sec/vigil/sensor/kube"
	"github.com/vigil-sec/vigil/sensor/metrics"
	"github.com/vigil-sec/vigil/sensor/respond"
	"github.com/vigil-sec/vigil/sensor/shipper"
	"github.com/vigil-sec/vigil/sensor/spool"
)

func main() {
	if err := agent.WithRuntimeSettings(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole command; it returns the exit code: 0, 1 (failed while
// running), 2 (bad usage or configuration, or a host that cannot run the sensor).
func run(ctx context.Context, args []string, lookup func(string) (string, bool), stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vigil-sensor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := config.Default()
	cfgPath := c.Flags(fs)
	check := fs.Bool("check", false, "validate the configuration, print the settled values (identity included) and exit")
	showVersion := fs.Bool("version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "vigil-sensor", version.String())
		return 0
	}
	fail := func(code int, err error) int {
		fmt.Fprintf(stderr, "vigil-sensor: %v\n", err)
		return code
	}
	cfg, err := config.Load(*cfgPath, lookup, fs)
	if err != nil {
		return fail(2, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))

	id, err := identity.Resolve(ctx, identity.Options{SensorID: cfg.SensorID, Tags: cfg.Tags,
		IMDS: imdsMode(cfg.IMDS), InstanceTags: cfg.IMDSInstanceTags, SysDir: sysDir})
	if err != nil {
		return fail(2, err)
	}
	for _, n := range id.Notes {
		log.Info("identity", "note", n)
	}
	// the rule set is read before anything starts: a broken rule file is
	// found by --check too, naming its file and line
	ruleSet, err := loadRules(cfg, log)
	if err != nil {
		return fail(2, err)
	}
	if *check {
		// the key is read only when the responder starts: a key file that cannot
		// be read is found here, before the service starts
		if cfg.RespondAPIURL != "" {
			if _, err := readAPIKey(cfg); err != nil {
				return fail(2, err)
			}
		}
		printConfig(stdout, cfg, id)
		return 0
	}

	o := agent.Options{SensorID: id.SensorID, Tags: id.Tags, BatchInterval: cfg.BatchInterval,
		RollInterval: cfg.RollInterval, RollBytes: int(cfg.RollBytes), Grace: cfg.Grace, Log: log,
		Version: version.String(), FilePathPrefixes: cfg.FilePathPrefixes, RingBuffer: int(cfg.RingBuffer), ReadDelay: cfg.ReadDelay,
		AncestryDepth: ancestryDepth(cfg.AncestryDepth), Environment: cfg.Environment,
		FileChangePrefixes: cfg.FileChangePrefixes, PackageOwnership: cfg.PackageOwnership}
	if o.Pods, err = podCache(cfg, lookup, log); err != nil {
		return fail(2, err)
	}
	var bell respond.Bell
	if cfg.Stream != "" || cfg.LakeBucket != "" || cfg.RespondBellTable != "" {
		awsCfg, err := awsConfig(ctx, cfg, id)
		if err != nil {
			return fail(2, err)
		}
		switch {
		case cfg.Region != "":
			awsCfg.Region = cfg.Region
		case awsCfg.Region == "":
			awsCfg.Region = id.Region
		}
		if cfg.Stream != "" {
			o.Stream = &vaws.Kinesis{Client: kinesis.NewFromConfig(awsCfg), StreamName: cfg.Stream}
		}
		if cfg.LakeBucket != "" {
			o.Lake = vaws.NewS3(awsCfg, vaws.S3Options{Bucket: cfg.LakeBucket, Prefix: cfg.LakePrefix, PathStyle: cfg.S3PathStyle})
		}
		if cfg.RespondBellTable != "" {
			bell = &vaws.TaskBells{Client: dynamodb.NewFromConfig(awsCfg), Table: cfg.RespondBellTable}
		}
	}
	if cfg.LocalDir != "" {
		o.Lake = &local.Lake{Dir: cfg.LocalDir}
	}
	// a local-only run (--local DIR) keeps its spool in memory unless one is asked for
	spoolDir := cfg.SpoolDir
	if cfg.Stream == "" && cfg.LakeBucket == "" && cfg.Source("spool.dir") == "default" {
		spoolDir = ""
	}
	if o.Spool, err = spool.Open(spoolDir, cfg.SpoolMaxBytes); err != nil {
		return fail(2, err)
	}
	mtags := append([]string{"sensor_id:" + id.SensorID}, id.Tags...)
	if o.Metrics, err = metrics.New(cfg.Statsd, mtags); err != nil {
		return fail(2, err)
	}
	defer o.Metrics.Close()

	runner, err := startResponder(ctx, cfg, id.SensorID, o.Lake, bell, log)
	if err != nil {
		return fail(2, err)
	}
	if ruleSet == nil {
		signal.Ignore(syscall.SIGHUP) // a reload without edge rules changes nothing
	} else {
		hup := make(chan os.Signal, 1)
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
		o.Edge = &edge.Options{Rules: ruleSet.Rules, Enforce: cfg.EnforceEdge,
			Updates: ruleUpdates(ctx, hup, func() (*rulesource.Set, error) { return loadRules(cfg, log) }, log)}
		if runner != nil {
			o.Edge.Executor = runner
		}
	}
	probes, err := startHealth(ctx, cfg, &o, log)
	if err != nil {
		return fail(2, err)
	}
	log.Info("sensor starting", "version", version.String(), "sensor", id.SensorID, "id_from", id.Source, "tags", strings.Join(id.Tags, ","),
		"stream", cfg.Stream, "lake_bucket", cfg.LakeBucket, "local_dir", cfg.LocalDir, "spool", spoolDir)
	st, err := agent.Run(ctx, o)
	probes.Stopped()
	log.Info("sensor stopped", "events", st.Shipper.Events, "records", st.Shipper.Records, "lake_files", st.Shipper.LakeFiles,
		"kernel_drops", st.Collector.Dropped, "spool_evicted", st.Shipper.DroppedRecords+st.Shipper.DroppedFiles,
		"left_in_spool", st.Shipper.SpoolRecords+st.Shipper.SpoolFiles)
	if errors.Is(err, collector.ErrUnsupported) {
		return fail(2, fmt.Errorf("%w; run it as root", err))
	}
	if err != nil {
		return fail(1, err)
	}
	return 0
}

// sysDir is the sysfs root whose DMI tells EC2 (tests point it at a copy).
var sysDir = identity.DefaultSysDir

func imdsMode(m config.IMDSMode) identity.IMDSMode {
	switch m {
	case config.IMDSTrue:
		return identity.IMDSOn
	case config.IMDSFalse:
		return identity.IMDSOff
	}
	return identity.IMDSAuto
}

// awsConfig loads the SDK's configuration. Its default credential chain ends
// with the instance role, asked of IMDS: that is left to EC2 (even with
// imds: false, which is about the sensor's identity and tags) and to imds: true;
// elsewhere the SDK does not ask IMDS, as with AWS_EC2_METADATA_DISABLED=true.
func awsConfig(ctx context.Context, c config.Config, id identity.Identity) (aws.Config, error) {
	var opts []func(*awsconfig.LoadOptions) error
	if !id.EC2 && c.IMDS != config.IMDSTrue {
		opts = append(opts, vaws.NoIMDS())
	}
	return vaws.Config(ctx, opts...)
}

// loadRules reads the rule set rules.edge evaluates (nil when it is off): the
// pack unless rules.builtin is false, and rules.sources. Any error of any file
// fails the start, naming the file and line.
func loadRules(cfg config.Config, log *slog.Logger) (*rulesource.Set, error) {
	if !cfg.EdgeRules {
		return nil, nil
	}
	o := rulesource.Options{Paths: cfg.RuleSources}
	if cfg.BuiltinRules {
		o.Pack = rules.FS
	}
	set, err := rulesource.Load(o)
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	for _, s := range set.Sources {
		log.Info("rules", "source", s.Summary())
	}
	return set, nil
}

// ruleUpdates loads the rule set again at each signal on sig (SIGHUP) and
// hands it to the edge evaluator; a set with errors is logged and the running
// one kept.
func ruleUpdates(ctx context.Context, sig <-chan os.Signal, load func() (*rulesource.Set, error), log *slog.Logger) <-chan []*engine.Rule {
	out := make(chan []*engine.Rule)
	go func() {
		defer close(out)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sig:
			}
			set, err := load()
			if err != nil {
				log.Error("rules not reloaded: the running set stays", "error", err)
				continue
			}
			select {
			case out <- set.Rules:
			case <-ctx.Done():
				return
			}
		}
	}()
	return out
}

// startResponder builds the runner of response tasks when respond.api_url is
// set or rules.enforce has edge actions carried out, and re-applies the
// isolation its state file records (after a reboot cleared bpffs). With
// respond.api_url it polls the API for tasks (isolate, rejoin, kill, snapshot),
// when bell rang if there is one; without, it only re-resolves an isolation's
// allow list.
func startResponder(ctx context.Context, cfg config.Config, sensorID string, lake shipper.Lake, bell respond.Bell, log *slog.Logger) (*respond.Runner, error) {
	if cfg.RespondAPIURL == "" && !(cfg.EdgeRules && cfg.EnforceEdge) {
		return nil, nil
	}
	r := &respond.Runner{
		SensorID:  sensorID,
		StatePath: cfg.RespondStateFile,
		Isolation: respond.Isolation{Backend: cfg.RespondBackend, Allow: cfg.RespondAllow, Disabled: cfg.IsolationDisabled},
		Log:       log,
	}
	if lake != nil {
		r.Lake = lake
	}
	if cfg.RespondAPIURL != "" {
		key, err := readAPIKey(cfg)
		if err != nil {
			return nil, err
		}
		r.Source = &respond.HTTPSource{Endpoint: cfg.RespondAPIURL, Org: cfg.RespondOrg, SensorID: sensorID, APIKey: key}
		r.Bell, r.FullPoll = bell, cfg.RespondFullPoll
	}
	if err := r.Restore(ctx); err != nil {
		return nil, fmt.Errorf("respond: restore: %w", err)
	}
	go func() {
		if err := r.Run(ctx, cfg.RespondPollInterval, 5*time.Minute); err != nil && ctx.Err() == nil {
			log.Error("response tasks stopped", "error", err)
		}
	}()
	return r, nil
}

// readAPIKey reads the sensor's API key from respond.api_key_file.
func readAPIKey(cfg config.Config) (string, error) {
	raw, err := os.ReadFile(cfg.RespondKeyFile)
	if err != nil {
		return "", fmt.Errorf("%s: respond.api_key_file: %w", cfg.Source("respond.api_key_file"), err)
	}
	key := strings.TrimSpace(string(raw))
	if key == "" {
		return "", fmt.Errorf("%s: respond.api_key_file: %s is empty: write the sensor's API key (vigil keys create) there", cfg.Source("respond.api_key_file"), cfg.RespondKeyFile)
	}
	return key, nil
}

func printConfig(w io.Writer, c config.Config, id identity.Identity) {
	row := func(k, v, src string) { fmt.Fprintf(w, "%-20s %-40s %s\n", k, v, src) }
	row("sensor_id", id.SensorID, "("+id.Source+")")
	row("tags", strings.Join(id.Tags, ","), "("+c.Source("tags")+" + auto-tags)")
	row("stream", c.Stream, "("+c.Source("stream")+")")
	row("lake_bucket", c.LakeBucket, "("+c.Source("lake_bucket")+")")
	row("lake_prefix", c.LakePrefix, "("+c.Source("lake_prefix")+")")
	row("local_dir", c.LocalDir, "("+c.Source("local_dir")+")")
	row("region", c.Region, "("+c.Source("region")+")")
	row("spool.dir", c.SpoolDir, "("+c.Source("spool.dir")+")")
	row("spool.max_bytes", fmt.Sprint(c.SpoolMaxBytes), "("+c.Source("spool.max_bytes")+")")
	row("batch_interval", c.BatchInterval.String(), "("+c.Source("batch_interval")+")")
	row("roll_interval", c.RollInterval.String(), "("+c.Source("roll_interval")+")")
	row("roll_bytes", fmt.Sprint(c.RollBytes), "("+c.Source("roll_bytes")+")")
	row("grace", c.Grace.String(), "("+c.Source("grace")+")")
	row("file_path_prefixes", prefixesValue(c.FilePathPrefixes), "("+c.Source("file_path_prefixes")+")")
	row("file_change_prefixes", prefixesValue(c.FileChangePrefixes), "("+c.Source("file_change_prefixes")+")")
	row("ring_buffer", fmt.Sprint(c.RingBuffer), "("+c.Source("ring_buffer")+")")
	row("read_delay", c.ReadDelay.String(), "("+c.Source("read_delay")+")")
	row("statsd", c.Statsd, "("+c.Source("statsd")+")")
	row("imds.enabled", string(c.IMDS), "("+c.Source("imds.enabled")+")")
	dmi := "not EC2"
	if id.EC2 {
		dmi = "EC2"
	}
	asked := "not queried"
	if id.IMDSQueried {
		asked = "queried"
	}
	row("  DMI", dmi, "("+id.Platform+")")
	row("  instance metadata", asked, "")
	row("imds.instance_tags", fmt.Sprint(c.IMDSInstanceTags), "("+c.Source("imds.instance_tags")+")")
	row("respond.api_url", c.RespondAPIURL, "("+c.Source("respond.api_url")+")")
	row("respond.poll_interval", c.RespondPollInterval.String(), "("+c.Source("respond.poll_interval")+")")
	row("respond.task_bell_table", c.RespondBellTable, "("+c.Source("respond.task_bell_table")+")")
	row("respond.full_poll_interval", c.RespondFullPoll.String(), "("+c.Source("respond.full_poll_interval")+")")
	row("respond.org", c.RespondOrg, "("+c.Source("respond.org")+")")
	row("respond.api_key_file", c.RespondKeyFile, "("+c.Source("respond.api_key_file")+")")
	row("respond.state_file", c.RespondStateFile, "("+c.Source("respond.state_file")+")")
	row("respond.backend", strings.Join(c.RespondBackend, ","), "("+c.Source("respond.backend")+")")
	row("respond.allow", strings.Join(c.RespondAllow, ","), "("+c.Source("respond.allow")+")")
	row("respond.isolation_disabled", fmt.Sprint(c.IsolationDisabled), "("+c.Source("respond.isolation_disabled")+")")
	row("rules.edge", fmt.Sprint(c.EdgeRules), "("+c.Source("rules.edge")+")")
	row("rules.builtin", fmt.Sprint(c.BuiltinRules), "("+c.Source("rules.builtin")+")")
	row("rules.sources", strings.Join(c.RuleSources, ","), "("+c.Source("rules.sources")+")")
	row("rules.enforce", fmt.Sprint(c.EnforceEdge), "("+c.Source("rules.enforce")+")")
	row("health.listen", c.HealthListen, "("+c.Source("health.listen")+")")
	row("health.failure_threshold", c.HealthFailureThreshold.String(), "("+c.Source("health.failure_threshold")+")")
}

// prefixesValue shows the file path prefixes as --check prints them: the
// collector's defaults (nil), none ([]: no file events), or the list.
func prefixesValue(p []string) string {
	switch {
	case p == nil:
		return "(the collector's defaults)"
	case len(p) == 0:
		return "(none: no file events)"
	}
	return strings.Join(p, ",")
}

// ancestryDepth maps the configured depth (0: none) onto the agent's option
// (0: the default, negative: none).
func ancestryDepth(n int) int {
	if n == 0 {
		return -1
	}
	return n
}

// podCache returns the kubelet pod cache when kubernetes.enabled says so
// (auto: in a pod with a service account on a node named by NODE_NAME), or
// nil.
func podCache(cfg config.Config, lookup func(string) (string, bool), log *slog.Logger) (*kube.Cache, error) {
	node, _ := lookup("NODE_NAME")
	if !kube.Enabled(string(cfg.Kubernetes), cfg.KubeTokenFile, cfg.KubeCAFile, node) {
		return nil, nil
	}
	url := cfg.KubeletURL
	if url == "" {
		if node == "" {
			return nil, errors.New("kubernetes.enabled: set NODE_NAME (from spec.nodeName) or kubernetes.kubelet_url")
		}
		url = kube.DefaultURL(node)
	}
	client, err := kube.NewClient(kube.ClientOptions{URL: url, TokenFile: cfg.KubeTokenFile, CAFile: cfg.KubeCAFile})
	if err != nil {
		return nil, fmt.Errorf("kubernetes.enabled: %w", err)
	}
	log.Info("pod context from the kubelet", "url", url)
	return kube.NewCache(client, kube.CacheOptions{MaxPods: cfg.KubeMaxPods, MinInterval: cfg.KubeListInterval, Log: log}), nil
}
