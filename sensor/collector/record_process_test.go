package collector

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestContextLayout keeps the decoder's offsets of the process context in step
// with struct exec_context.
func TestContextLayout(t *testing.T) {
	var x bpf.SensorExecEvent
	var c bpf.SensorExecContext
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"context offset", unsafe.Offsetof(x.Ctx), execCtxOff},
		{"context size", unsafe.Sizeof(c), execCtxSize},
		{"start_ns", unsafe.Offsetof(c.StartNs), ctxStartOff},
		{"cap_effective", unsafe.Offsetof(c.CapEffective), ctxCapsOff},
		{"loginuid", unsafe.Offsetof(c.Loginuid), ctxLoginOff},
		{"sessionid", unsafe.Offsetof(c.Sessionid), ctxSessionOff},
		{"tty", unsafe.Offsetof(c.Tty), ctxTTYOff},
		{"vpid", unsafe.Offsetof(c.Vpid), ctxVPIDOff},
		{"cwd_len", unsafe.Offsetof(c.CwdLen), ctxCwdLenOff},
		{"env_len", unsafe.Offsetof(c.EnvLen), ctxEnvLenOff},
		{"flags", unsafe.Offsetof(c.Flags), ctxFlagsOff},
		{"has tty", uintptr(bpf.SensorExecContextFlagCTX_HAS_TTY), ctxHasTTY},
		{"has loginuid", uintptr(bpf.SensorExecContextFlagCTX_HAS_LOGINUID), ctxHasLoginUID},
		{"exe upper", uintptr(bpf.SensorExecContextFlagCTX_EXE_UPPER), ctxExeUpper},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

type ctxSpec struct {
	startNs, caps             uint64
	login, session, tty, vpid uint32
	flags                     uint32
	cwd, env                  string
	cwdLen, envLen            int // when not 0, the lengths the record claims
}

// ctxRec is execRec with a process context, working directory and environment.
func ctxRec(h hdr, path, args string, c ctxSpec) []byte {
	b := execRec(h, path, args)
	b = append(b[:execDataOff+len(path)+len(args)], c.cwd+c.env+"\xAA\xAA"...)
	le := binary.LittleEndian
	ctx := b[execCtxOff:]
	le.PutUint64(ctx[ctxStartOff:], c.startNs)
	le.PutUint64(ctx[ctxCapsOff:], c.caps)
	le.PutUint32(ctx[ctxLoginOff:], c.login)
	le.PutUint32(ctx[ctxSessionOff:], c.session)
	le.PutUint32(ctx[ctxTTYOff:], c.tty)
	le.PutUint32(ctx[ctxVPIDOff:], c.vpid)
	cl, el := len(c.cwd), len(c.env)
	if c.cwdLen != 0 {
		cl = c.cwdLen
	}
	if c.envLen != 0 {
		el = c.envLen
	}
	le.PutUint16(ctx[ctxCwdLenOff:], uint16(cl))
	le.PutUint16(ctx[ctxEnvLenOff:], uint16(el))
	le.PutUint32(ctx[ctxFlagsOff:], c.flags)
	return b
}

