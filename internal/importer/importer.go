package importer

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// Format is a rule file format.
type Format int

// Formats Sniff tells apart.
const (
	Unknown Format = iota
	// DR is Vigil's own detection & response format (or its shared lists/macros file).
	DR
	// Falco is a Falco rules file: a YAML list of rule, list and macro items.
	Falco
	// Sigma is a Sigma rule: a mapping with title, logsource and detection.
	Sigma
)

func (f Format) String() string {
	switch f {
	case DR:
		return "dr"
	case Falco:
		return "falco"
	case Sigma:
		return "sigma"
	}
	return "unknown"
}

// ParseFormat reads a format name as the command line gives it (dr, falco, sigma).
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "dr", "vigil":
		return DR, nil
	case "falco":
		return Falco, nil
	case "sigma":
		return Sigma, nil
	}
	return Unknown, fmt.Errorf("unknown rule format %q (known: dr, falco, sigma)", s)
}

// Sniff tells the format of a rule file from its content: a Falco file is a YAML
// list whose items are mappings with a rule, list, macro or required_engine_version
// key; a Sigma rule is a mapping with title, logsource and detection (or a Sigma
// collection whose first document has action: global); a D&R file is a mapping with
// detection and response, or a shared file with lists and/or macros. Anything else
// is Unknown.
func Sniff(data []byte) Format {
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil || len(doc.Content) == 0 {
		return Unknown
	}
	top := doc.Content[0]
	switch top.Kind {
	case yaml.SequenceNode:
		if len(top.Content) == 0 {
			return Unknown
		}
		for _, item := range top.Content {
			if item.Kind != yaml.MappingNode || !hasAnyKey(item, "rule", "list", "macro", "required_engine_version", "required_plugin_versions") {
				return Unknown
			}
		}
		return Falco
	case yaml.MappingNode:
		switch {
		case hasAnyKey(top, "logsource") && hasAnyKey(top, "detection") && hasAnyKey(top, "title"):
			return Sigma
		case mapValue(top, "action") == "global" && hasAnyKey(top, "title"):
			return Sigma
		case hasAnyKey(top, "detection") && hasAnyKey(top, "response"):
			return DR
		case (hasAnyKey(top, "lists") || hasAnyKey(top, "macros")) && !hasAnyKey(top, "detection"):
			return DR
		}
	}
	return Unknown
}

func hasAnyKey(m *yaml.Node, keys ...string) bool {
	for i := 0; i+1 < len(m.Content); i += 2 {
		for _, k := range keys {
			if m.Content[i].Value == k {
				return true
			}
		}
	}
	return false
}

func mapValue(m *yaml.Node, key string) string {
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key && m.Content[i+1].Kind == yaml.ScalarNode {
			return m.Content[i+1].Value
		}
	}
	return ""
}

// Rule is one converted rule: Name is its Vigil rule name (the file base name to
// write it under), YAML the D&R document, Source where it came from ("file:line:
// rule <name>").
type Rule struct {
	Name   string
	YAML   []byte
	Source string
	// Notes say what the conversion left out or approximated (a Falco rule's
	// branch on events Vigil's sensor does not report, say); empty when the rule
	// is converted whole.
	Notes []string
}

// FileName is the file the rule is written to: its name with .yaml.
func (r Rule) FileName() string { return r.Name + ".yaml" }

// Skipped is a rule that was not converted and why. Name is the rule's name in its
// own format; Reason names the construct and where it is.
type Skipped struct {
	Name   string
	Reason string
	// Ignored says the rule was left out on purpose (disabled, deprecated) rather
	// than because it could not be converted.
	Ignored bool
}

func (s Skipped) String() string { return fmt.Sprintf("%s: %s", s.Name, s.Reason) }

// SnakeName turns a rule title into a file-safe snake_case name: lower-case ASCII
// letters and digits, runs of anything else become one underscore. An empty result
// becomes "rule".
func SnakeName(title string) string {
	var b strings.Builder
	under := false
	for _, r := range title {
		switch {
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if under && b.Len() > 0 {
				b.WriteByte('_')
			}
			under = false
			b.WriteRune(unicode.ToLower(r))
		default:
			under = true
		}
	}
	s := b.String()
	if len(s) > 100 {
		s = strings.TrimRight(s[:100], "_")
	}
	if s == "" {
		return "rule"
	}
	return s
}

// Names hands out unique rule names: the second rule called x becomes x_2.
type Names map[string]int

// Unique returns name, or name_N when name was already handed out.
func (n Names) Unique(name string) string {
	n[name]++
	if c := n[name]; c > 1 {
		alt := fmt.Sprintf("%s_%d", name, c)
		for n[alt] > 0 {
			c++
			alt = fmt.Sprintf("%s_%d", name, c)
		}
		n[alt]++
		return alt
	}
	return name
}

// GlobRegexp converts a glob (* any run of characters, ? one character, [...] a
// class with [!...] negated) to an RE2 body without anchors. escape enables
// backslash escapes of the next character (Sigma's wildcards); without it a
// backslash is literal (Falco's glob).
func GlobRegexp(glob string, escape bool) (string, error) {
	return GlobRegexpClass(glob, escape, ".")
}

// GlobRegexpClass is GlobRegexp with * and ? covering only characters of class
// (an RE2 atom such as `[^/]` for one path component).
func GlobRegexpClass(glob string, escape bool, class string) (string, error) {
	var b strings.Builder
	rs := []rune(glob)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		switch {
		case escape && c == '\\' && i+1 < len(rs):
			i++
			b.WriteString(quoteRune(rs[i]))
		case c == '*':
			b.WriteString(class + "*")
		case c == '?':
			b.WriteString(class)
		case c == '[':
			j := i + 1
			if j < len(rs) && (rs[j] == '!' || rs[j] == '^') {
				j++
			}
			if j < len(rs) && rs[j] == ']' {
				j++
			}
			for j < len(rs) && rs[j] != ']' {
				j++
			}
			if j >= len(rs) {
				return "", fmt.Errorf("glob %q: unterminated [", glob)
			}
			class := rs[i+1 : j]
			b.WriteByte('[')
			if len(class) > 0 && (class[0] == '!' || class[0] == '^') {
				b.WriteByte('^')
				class = class[1:]
			}
			for _, cr := range class {
				if cr == '\\' || cr == '[' || cr == ']' {
					b.WriteByte('\\')
				}
				b.WriteRune(cr)
			}
			b.WriteByte(']')
			i = j
		default:
			b.WriteString(quoteRune(c))
		}
	}
	return b.String(), nil
}

func quoteRune(r rune) string {
	if strings.ContainsRune(`\.+*?()|[]{}^$`, r) {
		return `\` + string(r)
	}
	return string(r)
}
