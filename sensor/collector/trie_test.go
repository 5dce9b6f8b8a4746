package collector

import (
	"encoding/binary"
	"strings"
	"testing"
)

// trieLookup is the kernel's LPM trie lookup of key (cut to MaxFilePrefix
// bytes, as the kernel cuts it) among entries: the entry of the longest prefix
// of key, or nil.
func trieLookup(entries []trieEntry, key string) *trieEntry {
	if len(key) > MaxFilePrefix {
		key = key[:MaxFilePrefix]
	}
	var best *trieEntry
	for i, e := range entries {
		if strings.HasPrefix(key, e.prefix) && (best == nil || len(e.prefix) > len(best.prefix)) {
			best = &entries[i]
		}
	}
	return best
}

// configuredVerdict is the verdict of path under the configured prefixes
// alone (of a prefix given twice, the last): that of its longest prefix.
func configuredVerdict(prefixes []prefixEntry, path string) uint8 {
	if len(path) > MaxFilePrefix {
		path = path[:MaxFilePrefix]
	}
	best, v := -1, uint8(0)
	for _, p := range prefixes {
		if len(p.prefix) >= best && strings.HasPrefix(path, p.prefix) {
			best, v = len(p.prefix), p.val
		}
	}
	return v
}

// dirVerdict is dir_prefix_verdict (sensor/bpf/dir_verdicts.h): the verdict of
// every file in dir ('/'-terminated), or -1 if the trie says it differs.
func dirVerdict(entries []trieEntry, dir string) int {
	e := trieLookup(entries, dir)
	switch {
	case e == nil:
		return 0
	case e.split && len(e.prefix) == min(len(dir), MaxFilePrefix):
		return -1
	}
	return int(e.verdict)
}

// checkTrie checks that the trie entries for prefixes decide each of paths as
// the configured prefixes do, and that every directory of each path the trie
// calls uniform decides each of its files (names made from the prefixes'
// components there) as its own verdict says.
func checkTrie(t *testing.T, prefixes []prefixEntry, paths []string) {
	t.Helper()
	entries := trieEntries(prefixes)
	for _, p := range paths {
		got := uint8(0)
		if e := trieLookup(entries, p); e != nil {
			got = e.verdict
		}
		if want := configuredVerdict(prefixes, p); got != want {
			t.Errorf("path %q: trie verdict %d, configured %d", p, got, want)
		}
		for i := 0; i < len(p); i++ {
			if p[i] != '/' {
				continue
			}
			dir := p[:i+1]
			v := dirVerdict(entries, dir)
			if v < 0 {
				continue
			}
			for _, name := range namesIn(prefixes, dir) {
				if want := configuredVerdict(prefixes, dir+name); int(want) != v {
					t.Errorf("directory %q cached as %d, but its file %q is decided %d", dir, v, dir+name, want)
				}
			}
		}
	}
}

// namesIn returns file names in dir that the prefixes may decide apart: each
// prefix's next component below dir, cut at every length and extended.
func namesIn(prefixes []prefixEntry, dir string) []string {
	names := []string{"f", strings.Repeat("n", 255)}
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(p.prefix, dir)
		if !ok {
			continue
		}
		rest, _, _ = strings.Cut(rest, "/")
		for n := 1; n <= len(rest); n++ {
			names = append(names, rest[:n], rest[:n]+"x")
		}
	}
	return names
}

