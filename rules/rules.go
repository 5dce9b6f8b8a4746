package rules

import (
	"embed"

	"github.com/vigil-sec/vigil/internal/engine"
)

// FS holds the rule pack: the rule files at its root and their fixtures in testdata/.
//
//go:embed *.yaml testdata
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
