package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/cadence"
	"go.yaml.in/yaml/v3"
)

// maxFilePrefix is the collector's limit on a path prefix (collector.MaxFilePrefix;
// not imported, so that the configuration builds without the eBPF objects).
const maxFilePrefix = 128

// Bounds of ring_buffer.
const (
	minRingBuffer = 64 << 10
	maxRingBuffer = 1 << 30
)

// DefaultPath is where the sensor looks for its file when --config is not given.
const DefaultPath = "/etc/vigil/sensor.yaml"

// Config is the sensor's settled configuration.
type Config struct {
	SensorID         string
	Tags             []string // K:V
	Stream           string
	LakeBucket       string
	LakePrefix       string
	S3PathStyle      bool
	LocalDir         string
	Region           string
	SpoolDir         string
	SpoolMaxBytes    int64
	BatchInterval    time.Duration
	RollInterval     time.Duration
	RollBytes        int64
	Grace            time.Duration
	FilePathPrefixes []string // nil: the collector's defaults; empty (file_path_prefixes: []): no file events
	RingBuffer       int64
	ReadDelay        time.Duration
	AncestryDepth    int      // ancestors listed by every process event
	Environment      []string // nil: the collector's defaults; variables NEW_PROCESS reports
	PackageOwnership bool     // NEW_PROCESS names the package owning the executable
	Statsd           string
	IMDS             IMDSMode
	IMDSInstanceTags bool

	// Response tasks: polled from the API when RespondAPIURL is set.
	RespondAPIURL       string
	RespondPollInterval time.Duration // how often the tasks are polled (with a bell: the bell is read)
	RespondBellTable    string        // DynamoDB table of task bells (empty: the API is asked every interval)
	RespondFullPoll     time.Duration // with a bell, the API is asked at least this often
	RespondOrg          string
	RespondKeyFile      string
	RespondStateFile    string
	RespondBackend      []string
	RespondAllow        []string
	IsolationDisabled   bool

	// FileChangePrefixes are watched for changes only (reads not reported);
	// nil: the collector's defaults when FilePathPrefixes is nil too, else none.
	FileChangePrefixes []string

	// Edge detection: the rule set (the pack unless BuiltinRules is false, and
	// the RuleSources) evaluated on the host when EdgeRules is set; edge actions
	// act when EnforceEdge is set, else they are dry runs.
	RuleSources  []string
	BuiltinRules bool
	EdgeRules    bool
	EnforceEdge  bool

	// Kubernetes pod context (package kube): Kubernetes is auto, true or
	// false (auto: when the service account files exist and NODE_NAME is
	// set); KubeletURL empty means https://$NODE_NAME:10250.
	Kubernetes       IMDSMode
	KubeletURL       string
	KubeTokenFile    string
	KubeCAFile       string
	KubeMaxPods      int
	KubeListInterval time.Duration
	// Health probes: HealthListen (host:port) serves /livez and /healthz when
	// set; a shipping path failing longer than HealthFailureThreshold makes
	// /healthz fail.
	HealthListen           string
	HealthFailureThreshold time.Duration

	// sources records where each field was last set, for error messages.
	sources map[string]string
}

// Default returns the configuration before any file, variable or flag.
func Default() Config {
	return Config{
		SpoolDir:               "/var/lib/vigil/spool",
		SpoolMaxBytes:          1 << 30,
		BatchInterval:          time.Second,
		RollInterval:           cadence.LakeRoll,
		RollBytes:              64 << 20,
		Grace:                  10 * time.Second,
		RingBuffer:             16 << 20,
		ReadDelay:              250 * time.Millisecond,
		AncestryDepth:          8,
		IMDS:                   IMDSAuto,
		RespondPollInterval:    cadence.TaskPoll,
		RespondFullPoll:        cadence.TaskFullPoll,
		RespondOrg:             "default",
		RespondKeyFile:         "/etc/vigil/api-key",
		RespondStateFile:       "/var/lib/vigil/respond.json",
		RespondAllow:           []string{"169.254.169.254"},
		BuiltinRules:           true,
		HealthFailureThreshold: 5 * time.Minute,
		Kubernetes:             IMDSAuto,
		KubeTokenFile:          "/var/run/secrets/kubernetes.io/serviceaccount/token",
		KubeCAFile:             "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt",
		KubeMaxPods:            1024,
		KubeListInterval:       10 * time.Second,
		sources:                map[string]string{},
	}
}

