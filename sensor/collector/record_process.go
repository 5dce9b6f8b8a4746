package collector

import (
	"bytes"
	"encoding/binary"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// The process context of an exec record (struct exec_context in
// sensor/bpf/process_context.h), after the flags.
const (
	execCtxSize   = 40
	ctxStartOff   = 0
	ctxCapsOff    = 8
	ctxLoginOff   = 16
	ctxSessionOff = 20
	ctxTTYOff     = 24
	ctxVPIDOff    = 28
	ctxCwdLenOff  = 32
	ctxEnvLenOff  = 34
	ctxFlagsOff   = 36

	cwdMax = 511  // CWD_MAX_LEN - 1
	envMax = 4096 // ENV_MAX_LEN

	ctxHasTTY      = 1 // CTX_HAS_TTY
	ctxHasLoginUID = 2 // CTX_HAS_LOGINUID
	ctxExeUpper    = 4 // CTX_EXE_UPPER
)

// DefaultEnvironment is the environment variables a NEW_PROCESS reports by
// default: those that change how the dynamic loader and the C library load a
// program (preloading, auditing, library paths, tunables), how a shell keeps its
// history (turned off to hide commands), and PATH.
var DefaultEnvironment = []string{
	"LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES",
	"HISTFILE", "HISTSIZE", "HISTCONTROL", "PATH",
}

// execContext is the decoded exec_context.
type execContext struct {
	startNs  uint64
	caps     uint64
	loginUID uint32
	session  uint32
	tty      uint32
	vpid     uint32
	cwdLen   int
	envLen   int
	flags    uint32
}

func (c *execContext) decode(b []byte) {
	le := binary.LittleEndian
	c.startNs = le.Uint64(b[ctxStartOff:])
	c.caps = le.Uint64(b[ctxCapsOff:])
	c.loginUID = le.Uint32(b[ctxLoginOff:])
	c.session = le.Uint32(b[ctxSessionOff:])
	c.tty = le.Uint32(b[ctxTTYOff:])
	c.vpid = le.Uint32(b[ctxVPIDOff:])
	c.cwdLen = int(le.Uint16(b[ctxCwdLenOff:]))
	c.envLen = int(le.Uint16(b[ctxEnvLenOff:]))
	c.flags = le.Uint32(b[ctxFlagsOff:])
}

// fillContext writes an exec record's process context into ev (a
// NEW_PROCESS that fill has written): argv as a list, the working directory,
// terminal, audit ids, start time, pid in its namespace, capabilities, whether
// the executable is on an overlayfs upper layer and the environment variables
// env selects.
func (r *record) fillContext(ev *event.Event, bootToWall int64, env envFilter) {
	c := &r.ctx
	ev.Args = r.in.list(r.args, argList)
	ev.CWD = r.in.str(r.cwd)
	if c.flags&ctxHasTTY != 0 {
		ev.TTY = r.in.tty(c.tty)
	}
	ev.LoginUID, ev.SessionID = c.loginUID, c.session
	if c.startNs != 0 {
		ev.ProcessStartTime = int64(c.startNs) + bootToWall
	}
	if c.vpid != r.pid {
		ev.VPID = c.vpid
	}
	ev.CapEffective = c.caps
	if c.flags&ctxExeUpper != 0 {
		ev.ExeUpperLayer = 1
	}
	r.envKey = env.pick(r.envKey[:0], r.env)
	ev.Environment = r.in.list(r.envKey, argList)
}

// argList splits NUL-separated argv (the last string may lack its NUL, cut by
// the record's size) into its arguments, empty ones included.
func argList(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	b = bytes.TrimSuffix(b, []byte{0})
	n := bytes.Count(b, []byte{0}) + 1
	out := make([]string, 0, n)
	for s := range bytes.SplitSeq(b, []byte{0}) {
		out = append(out, string(s))
	}
	return out
}

// ttyName names a terminal by its device number (major << 20 | minor) as ps
// does: pts/N, ttyN, ttySN, else "tty(major:minor)".
func ttyName(dev uint32) string {
	major, minor := dev>>20, dev&(1<<20-1)
	switch {
	case major >= 136 && major <= 143: // UNIX98_PTY_SLAVE_MAJOR..+7
		return "pts/" + strconv.FormatUint(uint64((major-136)<<20|minor), 10)
	case major == 4 && minor < 64:
		return "tty" + strconv.FormatUint(uint64(minor), 10)
	case major == 4:
		return "ttyS" + strconv.FormatUint(uint64(minor-64), 10)
	case major == 5 && minor == 0:
		return "tty"
	case major == 5 && minor == 1:
		return "console"
	}
	return "tty(" + strconv.FormatUint(uint64(major), 10) + ":" + strconv.FormatUint(uint64(minor), 10) + ")"
}

// envFilter selects environment variables by name, or by prefix for a name
// ending in "*".
type envFilter struct {
	names    []string
	prefixes []string
}

func newEnvFilter(names []string) envFilter {
	if names == nil {
		names = DefaultEnvironment
	}
	var f envFilter
	for _, n := range names {
		if p, ok := strings.CutSuffix(n, "*"); ok {
			f.prefixes = append(f.prefixes, p)
		} else if n != "" {
			f.names = append(f.names, n)
		}
	}
	return f
}

func (f envFilter) enabled() bool { return len(f.names)+len(f.prefixes) > 0 }

// pick appends to dst the "NAME=value" strings of env (NUL-separated, as on a
// new image's stack) that f selects, in their order, NUL-separated.
func (f envFilter) pick(dst, env []byte) []byte {
	for len(env) > 0 {
		kv := env
		if i := bytes.IndexByte(env, 0); i >= 0 {
			kv, env = env[:i], env[i+1:]
		} else {
			env = nil
		}
		eq := bytes.IndexByte(kv, '=')
		if eq <= 0 {
			continue
		}
		if f.wants(kv[:eq]) {
			if len(dst) > 0 {
				dst = append(dst, 0)
			}
			dst = append(dst, kv...)
		}
	}
	return dst
}

func (f envFilter) wants(name []byte) bool {
	for _, n := range f.names {
		if string(name) == n {
			return true
		}
	}
	for _, p := range f.prefixes {
		if bytes.HasPrefix(name, []byte(p)) {
			return true
		}
	}
	return false
}
