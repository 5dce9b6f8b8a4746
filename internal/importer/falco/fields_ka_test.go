package falco

import (
	"regexp"
	"testing"
)

// TestComplementRegexp checks that the expression of a set matches exactly the
// strings outside it: members, their prefixes and extensions, and characters that
// need escaping inside a class.
func TestComplementRegexp(t *testing.T) {
	sets := [][]string{
		{"a"},
		{"ab", "abc", "b"},
		{"docker.io/falcosecurity/falco", "docker.io/calico/node", "registry.k8s.io/kube-proxy"},
		{"a-b", "a]b", `a\b`, "a^b", "a[b", "é"},
		{""},
	}
	probes := []string{"", "a", "ab", "abc", "abcd", "b", "ba", "x", "a-b", "a]b", `a\b`, "a^b", "a[b", "aXb", "é", "éé", "e",
		"docker.io/falcosecurity/falco", "docker.io/falcosecurity/falc", "docker.io/falcosecurity/falco2",
		"docker.io/calico/node", "registry.k8s.io/kube-proxy", "registry.k8s.io/kube-proxy\n", "line\nbreak"}
	for _, set := range sets {
		re := regexp.MustCompile("^(?:" + complementRegexp(set) + ")$")
		in := map[string]bool{}
		for _, s := range set {
			in[s] = true
		}
		for _, p := range append(probes, set...) {
			if got := re.MatchString(p); got == in[p] {
				t.Errorf("set %q: %q matches %v, want %v", set, p, got, !in[p])
			}
		}
	}
}
