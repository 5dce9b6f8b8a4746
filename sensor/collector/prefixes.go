package collector

import (
	"bufio"
	"encoding/binary"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// prefixEntry is a configured path prefix and its file_prefixes verdict.
type prefixEntry struct {
	prefix string
	val    uint8
}

// DefaultFileChangePrefixes are the path prefixes whose files are reported when
// changed (created, written, deleted, renamed, linked, their mode or owner
// changed, truncated), but not when only read, when Options.FilePrefixes and
// Options.FileChangePrefixes are nil: the binary and library directories,
// which every exec reads, and the package managers' databases. A longer
// prefix of DefaultFilePrefixes (/usr/lib/systemd, /lib/modules) reports its
// reads as well.
var DefaultFileChangePrefixes = []string{
	"/bin/", "/sbin/", "/usr/bin/", "/usr/sbin/", "/usr/local/bin/", "/usr/local/sbin/",
	"/lib/", "/lib32/", "/lib64/", "/usr/lib/", "/usr/lib32/", "/usr/lib64/", "/usr/libexec/", "/usr/local/lib/",
	"/var/lib/rpm/", "/var/lib/dpkg/",
}

// HomeFilePrefixes are the names, in each user's home directory, of the files
// watched by default where DefaultFilePrefixes does not cover the home
// directory already: credentials (.ssh, .aws, .gnupg, .kube) and the shells'
// start-up files and histories (.bashrc, .bash_profile, .bash_history, .zshrc,
// .profile, ...).
var HomeFilePrefixes = []string{".ssh/", ".aws/", ".gnupg/", ".kube/", ".bash", ".zsh", ".profile"}

// passwdFile lists the users whose home directories are watched by default.
const passwdFile = "/etc/passwd"

// defaultFilePrefixes returns DefaultFilePrefixes and, for each home directory
// that passwd names, that exists and that DefaultFilePrefixes does not cover,
// its HomeFilePrefixes, within room entries (users whose shell refuses logins
// are left out). The kernel's filter matches by
// prefix and has no wildcard (no "/home/*/.ssh/"), so home directories are
// read once, when the collector starts: one made later is not watched until
// the next start, and passwd's users past room are not watched.
func defaultFilePrefixes(passwd string, room int) []string {
	out := append([]string(nil), DefaultFilePrefixes...)
	f, err := os.Open(passwd)
	if err != nil {
		return out
	}
	defer f.Close()
	for _, home := range homeDirs(f) {
		if len(HomeFilePrefixes) > room {
			break
		}
		if covered(home+"/", DefaultFilePrefixes) {
			continue
		}
		if st, err := os.Stat(home); err != nil || !st.IsDir() {
			continue
		}
		for _, name := range HomeFilePrefixes {
			if p := home + "/" + name; len(p) <= MaxFilePrefix {
				out = append(out, p)
				room--
			}
		}
	}
	return out
}

// homeDirs returns the distinct home directories of a passwd file (absolute,
// cleaned, not "/") of the users who may log in, in its order. Malformed lines
// are skipped.
func homeDirs(r io.Reader) []string {
	var dirs []string
	seen := map[string]bool{}
	s := bufio.NewScanner(r)
	for s.Scan() {
		line := s.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < 7 || !strings.HasPrefix(fields[5], "/") || noLogin(fields[6]) {
			continue
		}
		home := path.Clean(fields[5])
		if home == "/" || seen[home] {
			continue
		}
		seen[home] = true
		dirs = append(dirs, home)
	}
	return dirs
}

// covered reports whether p is below one of prefixes.
func covered(p string, prefixes []string) bool {
	for _, x := range prefixes {
		if strings.HasPrefix(p, x) {
			return true
		}
	}
	return false
}

// prefixChanges is the kernel filter's value of a FileChangePrefixes entry
// (PREFIX_CHANGES in sensor/bpf/file_watch.h); 1 reports every event, 0 none.
const prefixChanges = 2

// noLogin reports whether shell refuses logins (nologin, false): sshd runs
// its users' commands through it, so their keys open nothing.
func noLogin(shell string) bool {
	return strings.HasSuffix(shell, "/nologin") || strings.HasSuffix(shell, "/false")
}

// prefixSplit is the flag of a trie entry that ends in '/' and that a longer
// entry starts with (PREFIX_SPLIT in sensor/bpf/sensor.bpf.c): the files of
// that directory are not all decided alike, so the kernel does not cache its
// verdict (sensor/bpf/dir_verdicts.h).
const prefixSplit = 1

// trieEntry is one entry of the kernel's prefix trie.
type trieEntry struct {
	prefix  string
	verdict uint8 // 0 leave out, 1 report, prefixChanges
	split   bool
}

// trieEntries returns the kernel trie's entries for the configured prefixes
// (of a prefix given twice, the last): those prefixes, and one for each
// '/'-terminated proper prefix of one of them, flagged split, with the verdict
// its longest configured prefix gives it (0 if none), so that every path's
// longest match decides as before. Sorted by prefix.
func trieEntries(prefixes []prefixEntry) []trieEntry {
	verdicts := make(map[string]uint8, len(prefixes))
	for _, p := range prefixes {
		verdicts[p.prefix] = p.val
	}
	split := map[string]bool{}
	for p := range verdicts {
		for i := 0; i < len(p)-1; i++ {
			if p[i] == '/' {
				split[p[:i+1]] = true
			}
		}
	}
	out := make([]trieEntry, 0, len(verdicts)+len(split))
	for p, v := range verdicts {
		out = append(out, trieEntry{prefix: p, verdict: v, split: split[p]})
	}
	for d := range split {
		if _, real := verdicts[d]; real {
			continue
		}
		e := trieEntry{prefix: d, split: true}
		for n := len(d) - 1; n > 0; n-- {
			if v, ok := verdicts[d[:n]]; ok {
				e.verdict = v
				break
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b trieEntry) int { return strings.Compare(a.prefix, b.prefix) })
	return out
}

// key is the entry's LPM trie key (struct prefix_key): the prefix length in
// bits, then the prefix's bytes.
func (e trieEntry) key() []byte {
	key := make([]byte, 4+MaxFilePrefix)
	binary.LittleEndian.PutUint32(key, uint32(len(e.prefix)*8))
	copy(key[4:], e.prefix)
	return key
}

// value is the entry's value (struct prefix_val): verdict, flags, and the
// prefix length in bits.
func (e trieEntry) value() []byte {
	v := []byte{e.verdict, 0, 0, 0}
	if e.split {
		v[1] = prefixSplit
	}
	binary.LittleEndian.PutUint16(v[2:], uint16(len(e.prefix)*8))
	return v
}