func TestTrieEntries(t *testing.T) {
	for _, tt := range []struct {
		name     string
		prefixes []prefixEntry
		want     map[string]trieEntry // entries checked, by prefix
		paths    []string
	}{
		{
			name:     "watched directory split by an excluded file prefix",
			prefixes: []prefixEntry{{"/tmp/x/", 1}, {"/tmp/x/y", 0}},
			want: map[string]trieEntry{
				"/":        {prefix: "/", verdict: 0, split: true},
				"/tmp/":    {prefix: "/tmp/", verdict: 0, split: true},
				"/tmp/x/":  {prefix: "/tmp/x/", verdict: 1, split: true},
				"/tmp/x/y": {prefix: "/tmp/x/y", verdict: 0},
			},
			paths: []string{"/tmp/x/a", "/tmp/x/y", "/tmp/x/yz", "/tmp/x/y/z", "/tmp/xa", "/tmp/a", "/etc/passwd"},
		},
		{
			name:     "changes only below a reported prefix",
			prefixes: []prefixEntry{{"/usr/", 1}, {"/usr/bin/", prefixChanges}, {"/usr/bin/sudo", 1}},
			want: map[string]trieEntry{
				"/usr/":     {prefix: "/usr/", verdict: 1, split: true},
				"/usr/bin/": {prefix: "/usr/bin/", verdict: prefixChanges, split: true},
			},
			paths: []string{"/usr/bin/ls", "/usr/bin/sudo", "/usr/bin/sudoedit", "/usr/lib/x", "/usr/bin/x/y"},
		},
		{
			name:     "a prefix given twice: the last decides",
			prefixes: []prefixEntry{{"/etc/", 1}, {"/etc/", 0}},
			want:     map[string]trieEntry{"/etc/": {prefix: "/etc/", verdict: 0}, "/": {prefix: "/", split: true}},
			paths:    []string{"/etc/passwd", "/var/x"},
		},
		{
			name:     "a directory deeper than the trie's keys",
			prefixes: []prefixEntry{{"/" + strings.Repeat("d/", 60) + "a", 1}},
			paths:    []string{"/" + strings.Repeat("d/", 70) + "a", "/" + strings.Repeat("d/", 60) + "b", "/" + strings.Repeat("d/", 60) + "ab"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			entries := trieEntries(tt.prefixes)
			byPrefix := map[string]trieEntry{}
			for _, e := range entries {
				if _, dup := byPrefix[e.prefix]; dup {
					t.Errorf("prefix %q twice in the trie", e.prefix)
				}
				byPrefix[e.prefix] = e
			}
			for p, want := range tt.want {
				if got, ok := byPrefix[p]; !ok || got != want {
					t.Errorf("entry %q = %+v (present %v), want %+v", p, got, ok, want)
				}
			}
			checkTrie(t, tt.prefixes, tt.paths)
		})
	}
}

// TestTrieEntriesDefaults checks the default prefixes' trie: within the
// kernel map's room, and deciding the watched directories' files as the
// prefixes do.
func TestTrieEntriesDefaults(t *testing.T) {
	pe, err := prefixEntries(Options{})
	if err != nil {
		t.Fatal(err)
	}
	entries := trieEntries(pe)
	if room := MaxFilePrefixes * MaxFilePrefix / 2; len(entries) > room {
		t.Errorf("%d trie entries, room for %d", len(entries), room)
	}
	var paths []string
	for _, p := range pe {
		paths = append(paths, p.prefix, p.prefix+"x", p.prefix+"/x")
	}
	checkTrie(t, pe, append(paths, "/usr/share/doc/x", "/proc/self/status", "/var/lib/dpkg/status"))
}

func TestTrieEntryEncoding(t *testing.T) {
	e := trieEntry{prefix: "/etc/", verdict: prefixChanges, split: true}
	key, val := e.key(), e.value()
	if len(key) != 4+MaxFilePrefix || binary.LittleEndian.Uint32(key) != 40 || string(key[4:9]) != "/etc/" || key[9] != 0 {
		t.Errorf("key = %v", key[:12])
	}
	if len(val) != 4 || val[0] != prefixChanges || val[1] != prefixSplit || binary.LittleEndian.Uint16(val[2:]) != 40 {
		t.Errorf("value = %v, want [2 1 40 0]", val)
	}
}

// FuzzTrieEntries checks trieEntries' promise (see checkTrie) on prefixes
// made from the input: one per line, the verdict from its first byte.
func FuzzTrieEntries(f *testing.F) {
	f.Add("1/tmp/x/\n0/tmp/x/y\n2/usr/bin/")
	f.Add("1/\n0/a/b/\n1/a/b/c\n2/a/")
	f.Add("1/a//b/\n0/a/./\n1/a/")
	f.Fuzz(func(t *testing.T, in string) {
		var prefixes []prefixEntry
		for _, line := range strings.Split(in, "\n") {
			if len(line) < 2 || len(line) > MaxFilePrefix+1 || len(prefixes) == 16 {
				continue
			}
			prefixes = append(prefixes, prefixEntry{prefix: line[1:], val: line[0] % 3})
		}
		var paths []string
		for _, p := range prefixes {
			paths = append(paths, p.prefix, p.prefix+"x", p.prefix+"/x", p.prefix[:len(p.prefix)/2])
		}
		checkTrie(t, prefixes, paths)
	})
}
