package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/convert"
	"go.yaml.in/yaml/v3"
)

func init() {
	reports = append(reports, report{name: "sigma", run: func(dir string, w *os.File) error { return sigmaReport(dir, w) }})
}

// sigmaReport converts every Sigma rule under dir/sigma/rules/linux and writes, as
// Markdown, a table per log source (category or service) of the rules converted
// and refused, then the refused rules grouped by reason. The Kubernetes audit
// rules (dir/sigma/rules/application/kubernetes) are counted on a row of their own.
func sigmaReport(dir string, w io.Writer) error {
	root := filepath.Join(dir, "sigma", "rules")
	linux := filepath.Join(root, "linux")
	if st, err := os.Stat(linux); err != nil || !st.IsDir() {
		return fmt.Errorf("%s is not a directory of Sigma rules: %w", linux, err)
	}
	sources := map[string]*sigmaSource{}
	byReason := map[string][]string{}
	if err := convertSigmaTree(root, linux, "", sources, byReason); err != nil {
		return err
	}
	k8s := filepath.Join(root, "application", "kubernetes")
	if st, err := os.Stat(k8s); err == nil && st.IsDir() {
		if err := convertSigmaTree(root, k8s, "application/kubernetes", sources, byReason); err != nil {
			return err
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "## Sigma: sigma/rules/linux and sigma/rules/application/kubernetes\n\n")
	b.WriteString("| log source | rules | converted | refused | D&R rules written |\n|---|--:|--:|--:|--:|\n")
	var total sigmaSource
	for _, k := range slices.Sorted(maps.Keys(sources)) {
		s := sources[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d |\n", k, s.total, s.converted, s.total-s.converted, s.outputs)
		total.total += s.total
		total.converted += s.converted
		total.outputs += s.outputs
	}
	fmt.Fprintf(&b, "| **all** | **%d** | **%d** | **%d** | **%d** |\n", total.total, total.converted, total.total-total.converted, total.outputs)
	if len(byReason) > 0 {
		b.WriteString("\n### Refused, by reason\n")
		reasons := slices.Sorted(maps.Keys(byReason))
		sort.SliceStable(reasons, func(i, j int) bool { return len(byReason[reasons[i]]) > len(byReason[reasons[j]]) })
		for _, r := range reasons {
			files := byReason[r]
			sort.Strings(files)
			fmt.Fprintf(&b, "\n%d × %s\n\n", len(files), r)
			for _, f := range files {
				fmt.Fprintf(&b, "- %s\n", f)
			}
		}
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func isSigmaFile(path string) bool {
	return strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")
}

type sigmaSource struct{ total, converted, outputs int }

// convertSigmaTree converts every rule under dir, counting it under its log source
// (or under key, when given) in sources, or under its reason in byReason.
func convertSigmaTree(root, dir, key string, sources map[string]*sigmaSource, byReason map[string][]string) error {
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isSigmaFile(path) {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read rule: %w", err)
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return fmt.Errorf("rule path: %w", err)
		}
		name := filepath.ToSlash(rel)
		k := key
		if k == "" {
			k = sigmaLogsource(data)
		}
		s := sources[k]
		if s == nil {
			s = &sigmaSource{}
			sources[k] = s
		}
		s.total++
		rules, skipped, _, err := convert.File(name, data, importer.Sigma)
		switch {
		case err != nil:
			byReason[sigmaReason(err.Error())] = append(byReason[sigmaReason(err.Error())], name)
		case len(skipped) > 0:
			r := sigmaReason(skipped[0].Reason)
			byReason[r] = append(byReason[r], name)
		default:
			s.converted++
			s.outputs += len(rules)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("walk %s: %w", dir, err)
	}
	return nil
}

// sigmaLogsource names a rule's log source: its category, its service, or product
// only.
func sigmaLogsource(data []byte) string {
	var doc struct {
		Logsource map[string]any `yaml:"logsource"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return "(not YAML)"
	}
	str := func(k string) string { s, _ := doc.Logsource[k].(string); return s }
	switch {
	case str("category") != "":
		return "category " + str("category")
	case str("service") != "":
		return "service " + str("service")
	case str("product") != "":
		return "product " + str("product") + " only"
	}
	return "(no logsource)"
}

var (
	sigmaReasonPrefix = regexp.MustCompile(`^.*?:\d+: rule ".*?": `)
	sigmaSearchPrefix = regexp.MustCompile(`^search [^ :]+: `)
)

// sigmaReason is the part of a refusal that says why, without the file, line, rule
// and search it names, so that rules refused for one reason group together.
func sigmaReason(s string) string {
	s = sigmaReasonPrefix.ReplaceAllString(s, "")
	return sigmaSearchPrefix.ReplaceAllString(s, "")
}
