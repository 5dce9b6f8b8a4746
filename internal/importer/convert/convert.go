package convert

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/importer"
	"github.com/vigil-sec/vigil/internal/importer/falco"
	"github.com/vigil-sec/vigil/internal/importer/sigma"
)

// File converts a Falco or Sigma rule file to D&R rules. With format Unknown the
// format is sniffed from the content. Every converted rule is compiled with
// engine.Parse; one the engine refuses is reported as skipped rather than returned.
func File(name string, data []byte, format importer.Format) ([]importer.Rule, []importer.Skipped, importer.Format, error) {
	if format == importer.Unknown {
		format = importer.Sniff(data)
	}
	var (
		rules   []importer.Rule
		skipped []importer.Skipped
		err     error
	)
	switch format {
	case importer.Falco:
		rules, skipped, err = falco.Convert(name, data)
	case importer.Sigma:
		rules, skipped, err = sigma.Convert(name, data)
	case importer.DR:
		return nil, nil, format, fmt.Errorf("%s is already a Vigil D&R rule file: nothing to import", name)
	default:
		return nil, nil, format, fmt.Errorf("%s: not a Falco rules file or a Sigma rule (say which with --from)", name)
	}
	if err != nil {
		return nil, nil, format, fmt.Errorf("convert %s: %w", format, err)
	}
	ok := rules[:0]
	for _, r := range rules {
		if _, err := engine.Parse(r.FileName(), r.YAML); err != nil {
			skipped = append(skipped, importer.Skipped{Name: r.Name, Reason: fmt.Sprintf("%s: the converted rule does not load: %v", r.Source, err)})
			continue
		}
		ok = append(ok, r)
	}
	return ok, skipped, format, nil
}

// Load compiles a Falco or Sigma rule file (format sniffed) straight into engine
// rules. Rules it cannot convert are an error listing each of them, except rules
// left out on purpose (disabled, deprecated), which are returned as skipped.
func Load(name string, data []byte) ([]*engine.Rule, []importer.Skipped, error) {
	rules, skipped, _, err := File(name, data, importer.Unknown)
	if err != nil {
		return nil, nil, err
	}
	var failed []importer.Skipped
	for _, s := range skipped {
		if !s.Ignored {
			failed = append(failed, s)
		}
	}
	if len(failed) > 0 {
		msg := fmt.Sprintf("%s: %d rules could not be converted:", name, len(failed))
		for _, s := range failed {
			msg += "\n" + s.Reason
		}
		return nil, skipped, fmt.Errorf("%s", msg)
	}
	out := make([]*engine.Rule, 0, len(rules))
	for _, r := range rules {
		er, err := engine.Parse(r.FileName(), r.YAML)
		if err != nil {
			return nil, skipped, fmt.Errorf("%s: %w", r.Source, err)
		}
		out = append(out, er)
	}
	return out, skipped, nil
}

// FalcoSet converts Falco rules files as one rule set, in order (see
// falco.ConvertSet), and compiles every converted rule with engine.Parse: a rule
// the engine refuses is turned into a skipped outcome with the engine's reason.
func FalcoSet(files []falco.File) (*falco.Result, error) {
	res, err := falco.ConvertSet(files)
	if err != nil {
		return nil, fmt.Errorf("convert falco: %w", err)
	}
	for i := range res.Outcomes {
		o := &res.Outcomes[i]
		for _, r := range o.Rules {
			if _, err := engine.Parse(r.FileName(), r.YAML); err != nil {
				o.Status, o.Rules, o.Notes = falco.Skipped, nil, nil
				o.Reason = fmt.Sprintf("%s: the converted rule does not load: %v", r.Source, err)
				break
			}
		}
	}
	return res, nil
}