func TestDecodeContext(t *testing.T) {
	const off = 1_700_000_000_000_000_000
	base := hdr{pid: 4242, ppid: 1, bootNs: 5_000_000_000}
	full := ctxSpec{startNs: 4_000_000_000, caps: 1<<21 | 1, login: 1000, session: 3, tty: 136<<20 | 5, vpid: 1,
		flags: ctxHasTTY | ctxHasLoginUID, cwd: "/home/a b",
		env: "HOME=/root\x00LD_PRELOAD=/tmp/x.so\x00PATH=/bin\x00SECRET=s\x00LD_LIBRARY_PATH=/l\x00MY_A=1\x00noequals\x00=x\x00LD_AU"}
	tests := []struct {
		name    string
		raw     []byte
		env     []string // the filter; nil = DefaultEnvironment
		want    event.Event
		wantErr error
	}{
		{name: "full", raw: ctxRec(base, "/bin/sh", "sh\x00-c\x00\x00a b\x00", full),
			want: event.Event{Args: []string{"sh", "-c", "", "a b"}, CWD: "/home/a b", TTY: "pts/5", LoginUID: 1000, SessionID: 3,
				ProcessStartTime: 4_000_000_000 + off, VPID: 1, CapEffective: 1<<21 | 1,
				Environment: []string{"LD_PRELOAD=/tmp/x.so", "PATH=/bin", "LD_LIBRARY_PATH=/l"}}},
		{name: "prefix filter", raw: ctxRec(base, "/bin/sh", "sh", full), env: []string{"MY_*", "HOME"},
			want: event.Event{Args: []string{"sh"}, CWD: "/home/a b", TTY: "pts/5", LoginUID: 1000, SessionID: 3,
				ProcessStartTime: 4_000_000_000 + off, VPID: 1, CapEffective: 1<<21 | 1,
				Environment: []string{"HOME=/root", "MY_A=1"}}},
		{name: "upper layer executable", raw: ctxRec(base, "/bin/x", "", ctxSpec{vpid: 4242, flags: ctxExeUpper}),
			want: event.Event{ExeUpperLayer: 1}},
		{name: "unknown flags", raw: ctxRec(base, "/bin/x", "", ctxSpec{vpid: 4242, flags: 1 << 31}),
			want: event.Event{}},
		{name: "initial namespace, no tty", raw: ctxRec(base, "/bin/true", "true\x00", ctxSpec{vpid: 4242, tty: 136 << 20}),
			want: event.Event{Args: []string{"true"}}},
		{name: "cwd too long", raw: ctxRec(base, "/bin/true", "", ctxSpec{cwd: "/x", cwdLen: cwdMax + 1}), wantErr: errBadLength},
		{name: "environment too long", raw: ctxRec(base, "/bin/true", "", ctxSpec{env: "A=1", envLen: envMax + 1}), wantErr: errBadLength},
		{name: "environment cut short", raw: ctxRec(base, "/bin/true", "", ctxSpec{env: "A=1", envLen: 100}), wantErr: errShortRecord},
		{name: "context cut short", raw: execRec(base, "", "")[:execDataOff-1], wantErr: errShortRecord},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var r record
			err := decodeRecord(tc.raw, &r)
			if tc.wantErr != nil {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr.Error()) {
					t.Fatalf("error %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var ev event.Event
			r.fillContext(&ev, off, newEnvFilter(tc.env))
			if !reflect.DeepEqual(ev, tc.want) {
				t.Fatalf("got  %+v\nwant %+v", ev, tc.want)
			}
		})
	}
}

func TestTTYName(t *testing.T) {
	for dev, want := range map[uint32]string{
		136<<20 | 0: "pts/0", 137<<20 | 3: "pts/1048579", 4<<20 | 1: "tty1", 4<<20 | 65: "ttyS1",
		5 << 20: "tty", 5<<20 | 1: "console", 188<<20 | 2: "tty(188:2)",
	} {
		if got := ttyName(dev); got != want {
			t.Errorf("ttyName(%d:%d) = %q, want %q", dev>>20, dev&(1<<20-1), got, want)
		}
	}
}

// checkContext asserts what any decoded exec record's context gives.
func checkContext(t *testing.T, r *record, ev *event.Event) {
	if len(r.cwd) > cwdMax || len(r.env) > envMax {
		t.Fatalf("cwd %d / environment %d bytes out of bounds", len(r.cwd), len(r.env))
	}
	r.fillContext(ev, 0, newEnvFilter(nil))
	if want := r.ctx.flags & ctxExeUpper / ctxExeUpper; ev.ExeUpperLayer != want {
		t.Fatalf("EXE_UPPER_LAYER %d for flags %#x, want %d", ev.ExeUpperLayer, r.ctx.flags, want)
	}
	for _, kv := range ev.Environment {
		name, _, ok := strings.Cut(kv, "=")
		if !ok || !newEnvFilter(nil).wants([]byte(name)) {
			t.Fatalf("environment %q was not asked for", kv)
		}
	}
}