// IMDSMode is imds.enabled: when the sensor asks the EC2 instance metadata service.
type IMDSMode string

// The values of imds.enabled.
const (
	IMDSAuto  IMDSMode = "auto"  // on EC2 only, as the firmware's DMI tells
	IMDSTrue  IMDSMode = "true"  // always, whatever DMI says
	IMDSFalse IMDSMode = "false" // never
)

// ParseIMDSMode reads auto, true or false (and the other spellings of
// strconv.ParseBool: 1, t, TRUE, 0, f, FALSE, …).
func ParseIMDSMode(v string) (IMDSMode, error) {
	if strings.EqualFold(strings.TrimSpace(v), "auto") {
		return IMDSAuto, nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return "", fmt.Errorf("%q is not auto, true or false", v)
	}
	if b {
		return IMDSTrue, nil
	}
	return IMDSFalse, nil
}

// Field is one setting: its path in the file, its variable and its flag.
type Field struct {
	Path   string // in the YAML file, dotted
	Env    string
	Flag   string
	Usage  string
	list   bool
	isBool bool
	set    func(c *Config, v string) error
	add    func(c *Config, vs []string) error // lists
}

func str(p *string) func(*Config, string) error {
	return func(_ *Config, v string) error { *p = v; return nil }
}

// Fields lists every setting (built for a given Config's fields).
func (c *Config) Fields() []Field {
	fs := []Field{
		{Path: "sensor_id", Usage: "sensor id (default: EC2 instance id, else /etc/machine-id)", set: str(&c.SensorID)},
		{Path: "tags", Flag: "tag", Usage: "sensor tag K:V (repeatable; a variable takes a comma-separated list)", list: true,
			add: func(c *Config, vs []string) error {
				for _, v := range vs {
					if err := checkTag(v); err != nil {
						return err
					}
				}
				c.Tags = vs
				return nil
			}},
		{Path: "stream", Usage: "Kinesis stream name (hot path)", set: str(&c.Stream)},
		{Path: "lake_bucket", Usage: "S3 bucket of the lake (cold path)", set: str(&c.LakeBucket)},
		{Path: "lake_prefix", Usage: "key prefix in the lake bucket", set: str(&c.LakePrefix)},
		{Path: "s3_path_style", isBool: true, Usage: "path-style S3 addressing", set: boolean(&c.S3PathStyle)},
		{Path: "local_dir", Flag: "local", Usage: "write lake files to this directory instead of S3", set: str(&c.LocalDir)},
		{Path: "region", Usage: "AWS region (default: the SDK's)", set: str(&c.Region)},
		{Path: "spool.dir", Usage: "spool directory (empty: in memory)", set: str(&c.SpoolDir)},
		{Path: "spool.max_bytes", Usage: "spool bound, e.g. 1GiB", set: size(&c.SpoolMaxBytes)},
		{Path: "batch_interval", Usage: "hot path batch interval", set: duration(&c.BatchInterval)},
		{Path: "roll_interval", Usage: "lake file roll interval", set: duration(&c.RollInterval)},
		{Path: "roll_bytes", Usage: "largest lake file, e.g. 64MiB", set: size(&c.RollBytes)},
		{Path: "grace", Usage: "shutdown flush deadline", set: duration(&c.Grace)},
		{Path: "file_path_prefixes", Flag: "file-path-prefix", Usage: "path prefix whose file events are kept (repeatable)", list: true,
			add: func(c *Config, vs []string) error {
				if err := checkFilePrefixes(vs); err != nil {
					return err
				}
				c.FilePathPrefixes = vs
				return nil
			}},
		{Path: "file_change_prefixes", Flag: "file-change-prefix", Usage: "path prefix whose file changes, not reads, are kept (repeatable)", list: true,
			add: func(c *Config, vs []string) error {
				if err := checkFilePrefixes(vs); err != nil {
					return err
				}
				c.FileChangePrefixes = vs
				return nil
			}},
		{Path: "ring_buffer", Usage: "kernel ring buffer, a power of two from 64KiB to 1GiB", set: func(c *Config, v string) error {
			n, err := ParseSize(v)
			if err != nil {
				return err
			}
			if n < minRingBuffer || n > maxRingBuffer || n&(n-1) != 0 {
				return fmt.Errorf("%q is not a power of two from 64KiB to 1GiB", v)
			}
			c.RingBuffer = n
			return nil
		}},
		{Path: "read_delay", Usage: "longest a record waits in the ring buffer when few are queued", set: duration(&c.ReadDelay)},
		{Path: "process.ancestry_depth", Usage: "ancestors every process event lists (event/ANCESTORS), 0 to 64", set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 64 {
				return fmt.Errorf("%q is not a number from 0 to 64", v)
			}
			c.AncestryDepth = n
			return nil
		}},
		{Path: "process.environment", Flag: "environment-variable", Usage: "environment variable a NEW_PROCESS reports (repeatable; NAME or PREFIX*; [] for none)", list: true,
			add: func(c *Config, vs []string) error {
				for _, v := range vs {
					if v == "" || strings.ContainsAny(v, "=\x00") || strings.Contains(strings.TrimSuffix(v, "*"), "*") {
						return fmt.Errorf("%q is not a variable name (NAME, or PREFIX* for every name with that prefix)", v)
					}
				}
				c.Environment = vs
				return nil
			}},
		{Path: "process.package_ownership", isBool: true, Usage: "NEW_PROCESS names the installed package (dpkg, apk) owning the executable (event/EXE_PACKAGE, event/EXE_UNPACKAGED)",
			set: boolean(&c.PackageOwnership)},
		{Path: "statsd", Usage: "DogStatsD address host:port or unix:///path (empty: no metrics)", set: str(&c.Statsd)},
		{Path: "imds.enabled", Flag: "imds", isBool: true, Usage: "read identity and tags from EC2 IMDSv2: auto (on EC2 only, as DMI tells), true (always) or false (never); the file may say imds: VALUE",
			set: func(c *Config, v string) error {
				m, err := ParseIMDSMode(v)
				if err != nil {
					return err
				}
				c.IMDS = m
				return nil
			}},
		{Path: "imds.instance_tags", Flag: "imds-instance-tags", isBool: true, Usage: "add the instance's EC2 tags", set: boolean(&c.IMDSInstanceTags)},
		{Path: "respond.api_url", Usage: "Vigil API the sensor polls its tasks from (empty: no response tasks)", set: str(&c.RespondAPIURL)},
		{Path: "respond.poll_interval", Usage: "how often the sensor asks the API for its tasks, or reads its task bell (at least 1s): a task reaches the host within one interval",
			set: atLeast(&c.RespondPollInterval, cadence.MinTaskPoll, "5s, 30s, 1m")},
		{Path: "respond.task_bell_table", Usage: "DynamoDB table of task bells (the stack's TaskBellsTableName output): read every poll_interval, the API asked only when it rang (empty: the API is asked every poll_interval)", set: str(&c.RespondBellTable)},
		{Path: "respond.full_poll_interval", Usage: "with respond.task_bell_table, the API is asked at least this often",
			set: atLeast(&c.RespondFullPoll, cadence.MinTaskPoll, "15m, 1h")},
		{Path: "respond.org", Usage: "organisation of the API", set: str(&c.RespondOrg)},
		{Path: "respond.api_key_file", Usage: "file holding the sensor's API key", set: str(&c.RespondKeyFile)},
		{Path: "respond.state_file", Usage: "tasks run and isolation state, kept across restarts", set: str(&c.RespondStateFile)},
		{Path: "respond.backend", Usage: "Vigil endpoints kept reachable while isolated (names, URLs, addresses, CIDRs; repeatable)", list: true,
			add: func(c *Config, vs []string) error { c.RespondBackend = vs; return nil }},
		{Path: "respond.allow", Usage: "other endpoints kept reachable while isolated (repeatable)", list: true,
			add: func(c *Config, vs []string) error { c.RespondAllow = vs; return nil }},
		{Path: "respond.isolation_disabled", isBool: true, Usage: "refuse isolate tasks on this host", set: boolean(&c.IsolationDisabled)},
		{Path: "rules.edge", isBool: true, Usage: "evaluate the rule set on this host, on each event as it is captured, and send detections at once",
			set: boolean(&c.EdgeRules)},
		{Path: "rules.sources", Flag: "rules-source", Usage: "directory or file of rules and tuning files (Vigil, Falco, Sigma) for rules.edge (repeatable)", list: true,
			add: func(c *Config, vs []string) error { c.RuleSources = vs; return nil }},
		{Path: "rules.builtin", isBool: true, Usage: "include the built-in rule pack in the rule set", set: boolean(&c.BuiltinRules)},
		{Path: "rules.enforce", isBool: true, Usage: "carry out the rules' edge actions (kill, isolate, snapshot with edge: true); otherwise they are dry runs",
			set: boolean(&c.EnforceEdge)},
		{Path: "kubernetes.enabled", isBool: true, Usage: "give events of processes in pods their pod's context from the kubelet: auto (when the service account token and CA files exist and NODE_NAME is set), true or false; the file may say kubernetes: VALUE",
			set: func(c *Config, v string) error {
				m, err := ParseIMDSMode(v)
				if err != nil {
					return err
				}
				c.Kubernetes = m
				return nil
			}},
		{Path: "kubernetes.kubelet_url", Usage: "the kubelet's pod list endpoint base (default https://$NODE_NAME:10250; http://HOST:10255 for the read-only port)",
			set: func(c *Config, v string) error {
				if v != "" && !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
					return fmt.Errorf("%q is not an https:// or http:// URL", v)
				}
				c.KubeletURL = v
				return nil
			}},
		{Path: "kubernetes.token_file", Usage: "service account token sent to the kubelet", set: str(&c.KubeTokenFile)},
		{Path: "kubernetes.ca_file", Usage: "CA the kubelet's serving certificate is verified against", set: str(&c.KubeCAFile)},
		{Path: "kubernetes.max_pods", Usage: "pods kept in memory, 1 to 65536", set: func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65536 {
				return fmt.Errorf("%q is not a number from 1 to 65536", v)
			}
			c.KubeMaxPods = n
			return nil
		}},
		{Path: "kubernetes.list_interval", Usage: "least time between two pod lists (an event of an unknown pod asks for one)", set: duration(&c.KubeListInterval)},
		{Path: "health.listen", Usage: "address (host:port) serving the health probes /livez and /healthz (empty: none)", set: func(c *Config, v string) error {
			if v != "" {
				if err := checkListen(v); err != nil {
					return err
				}
			}
			c.HealthListen = v
			return nil
		}},
		{Path: "health.failure_threshold", Usage: "how long a shipping path may fail with no success before /healthz fails", set: duration(&c.HealthFailureThreshold)},
	}
	for i := range fs {
		f := &fs[i]
		f.Env = "VIGIL_" + strings.ToUpper(strings.NewReplacer(".", "_").Replace(f.Path))
		if f.Flag == "" {
			f.Flag = strings.NewReplacer(".", "-", "_", "-").Replace(f.Path)
		}
	}
	return fs
}

