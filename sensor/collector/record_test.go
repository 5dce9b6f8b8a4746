package collector

import (
	"encoding/binary"
	"errors"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayout keeps the decoder's offsets in step with the C structs, via the
// types bpf2go generated from the object's BTF.
func TestRecordLayout(t *testing.T) {
	var h bpf.SensorEventHdr
	var x bpf.SensorExecEvent
	checks := []struct {
		name      string
		got, want uintptr
	}{
		{"header size", unsafe.Sizeof(h), hdrSize},
		{"exec record size", unsafe.Sizeof(x), execDataOff + execDataMax},
		{"exit record size", unsafe.Sizeof(bpf.SensorExitEvent{}), exitSize},
		{"exec flags offset", unsafe.Offsetof(x.Flags), execFlagsOff},
		{"exec flag own cgroups", uintptr(bpf.SensorExecFlagEXEC_OWN_CGROUPS), execOwnCgroups},
		{"exec data offset", unsafe.Offsetof(x.Data), execDataOff},
		{"exec data size", uintptr(len(x.Data)), execDataMax},
		{"kind", unsafe.Offsetof(h.Kind), 0},
		{"pid", unsafe.Offsetof(h.Pid), 4},
		{"ppid", unsafe.Offsetof(h.Ppid), 8},
		{"uid", unsafe.Offsetof(h.Uid), 12},
		{"gid", unsafe.Offsetof(h.Gid), 16},
		{"exit_code", unsafe.Offsetof(h.ExitCode), 20},
		{"boot_ns", unsafe.Offsetof(h.BootNs), 24},
		{"cgroup_id", unsafe.Offsetof(h.CgroupId), 32},
		{"path_len", unsafe.Offsetof(h.PathLen), 40},
		{"args_len", unsafe.Offsetof(h.ArgsLen), 42},
		{"kind exec", uintptr(bpf.SensorEventKindEVENT_EXEC), kindExec},
		{"kind exit", uintptr(bpf.SensorEventKindEVENT_EXIT), kindExit},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: C layout says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
}

// hdr is a test-side description of a record header.
type hdr struct {
	kind, pid, ppid, uid, gid uint32
	exitCode                  int32
	bootNs, cgroupID          uint64
	pathLen, argsLen          uint16
}

func putHdr(b []byte, h hdr) {
	le := binary.LittleEndian
	le.PutUint32(b[0:], h.kind)
	le.PutUint32(b[4:], h.pid)
	le.PutUint32(b[8:], h.ppid)
	le.PutUint32(b[12:], h.uid)
	le.PutUint32(b[16:], h.gid)
	le.PutUint32(b[20:], uint32(h.exitCode))
	le.PutUint64(b[24:], h.bootNs)
	le.PutUint64(b[32:], h.cgroupID)
	le.PutUint16(b[40:], h.pathLen)
	le.PutUint16(b[42:], h.argsLen)
}

// execRec builds an exec record as the kernel sends it: the header, the flags
// (junk here), the path and argv back to back, and a few bytes of junk after
// them (the ring buffer is not zeroed).
func execRec(h hdr, path, args string) []byte {
	b := make([]byte, execDataOff+len(path)+len(args)+5)
	for i := range b {
		b[i] = 0xAA
	}
	h.kind = kindExec
	h.pathLen, h.argsLen = uint16(len(path)), uint16(len(args))
	putHdr(b, h)
	clear(b[execCtxOff:execDataOff]) // no working directory or environment
	copy(b[execDataOff:], path)
	copy(b[execDataOff+len(path):], args)
	return b
}

func exitRec(h hdr) []byte {
	b := make([]byte, exitSize)
	h.kind = kindExit
	putHdr(b, h)
	return b
}

func TestDecodeRecord(t *testing.T) {
	const off = 1_700_000_000_000_000_000
	base := hdr{pid: 4242, ppid: 1, uid: 1000, gid: 100, bootNs: 5_000_000_000, cgroupID: 77}
	tooLong := execRec(base, "/bin/true", "")
	binary.LittleEndian.PutUint16(tooLong[40:], pathMax+1)
	argsTooLong := execRec(base, "/bin/true", "")
	binary.LittleEndian.PutUint16(argsTooLong[42:], argsMax+1)
	unknown := exitRec(base)
	binary.LittleEndian.PutUint32(unknown[0:], 99)

	tests := []struct {
		name    string
		raw     []byte
		want    event.Event
		wantErr error
	}{
		{
			name: "exec",
			raw:  execRec(base, "/usr/bin/env", "env\x00FOO=1\x00vigil-test\x00"),
			want: event.Event{Type: event.NewProcess, TimeNanos: 5_000_000_000 + off, PID: 4242, PPID: 1,
				UID: 1000, GID: 100, CgroupID: 77, FilePath: "/usr/bin/env", CommandLine: "env FOO=1 vigil-test"},
		},
		{
			name: "exec with empty argument and truncated argv",
			raw:  execRec(base, "/bin/sh", "sh\x00\x00-c\x00echo hi\x00trunc"),
			want: event.Event{Type: event.NewProcess, TimeNanos: 5_000_000_000 + off, PID: 4242, PPID: 1,
				UID: 1000, GID: 100, CgroupID: 77, FilePath: "/bin/sh", CommandLine: "sh  -c echo hi trunc"},
		},
		{
			name: "exec without argv or path (unreadable)",
			raw:  execRec(base, "", ""),
			want: event.Event{Type: event.NewProcess, TimeNanos: 5_000_000_000 + off, PID: 4242, PPID: 1,
				UID: 1000, GID: 100, CgroupID: 77},
		},
		{
			name: "exit status 7",
			raw:  exitRec(hdr{pid: 9, ppid: 8, bootNs: 1, exitCode: 7 << 8}),
			want: event.Event{Type: event.TerminateProcess, TimeNanos: 1 + off, PID: 9, PPID: 8, ExitCode: 7},
		},
		{
			name: "killed by SIGKILL",
			raw:  exitRec(hdr{pid: 9, exitCode: 9}),
			want: event.Event{Type: event.TerminateProcess, TimeNanos: off, PID: 9, ExitCode: -9},
		},
		{
			name: "SIGSEGV with core dump",
			raw:  exitRec(hdr{pid: 9, exitCode: 0x80 | 11}),
			want: event.Event{Type: event.TerminateProcess, TimeNanos: off, PID: 9, ExitCode: -11},
		},
		{
			name: "exit status 255",
			raw:  exitRec(hdr{pid: 9, exitCode: 255 << 8}),
			want: event.Event{Type: event.TerminateProcess, TimeNanos: off, PID: 9, ExitCode: 255},
		},
		{name: "empty", raw: nil, wantErr: errShortRecord},
		{name: "short header", raw: make([]byte, hdrSize-1), wantErr: errShortRecord},
		{name: "zero kind", raw: make([]byte, hdrSize), wantErr: errBadKind},
		{name: "unknown kind", raw: unknown, wantErr: errBadKind},
		{name: "exec cut short", raw: execRec(base, "/bin/true", "true")[:execDataOff+len("/bin/true")+len("true")-1], wantErr: errShortRecord},
		{name: "exec header only", raw: execRec(base, "/bin/true", "true")[:hdrSize], wantErr: errShortRecord},
		{name: "path length out of bounds", raw: tooLong, wantErr: errBadLength},
		{name: "args length out of bounds", raw: argsTooLong, wantErr: errBadLength},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r record
			err := decodeRecord(tt.raw, &r)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("decodeRecord error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("decodeRecord: %v", err)
			}
			var got event.Event
			r.fill(&got, off, nil)
			if got.Type != tt.want.Type || got.TimeNanos != tt.want.TimeNanos || got.PID != tt.want.PID ||
				got.PPID != tt.want.PPID || got.UID != tt.want.UID || got.GID != tt.want.GID ||
				got.CgroupID != tt.want.CgroupID || got.FilePath != tt.want.FilePath ||
				got.CommandLine != tt.want.CommandLine || got.ExitCode != tt.want.ExitCode {
				t.Errorf("event:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestFillDoesNotAlias checks that strings taken from a record stay intact when
// the ring buffer memory is overwritten.
func TestFillDoesNotAlias(t *testing.T) {
	raw := execRec(hdr{pid: 1}, "/bin/true", "true\x00x\x00")
	var r record
	if err := decodeRecord(raw, &r); err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	scratch := r.fill(&ev, 0, make([]byte, 0, 16))
	for i := range raw {
		raw[i] = 'Z'
	}
	for i := range scratch[:cap(scratch)] {
		scratch[:cap(scratch)][i] = 'Z'
	}
	if ev.FilePath != "/bin/true" || ev.CommandLine != "true x" {
		t.Fatalf("strings alias reused memory: %q %q", ev.FilePath, ev.CommandLine)
	}
}

func FuzzDecodeRecord(f *testing.F) {
	f.Add(execRec(hdr{pid: 1, ppid: 2}, "/bin/sh", "sh\x00-c\x00exit 7\x00"))
	f.Add(exitRec(hdr{pid: 1, exitCode: 7 << 8}))
	f.Add(ctxRec(hdr{pid: 1}, "/bin/sh", "sh\x00", ctxSpec{cwd: "/tmp", env: "LD_PRELOAD=/x.so\x00PATH=/bin\x00A", tty: 136<<20 | 2, flags: ctxHasTTY}))
	f.Add(ctxRec(hdr{pid: 1}, "/usr/local/bin/x", "x\x00", ctxSpec{flags: ctxExeUpper | ctxHasLoginUID}))
	f.Add([]byte{})
	f.Add(make([]byte, hdrSize))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		if err := decodeRecord(raw, &r); err != nil {
			return
		}
		// Other kinds' properties: FuzzDecodeKinds.
		if r.kind == kindExec && (len(r.path) > pathMax || len(r.args) > argsMax) {
			t.Fatalf("exec string lengths %d/%d out of bounds", len(r.path), len(r.args))
		}
		var ev event.Event
		r.fill(&ev, 0, nil)
		if r.kind == kindExec {
			checkContext(t, &r, &ev)
		}
		if ev.Type == event.TerminateProcess && (ev.ExitCode < -127 || ev.ExitCode > 255) {
			t.Fatalf("exit code %d out of range", ev.ExitCode)
		}
	})
}

var sink record

// BenchmarkDecodeRecord measures the fixed part of decoding: it must not allocate.
func BenchmarkDecodeRecord(b *testing.B) {
	raw := execRec(hdr{pid: 4242, ppid: 1, bootNs: 1}, "/usr/bin/env", "env\x00FOO=1\x00vigil-test\x00")
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeRecord(raw, &sink); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEvent includes building the event (the path and command line
// strings are its only allocations).
func BenchmarkDecodeEvent(b *testing.B) {
	raw := execRec(hdr{pid: 4242, ppid: 1, bootNs: 1}, "/usr/bin/env", "env\x00FOO=1\x00vigil-test\x00")
	var (
		r       record
		ev      event.Event
		scratch = make([]byte, 0, argsMax)
	)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if err := decodeRecord(raw, &r); err != nil {
			b.Fatal(err)
		}
		ev = event.Event{}
		scratch = r.fill(&ev, 0, scratch)
	}
}

func TestDecodeRecordAllocs(t *testing.T) {
	raw := exitRec(hdr{pid: 1})
	var r record
	if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
		t.Errorf("decodeRecord allocates %v times per record, want 0", n)
	}
}

// decodeAndFill decodes raw and fills an event from the record. When wantErr is
// set it checks that decoding failed with it and reports false: the case is
// done.
func decodeAndFill(t *testing.T, raw []byte, wantErr error) (event.Event, bool) {
	t.Helper()
	var r record
	err := decodeRecord(raw, &r)
	if wantErr != nil {
		if !errors.Is(err, wantErr) {
			t.Fatalf("error = %v, want %v", err, wantErr)
		}
		return event.Event{}, false
	}
	if err != nil {
		t.Fatal(err)
	}
	var ev event.Event
	r.fill(&ev, 0, nil)
	return ev, true
}
