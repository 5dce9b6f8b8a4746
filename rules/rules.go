package rules

import (
	"embed"

	"github.com/vigil-sec/vigil/internal/engine"
)

// FS holds the rule pack: the rule files at its root, their fixtures in testdata/ and
// coverage.md, the pack's coverage of Falco's behaviours that docs/rule-pack.md ends with.
//
//go:embed *.yaml coverage.md testdata
var FS embed.FS

// Load parses the embedded rule pack.
func Load() ([]*engine.Rule, error) { return engine.Load(FS, ".") }

// Engine returns an engine evaluating the embedded rule pack.
func Engine() (*engine.Engine, error) {
	rs, err := Load()
	if err != nil {
		return nil, err
	}
	return engine.New(rs)
}