func checkTag(v string) error {
	k, _, ok := strings.Cut(v, ":")
	if !ok || k == "" {
		return fmt.Errorf("tag %q is not K:V", v)
	}
	return nil
}

// atLeast sets *p to a duration of at least min; examples are given in the
// error.
func atLeast(p *time.Duration, min time.Duration, examples string) func(*Config, string) error {
	return func(_ *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d < min {
			return fmt.Errorf("%q is not a duration of at least %s (like %s)", v, min, examples)
		}
		*p = d
		return nil
	}
}

func boolean(p *bool) func(*Config, string) error {
	return func(_ *Config, v string) error {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%q is not true or false", v)
		}
		*p = b
		return nil
	}
}

func duration(p *time.Duration) func(*Config, string) error {
	return func(_ *Config, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("%q is not a positive duration (like 500ms, 1s, 5m)", v)
		}
		*p = d
		return nil
	}
}

var units = []struct {
	suffix string
	mult   int64
}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}

// ParseSize reads 512MiB, 2GiB, 64MB or a plain number of bytes.
func ParseSize(v string) (int64, error) {
	s := strings.TrimSpace(v)
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, fmt.Errorf("%q is not a size (like 512MiB, 2GiB or a number of bytes)", v)
	}
	return n * mult, nil
}

