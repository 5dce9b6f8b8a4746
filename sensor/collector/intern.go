package collector

// interned holds the strings and lists of strings exec records repeat: the
// executable, the command line and its arguments, the working directory, the
// terminal and the environment variables reported. A host runs the same
// programs the same way over and over (a shell loop, a build, a cron job), so
// an exec's strings are mostly those of an earlier exec: taken from here, they
// cost no allocation, and the events that carry them share them, which the
// shipper's encoders recognize by their address. Each table is emptied when
// it reaches maxInterned entries, so a host that never repeats itself keeps
// only the last ones. The zero value is ready for use.
type interned struct {
	strs  map[string]string
	lists map[string][]string
	ttys  map[uint32]string
}

// maxInterned bounds the entries of each table of interned.
const maxInterned = 4096

// str returns b as a string.
func (in *interned) str(b []byte) string {
	if s, ok := in.strs[string(b)]; ok || len(b) == 0 {
		return s
	}
	return in.add(string(b))
}

// add keeps s and returns it.
func (in *interned) add(s string) string {
	if in.strs == nil || len(in.strs) >= maxInterned {
		in.strs = make(map[string]string)
	}
	in.strs[s] = s
	return s
}

// list returns the list of strings split (nil if none), from its key: the
// strings' bytes, as split cuts them.
func (in *interned) list(key []byte, split func([]byte) []string) []string {
	if l, ok := in.lists[string(key)]; ok {
		return l
	}
	if in.lists == nil || len(in.lists) >= maxInterned {
		in.lists = make(map[string][]string)
	}
	l := split(key)
	for i, s := range l {
		if t, ok := in.strs[s]; ok {
			l[i] = t
		} else if s != "" {
			in.add(s)
		}
	}
	in.lists[string(key)] = l
	return l
}

// tty returns the name of the terminal dev.
func (in *interned) tty(dev uint32) string {
	if s, ok := in.ttys[dev]; ok {
		return s
	}
	if in.ttys == nil || len(in.ttys) >= maxInterned {
		in.ttys = make(map[uint32]string)
	}
	s := ttyName(dev)
	in.ttys[dev] = s
	return s
}
