package collector

import (
	"bufio"
	"io"
	"os"
	"path"
	"strings"
)

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