func size(p *int64) func(*Config, string) error {
	return func(_ *Config, v string) error {
		n, err := ParseSize(v)
		if err != nil {
			return err
		}
		*p = n
		return nil
	}
}

// LoadFile reads the YAML file at path. A missing file is an error only when
// required (the default path may be absent: env and flags then configure).
func (c *Config) LoadFile(path string, required bool) error {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !required {
		return nil
	}
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	return c.Parse(path, data)
}

// Parse reads a YAML document; name is used in error messages.
func (c *Config) Parse(name string, data []byte) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil // empty file
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: the configuration must be a mapping of fields", name, root.Line)
	}
	byPath := map[string]Field{}
	for _, f := range c.Fields() {
		byPath[f.Path] = f
	}
	var errs []error
	c.walk(name, "", root, byPath, &errs)
	return errors.Join(errs...)
}

func (c *Config) walk(name, prefix string, m *yaml.Node, byPath map[string]Field, errs *[]error) {
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		path := prefix + k.Value
		at := fmt.Sprintf("%s:%d", name, k.Line)
		f, ok := byPath[path]
		if e, isSwitch := byPath[path+".enabled"]; !ok && isSwitch && v.Kind != yaml.MappingNode {
			// a section's switch on its own: imds: false is imds.enabled: false
			if err := c.setNode(e, v); err != nil {
				*errs = append(*errs, fmt.Errorf("%s:%d: %s: %w", name, v.Line, path, err))
				continue
			}
			c.sources[e.Path] = fmt.Sprintf("%s:%d", name, v.Line)
			continue
		}
		if !ok {
			if v.Kind == yaml.MappingNode && hasPrefix(byPath, path+".") {
				c.walk(name, path+".", v, byPath, errs)
				continue
			}
			*errs = append(*errs, fmt.Errorf("%s: unknown field %q%s", at, path, suggest(byPath, prefix)))
			continue
		}
		if err := c.setNode(f, v); err != nil {
			*errs = append(*errs, fmt.Errorf("%s:%d: %s: %w", name, v.Line, path, err))
			continue
		}
		c.sources[path] = fmt.Sprintf("%s:%d", name, v.Line)
	}
}

