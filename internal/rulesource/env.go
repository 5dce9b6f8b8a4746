package rulesource

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
)

// The environment of the functions that load rules (detect, api), set by the
// stack (infra) from its context.
const (
	// EnvSources lists the rule sources, separated by colons like PATH.
	EnvSources = "VIGIL_RULE_SOURCES"
	// EnvBuiltin is "false" to leave the shipped pack out; true when unset.
	EnvBuiltin = "VIGIL_BUILTIN_RULES"
)

// OptionsFromEnv reads the sources from the environment through getenv: the pack
// unless EnvBuiltin is false, then the paths of EnvSources.
func OptionsFromEnv(getenv func(string) string, pack fs.FS) (Options, error) {
	o := Options{Pack: pack}
	if v := getenv(EnvBuiltin); v != "" {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return Options{}, fmt.Errorf("%s=%q: want true or false", EnvBuiltin, v)
		}
		if !on {
			o.Pack = nil
		}
	}
	for _, p := range filepath.SplitList(getenv(EnvSources)) {
		if p != "" {
			o.Paths = append(o.Paths, p)
		}
	}
	return o, nil
}

// FromEnv loads the rule set the environment names (OptionsFromEnv).
func FromEnv(getenv func(string) string, pack fs.FS) (*Set, error) {
	o, err := OptionsFromEnv(getenv, pack)
	if err != nil {
		return nil, err
	}
	return Load(o)
}
