package rulesource

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/falco"
	"github.com/vigil-sec/vigil/internal/tuning"
)

// convertFalco converts the Falco files of every source as one ordered set, as
// Falco loads them: the sources in the order given, a directory's files in
// lexical order, later files using and extending the lists, macros and rules of
// earlier ones.
func convertFalco(files []*File) ([]importer.Rule, []importer.Skipped, error) {
	if len(files) == 0 {
		return nil, nil, nil
	}
	set := make([]falco.File, len(files))
	for i, f := range files {
		set[i] = falco.File{Name: f.Path, Data: f.data}
	}
	res, err := falco.ConvertSet(set)
	if err != nil {
		return nil, nil, err
	}
	rules, skipped := res.Split()
	return rules, skipped, nil
}

// converter is an importer's Convert: one file to D&R rules.
type converter func(name string, data []byte) ([]importer.Rule, []importer.Skipped, error)

// convertEach converts files one by one with convert; the error reports every file
// that is not of convert's format at all.
func convertEach(files []*File, convert converter) ([]importer.Rule, []importer.Skipped, error) {
	var (
		rules   []importer.Rule
		skipped []importer.Skipped
		errs    []error
	)
	for _, f := range files {
		rs, sk, err := convert(f.Path, f.data)
		if err != nil {
			errs = append(errs, withFile(err, f.Path))
			continue
		}
		rules, skipped = append(rules, rs...), append(skipped, sk...)
	}
	return rules, skipped, errors.Join(errs...)
}

// withFile makes sure an importer's error names the file.
func withFile(err error, file string) error {
	if strings.HasPrefix(err.Error(), file+":") {
		return err
	}
	return fmt.Errorf("%s: %w", file, err)
}

// classify tells what a file holds from its content. A file that is none of the
// formats is an error saying what it looked like.
func classify(file string, data []byte) (Kind, error) {
	if tuning.Is(data) {
		return Tuning, nil
	}
	switch importer.Sniff(data) {
	case importer.DR:
		if engine.IsLibrary(data) {
			return Lists, nil
		}
		return Rule, nil
	case importer.Falco:
		return Falco, nil
	case importer.Sigma:
		return Sigma, nil
	}
	top, err := engine.Document(file, data)
	if err != nil {
		return 0, err
	}
	switch top.Kind {
	case yaml.MappingNode:
		keys := mappingKeys(top)
		switch {
		case keys["detection"] || keys["response"]:
			// a rule with a mistake: the engine names it
			return Rule, nil
		case keys["title"] || keys["logsource"]:
			var missing []string
			for _, k := range []string{"title", "logsource", "detection"} {
				if !keys[k] {
					missing = append(missing, k+":")
				}
			}
			return 0, fmt.Errorf("%s:%d: not a rule file: a Sigma rule needs title:, logsource: and detection:, this mapping lacks %s",
				file, top.Line, strings.Join(missing, ", "))
		}
		return 0, fmt.Errorf("%s:%d: not a rule file: a mapping with %s; %s", file, top.Line, keyList(keys), want)
	case yaml.SequenceNode:
		for i, item := range top.Content {
			if item.Kind != yaml.MappingNode {
				return 0, fmt.Errorf("%s:%d: not a Falco rules file: item %d is %s, want a mapping with rule:, list: or macro:", file, item.Line, i+1, engine.KindName(item))
			}
			if keys := mappingKeys(item); !keys["rule"] && !keys["list"] && !keys["macro"] {
				return 0, fmt.Errorf("%s:%d: not a Falco rules file: item %d has %s, want rule:, list: or macro:", file, item.Line, i+1, keyList(keys))
			}
		}
		return 0, fmt.Errorf("%s:%d: not a rule file: an empty list; %s", file, top.Line, want)
	}
	return 0, fmt.Errorf("%s:%d: not a rule file: %s; %s", file, top.Line, engine.KindName(top), want)
}

// want lists the formats a rule file may have.
const want = "want a Vigil rule (detection: and response:), a lists/macros file (lists:, macros:), " +
	"a tuning file (tuning:), a Falco rules file (a list of rule:, list: and macro: items) or a Sigma rule (title:, logsource:, detection:)"

func mappingKeys(n *yaml.Node) map[string]bool {
	keys := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		keys[n.Content[i].Value] = true
	}
	return keys
}

func keyList(keys map[string]bool) string {
	if len(keys) == 0 {
		return "no keys"
	}
	var ks []string
	for k := range keys {
		ks = append(ks, k+":")
	}
	sort.Strings(ks)
	if len(ks) > 8 {
		ks = append(ks[:8], "…")
	}
	return "the keys " + strings.Join(ks, ", ")
}