func hasPrefix(byPath map[string]Field, p string) bool {
	for k := range byPath {
		if strings.HasPrefix(k, p) {
			return true
		}
	}
	return false
}

func suggest(byPath map[string]Field, prefix string) string {
	var names []string
	for k := range byPath {
		if strings.HasPrefix(k, prefix) {
			names = append(names, strings.TrimPrefix(k, prefix))
		}
	}
	sort.Strings(names)
	return " (known: " + strings.Join(names, ", ") + ")"
}

func (c *Config) setNode(f Field, v *yaml.Node) error {
	if !f.list {
		if v.Kind != yaml.ScalarNode {
			return errors.New("want a single value")
		}
		if v.Tag == "!!null" {
			return f.set(c, "")
		}
		return f.set(c, v.Value)
	}
	var vs []string
	switch v.Kind {
	case yaml.SequenceNode:
		// an explicit [] is an empty list, not an absent one (nil): for
		// file_path_prefixes, no file events rather than the defaults
		vs = make([]string, 0, len(v.Content))
		for _, it := range v.Content {
			if it.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: want a list of values", it.Line)
			}
			vs = append(vs, it.Value)
		}
	case yaml.MappingNode: // tags: {env: prod}
		if f.Path != "tags" {
			return errors.New("want a list")
		}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, val := v.Content[i], v.Content[i+1]
			if val.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: tag %s: want a single value", val.Line, k.Value)
			}
			vs = append(vs, k.Value+":"+val.Value)
		}
	case yaml.ScalarNode:
		if v.Tag != "!!null" {
			vs = splitList(v.Value)
		}
	default:
		return errors.New("want a list")
	}
	return f.add(c, vs)
}

