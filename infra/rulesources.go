package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"github.com/vigil-sec/vigil/internal/rulesource"
	"github.com/vigil-sec/vigil/rules"
)

// ruleLayerRoot is where the rules layer puts the rule sources in the functions:
// source i (0 for the first of ruleSources) under <ruleLayerRoot>/<i>/<its base
// name>, so tuning's sources: selectors see the same path segments as on the
// machine that synthesized.
const ruleLayerRoot = "/opt/vigil-rules"

// ruleLayerStaging is the directory under the cloud assembly (cdk.out) where the
// layer's content is assembled before it becomes an asset.
const ruleLayerStaging = "vigil-rules-layer"

// ruleLayer is the rule sources of the configuration, checked and staged for a
// layer.
type ruleLayer struct {
	staging   string   // the layer's content
	deployed  []string // the sources as the functions see them
	noBuiltin bool
}

// stageRuleSources loads the rule sources of the configuration with the pack as the
// functions will (any error of any file fails the synth, naming it), copies the
// files it read into outdir/ruleLayerStaging under vigil-rules/, and loads that copy
// again to check it gives the same rule set. Nil without ruleSources.
func stageRuleSources(cfg Config, outdir string) (*ruleLayer, error) {
	if len(cfg.RuleSources) == 0 {
		return nil, nil
	}
	opts := rulesource.Options{Pack: rules.FS, Paths: cfg.RuleSources}
	if cfg.NoBuiltinRules {
		opts.Pack = nil
	}
	set, err := rulesource.Load(opts)
	if err != nil {
		return nil, fmt.Errorf("context %q: the rules do not load:\n%w", ctxRuleSources, err)
	}
	l := &ruleLayer{staging: filepath.Join(outdir, ruleLayerStaging), noBuiltin: cfg.NoBuiltinRules}
	if err := os.RemoveAll(l.staging); err != nil {
		return nil, fmt.Errorf("rules layer: %w", err)
	}
	var local []string // the staged copies of the sources
	i := 0
	for _, src := range set.Sources {
		if src.Name == rulesource.Builtin || len(src.Files) == 0 {
			continue // the pack is embedded; a source whose files an earlier one read adds nothing
		}
		base, err := baseName(src.Dir)
		if err != nil {
			return nil, err
		}
		rel := path.Join(strconv.Itoa(i), base)
		i++
		for _, f := range src.Files {
			from := filepath.Join(src.Dir, filepath.FromSlash(f.Rel))
			if err := copyFile(from, filepath.Join(l.staging, "vigil-rules", filepath.FromSlash(rel), filepath.FromSlash(f.Rel))); err != nil {
				return nil, fmt.Errorf("rules layer: %w", err)
			}
		}
		if src.File != "" {
			rel = path.Join(rel, src.File)
		}
		l.deployed = append(l.deployed, path.Join(ruleLayerRoot, rel))
		local = append(local, filepath.Join(l.staging, "vigil-rules", filepath.FromSlash(rel)))
	}
	opts.Paths = local
	staged, err := rulesource.Load(opts)
	if err == nil {
		err = sameRules(set, staged)
	}
	if err != nil {
		return nil, fmt.Errorf("context %q: the rules copied into the layer do not load as the sources do: %w", ctxRuleSources, err)
	}
	return l, nil
}

// attach adds the layer to scope and gives it to fns (detect and api) with
// VIGIL_RULE_SOURCES and, without the pack, VIGIL_BUILTIN_RULES=false.
func (l *ruleLayer) attach(scope constructs.Construct, fns ...awslambda.Function) {
	if l == nil {
		return
	}
	layer := awslambda.NewLayerVersion(scope, jsii.String("RuleSources"), &awslambda.LayerVersionProps{
		Description:             jsii.String("Vigil rule sources (" + ruleLayerRoot + ")"),
		Code:                    awslambda.Code_FromAsset(jsii.String(l.staging), nil),
		CompatibleRuntimes:      &[]awslambda.Runtime{awslambda.Runtime_PROVIDED_AL2023()},
		CompatibleArchitectures: &[]awslambda.Architecture{awslambda.Architecture_ARM_64()},
	})
	for _, fn := range fns {
		fn.AddLayers(layer)
		fn.AddEnvironment(jsii.String(rulesource.EnvSources), jsii.String(strings.Join(l.deployed, ":")), nil)
		if l.noBuiltin {
			fn.AddEnvironment(jsii.String(rulesource.EnvBuiltin), jsii.String("false"), nil)
		}
	}
}

// baseName is the last element of dir's absolute path.
func baseName(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("rules layer: %w", err)
	}
	base := filepath.Base(abs)
	if base == string(filepath.Separator) || base == "." {
		base = "root"
	}
	return base, nil
}

// sameRules checks that two loads of the same rules agree: the rules that run,
// the disabled ones, and the tuning changes (a sources: selector naming a directory
// above a source would select differently in the layer).
func sameRules(sources, layer *rulesource.Set) error {
	type view struct{ run, off, changes []string }
	see := func(s *rulesource.Set) view {
		var v view
		for _, r := range s.Rules {
			v.run = append(v.run, r.Name)
		}
		for _, r := range s.Disabled {
			v.off = append(v.off, r.Name)
		}
		for _, c := range s.Changes {
			v.changes = append(v.changes, "rule "+c.Rule+": "+c.What)
		}
		return v
	}
	a, b := see(sources), see(layer)
	var diffs []string
	for _, d := range []struct {
		what string
		a, b []string
	}{{"running", a.run, b.run}, {"disabled", a.off, b.off}, {"tuned", a.changes, b.changes}} {
		if only := missing(d.a, d.b); len(only) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s only where the sources are: %s", d.what, strings.Join(only, ", ")))
		}
		if only := missing(d.b, d.a); len(only) > 0 {
			diffs = append(diffs, fmt.Sprintf("%s only in the layer: %s", d.what, strings.Join(only, ", ")))
		}
	}
	if len(diffs) > 0 {
		return fmt.Errorf("%s (does a tuning sources: selector name a directory above a source? name the source's own directories)", strings.Join(diffs, "; "))
	}
	return nil
}

// missing returns the items of a that b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// copyFile copies a rule file into the layer's staging directory.
func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