func splitList(s string) []string {
	var out []string
	for p := range strings.SplitSeq(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// ApplyEnv applies the VIGIL_* variables that lookup finds (os.LookupEnv).
func (c *Config) ApplyEnv(lookup func(string) (string, bool)) error {
	var errs []error
	for _, f := range c.Fields() {
		v, ok := lookup(f.Env)
		if !ok {
			continue
		}
		var err error
		if f.list {
			err = f.add(c, splitList(v))
		} else {
			err = f.set(c, v)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s (%s): %w", f.Env, f.Path, err))
			continue
		}
		c.sources[f.Path] = "environment " + f.Env
	}
	return errors.Join(errs...)
}

// Flags registers a flag for every field on fs; after fs.Parse, ApplyFlags applies
// the ones given. The --config flag is registered too; its value is returned.
func (c *Config) Flags(fs *flag.FlagSet) *string {
	for _, f := range c.Fields() {
		switch {
		case f.list:
			fs.Var(&listFlag{}, f.Flag, f.Usage)
		case f.isBool:
			fs.Var(&boolFlag{}, f.Flag, f.Usage)
		default:
			fs.String(f.Flag, "", f.Usage)
		}
	}
	return fs.String("config", DefaultPath, "configuration file (YAML); the default path may be absent")
}

type listFlag struct{ vs []string }

type boolFlag struct{ v string }

func (b *boolFlag) String() string     { return b.v }
func (b *boolFlag) Set(v string) error { b.v = v; return nil }
func (b *boolFlag) IsBoolFlag() bool   { return true }

func (l *listFlag) String() string     { return strings.Join(l.vs, ",") }
func (l *listFlag) Set(v string) error { l.vs = append(l.vs, splitList(v)...); return nil }

// ApplyFlags applies the flags given on the command line.
func (c *Config) ApplyFlags(fs *flag.FlagSet) error {
	byFlag := map[string]Field{}
	for _, f := range c.Fields() {
		byFlag[f.Flag] = f
	}
	var errs []error
	fs.Visit(func(fl *flag.Flag) {
		f, ok := byFlag[fl.Name]
		if !ok {
			return
		}
		var err error
		if lf, isList := fl.Value.(*listFlag); isList {
			err = f.add(c, lf.vs)
		} else {
			err = f.set(c, fl.Value.String())
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("flag --%s (%s): %w", fl.Name, f.Path, err))
			return
		}
		c.sources[f.Path] = "flag --" + fl.Name
	})
	return errors.Join(errs...)
}

// Source says where a field's value came from ("default" if nowhere).
func (c *Config) Source(path string) string {
	if s, ok := c.sources[path]; ok {
		return s
	}
	return "default"
}

// Validate checks the settled configuration as a whole.
func (c *Config) Validate() error {
	var errs []error
	bad := func(path, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s: %s", c.Source(path), path, fmt.Sprintf(format, args...)))
	}
	if c.Stream == "" && c.LakeBucket == "" && c.LocalDir == "" {
		errs = append(errs, errors.New("nowhere to ship: set stream (Kinesis), lake_bucket (S3) and/or local_dir"))
	}
	if c.LakeBucket != "" && c.LocalDir != "" {
		bad("local_dir", "local_dir and lake_bucket (%s) both set: choose one lake", c.Source("lake_bucket"))
	}
	if c.BatchInterval > time.Minute {
		bad("batch_interval", "%s is longer than a minute: the hot path is meant for seconds", c.BatchInterval)
	}
	if c.RollInterval > time.Hour {
		bad("roll_interval", "%s is longer than an hour (lake files never span an hour)", c.RollInterval)
	}
	if c.RollBytes < 1<<20 || c.RollBytes > 1<<30 {
		bad("roll_bytes", "%d bytes is outside 1MiB..1GiB", c.RollBytes)
	}
	if c.SpoolDir != "" && c.SpoolMaxBytes < c.RollBytes {
		bad("spool.max_bytes", "%d bytes cannot hold one lake file of roll_bytes (%d)", c.SpoolMaxBytes, c.RollBytes)
	}
	if c.SpoolDir != "" && !strings.HasPrefix(c.SpoolDir, "/") {
		bad("spool.dir", "%q is not an absolute path", c.SpoolDir)
	}
	for _, t := range c.Tags {
		if err := checkTag(t); err != nil {
			bad("tags", "%v", err)
		}
	}
	if c.RespondAPIURL != "" {
		if !strings.HasPrefix(c.RespondAPIURL, "https://") && !strings.HasPrefix(c.RespondAPIURL, "http://") {
			bad("respond.api_url", "%q is not an http(s) URL", c.RespondAPIURL)
		}
		if c.RespondStateFile == "" || !strings.HasPrefix(c.RespondStateFile, "/") {
			bad("respond.state_file", "%q is not an absolute path", c.RespondStateFile)
		}
		if len(c.RespondBackend) == 0 && !c.IsolationDisabled {
			bad("respond.backend", "empty: an isolated host would lose the backend (list the stream, lake and API endpoints, or set respond.isolation_disabled)")
		}
		if c.RespondBellTable != "" && !bellTable.MatchString(c.RespondBellTable) {
			bad("respond.task_bell_table", "%q is not a DynamoDB table name (3 to 255 of A-Z a-z 0-9 _ . -) or table ARN", c.RespondBellTable)
		}
		if c.RespondFullPoll < c.RespondPollInterval {
			bad("respond.full_poll_interval", "%s is shorter than respond.poll_interval (%s)", c.RespondFullPoll, c.RespondPollInterval)
		}
	} else if c.RespondBellTable != "" {
		bad("respond.task_bell_table", "set, but respond.api_url is empty: the bell only says when to ask the API")
	}
	if !c.EdgeRules {
		for _, f := range []string{"rules.sources", "rules.enforce"} {
			if c.Source(f) != "default" {
				bad(f, "set, but rules.edge is not true: the sensor evaluates no rules")
			}
		}
	}
	if c.EdgeRules && !c.BuiltinRules && len(c.RuleSources) == 0 {
		bad("rules.builtin", "false, and no rules.sources: the rule set is empty")
	}
	if c.EdgeRules && c.EnforceEdge {
		if c.RespondStateFile == "" || !strings.HasPrefix(c.RespondStateFile, "/") {
			bad("respond.state_file", "%q is not an absolute path (rules.enforce records the edge actions there)", c.RespondStateFile)
		}
		if len(c.RespondBackend) == 0 && !c.IsolationDisabled && c.RespondAPIURL == "" {
			bad("respond.backend", "empty: an edge isolate would cut the host off the backend (list the stream, lake and API endpoints, or set respond.isolation_disabled)")
		}
	}
	return errors.Join(errs...)
}

// bellTable is a DynamoDB table name or table ARN.
var bellTable = regexp.MustCompile(`^([A-Za-z0-9_.-]{3,255}|arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]{3,255})$`)

// EdgeReadDelay is read_delay's default with rules.edge: a captured event
// waits at most this long in the ring buffer before the rules see it.
const EdgeReadDelay = 20 * time.Millisecond

// settle sets the defaults that depend on other settings.
func (c *Config) settle() {
	if c.EdgeRules && c.Source("read_delay") == "default" {
		c.ReadDelay = EdgeReadDelay
		c.sources["read_delay"] = "default with rules.edge"
	}
}

// Load settles the configuration from the file (path; required unless it is
// DefaultPath), the environment and the parsed flags (fs may be nil), and
// validates it.
func Load(path string, lookup func(string) (string, bool), fs *flag.FlagSet) (Config, error) {
	c := Default()
	if err := c.LoadFile(path, path != DefaultPath); err != nil {
		return c, err
	}
	if err := c.ApplyEnv(lookup); err != nil {
		return c, err
	}
	if fs != nil {
		if err := c.ApplyFlags(fs); err != nil {
			return c, err
		}
	}
	c.settle()
	return c, c.Validate()
}

// checkListen accepts host:port with a numeric port (an empty host: every
// address).
func checkListen(v string) error {
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		return fmt.Errorf("%q is not host:port (like 127.0.0.1:9808)", v)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", v, port)
	}
	return nil
}

// checkFilePrefixes accepts path prefixes the kernel filter takes: absolute,
// at most maxFilePrefix bytes.
func checkFilePrefixes(vs []string) error {
	for _, v := range vs {
		if !strings.HasPrefix(v, "/") {
			return fmt.Errorf("%q is not an absolute path prefix", v)
		}
		if len(v) > maxFilePrefix {
			return fmt.Errorf("prefix %.20q… is %d bytes; the kernel filter takes at most %d", v, len(v), maxFilePrefix)
		}
	}
	return nil
}
