package collector

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/sensor/bpf"
)

// TestRecordLayoutFileOps keeps the kinds and link types of the file
// operations in step with sensor/bpf/file_ops.h, and their records with
// struct file_event.
func TestRecordLayoutFileOps(t *testing.T) {
	var f bpf.SensorFileEvent
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"file flags", unsafe.Offsetof(f.Flags), fileFlagsOff},
		{"file fmode", unsafe.Offsetof(f.Fmode), fileModeOff},
		{"file path", unsafe.Offsetof(f.Path), filePathOff},
		{"kind link", uintptr(bpf.SensorFileOpKindEVENT_FILE_LINK), kindFileLink},
		{"kind dir create", uintptr(bpf.SensorFileOpKindEVENT_DIR_CREATE), kindDirCreate},
		{"kind dir delete", uintptr(bpf.SensorFileOpKindEVENT_DIR_DELETE), kindDirDelete},
		{"kind mknod", uintptr(bpf.SensorFileOpKindEVENT_FILE_MKNOD), kindFileMknod},
		{"kind chown", uintptr(bpf.SensorFileOpKindEVENT_FILE_CHOWN), kindFileChown},
		{"kind truncate", uintptr(bpf.SensorFileOpKindEVENT_FILE_TRUNCATE), kindFileTruncate},
		{"link hard", uintptr(bpf.SensorLinkTypeLINK_HARD), linkHard},
		{"link symbolic", uintptr(bpf.SensorLinkTypeLINK_SYMBOLIC), linkSymbolic},
		{"after the event kinds", uintptr(bpf.SensorEventKindEVENT_PTRACE) + 1, 13}, // below kindFileLink
	} {
		if c.got != c.want {
			t.Errorf("%s: C says %d, decoder uses %d", c.name, c.got, c.want)
		}
	}
	if uintptr(bpf.SensorFileOpKindEVENT_FILE_LINK) <= uintptr(bpf.SensorEventKindEVENT_PTRACE) {
		t.Error("file operation kinds overlap enum event_kind")
	}
}

func TestDecodeFileOps(t *testing.T) {
	long := "/etc/" + strings.Repeat("x", filePathMax-5)
	tests := []struct {
		name    string
		raw     []byte
		want    event.Event
		wantErr error
	}{
		{"symbolic link", fileRec(kindFileLink, linkSymbolic, 0, "/tmp/l", "../etc/shadow"), event.Event{
			Type: event.FileLink, TargetPath: "/tmp/l", LinkTarget: "../etc/shadow", LinkType: "symbolic"}, nil},
		{"hard link", fileRec(kindFileLink, linkHard, 0, "/tmp/h", "/etc/shadow"), event.Event{
			Type: event.FileLink, TargetPath: "/tmp/h", LinkTarget: "/etc/shadow", LinkType: "hard"}, nil},
		{"link target cut", fileRec(kindFileLink, linkSymbolic, 0, "/tmp/l", long), event.Event{
			Type: event.FileLink, TargetPath: "/tmp/l", LinkTarget: long + "...", LinkType: "symbolic"}, nil},
		{"mkdir", fileRec(kindDirCreate, 0o41755, 0, "/usr/bin/x", ""), event.Event{
			Type: event.DirCreate, TargetPath: "/usr/bin/x", FileMode: 0o1755}, nil},
		{"rmdir", fileRec(kindDirDelete, 0, 0, "/var/log/x", ""), event.Event{
			Type: event.DirDelete, TargetPath: "/var/log/x"}, nil},
		{"mknod fifo", fileRec(kindFileMknod, sIFIFO|0o600, 0, "/dev/f", ""), event.Event{
			Type: event.FileMknod, TargetPath: "/dev/f", FileMode: 0o600, FileType: "fifo", Operation: "mknod"}, nil},
		{"mknodat block", fileRec(kindFileMknod, mknodAt|sIFBLK|0o660, 0x803, "/dev/sda3", ""), event.Event{
			Type: event.FileMknod, TargetPath: "/dev/sda3", FileMode: 0o660, FileType: "block", Operation: "mknodat"}, nil},
		{"mknod regular", fileRec(kindFileMknod, 0o644, 0, "/dev/r", ""), event.Event{
			Type: event.FileMknod, TargetPath: "/dev/r", FileMode: 0o644, FileType: "file", Operation: "mknod"}, nil},
		{"chown", fileRec(kindFileChown, 0, 0xffffffff, "/etc/sudoers", ""), event.Event{
			Type: event.FileChown, TargetPath: "/etc/sudoers", OwnerUID: 0, OwnerGID: -1}, nil},
		{"truncate", fileRec(kindFileTruncate, 5, 1, "/var/log/auth.log", ""), event.Event{
			Type: event.FileTruncate, TargetPath: "/var/log/auth.log", FileSize: 1<<32 | 5}, nil},
		{"link without target", fileRec(kindFileLink, linkHard, 0, "/tmp/h", ""), event.Event{}, errBadLength},
		{"link of no type", fileRec(kindFileLink, 3, 0, "/tmp/h", "/x"), event.Event{}, errBadField},
		{"mkdir with two paths", fileRec(kindDirCreate, 0, 0, "/tmp/d", "/x"), event.Event{}, errBadLength},
		{"no path", fileRec(kindFileChown, 0, 0, "", ""), event.Event{}, errBadLength},
		{"short", fileRec(kindFileTruncate, 0, 0, "/var/log/x", "")[:filePathOff+3], event.Event{}, errShortRecord},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r record
			err := decodeRecord(tt.raw, &r)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			var ev event.Event
			r.fill(&ev, 0, nil)
			got := event.Event{Type: ev.Type, TargetPath: ev.TargetPath, LinkTarget: ev.LinkTarget, LinkType: ev.LinkType,
				FileMode: ev.FileMode, FileType: ev.FileType, Operation: ev.Operation, OwnerUID: ev.OwnerUID, OwnerGID: ev.OwnerGID, FileSize: ev.FileSize}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
			if ev.PID != 7 || ev.UID != 1000 {
				t.Errorf("process context: %+v", ev)
			}
		})
	}
}

// FuzzDecodeFileOps feeds arbitrary bytes after valid file operation records.
func FuzzDecodeFileOps(f *testing.F) {
	for _, seed := range [][]byte{
		fileRec(kindFileLink, linkSymbolic, 0, "/a", "b"), fileRec(kindFileLink, linkHard, 0, "/a", "/b"),
		fileRec(kindDirCreate, 0o755, 0, "/d", ""), fileRec(kindDirDelete, 0, 0, "/d", ""),
		fileRec(kindFileMknod, sIFCHR|0o600, 0x103, "/dev/x", ""), fileRec(kindFileChown, 1, 2, "/f", ""),
		fileRec(kindFileTruncate, 1, 0, "/f", ""),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var r record
		if err := decodeRecord(raw, &r); err != nil {
			return
		}
		if len(r.path) > filePathMax || len(r.args) > filePathMax {
			t.Fatalf("paths of %d and %d bytes", len(r.path), len(r.args))
		}
		var ev event.Event
		r.fill(&ev, 0, nil)
		if !event.KnownType(ev.Type) {
			t.Fatalf("unknown type %q", ev.Type)
		}
		if isFileOp(r.kind) && ev.TargetPath == "" {
			t.Fatalf("%s without a path", ev.Type)
		}
		if ev.Type == event.FileLink && (ev.LinkTarget == "" || (ev.LinkType != "hard" && ev.LinkType != "symbolic")) {
			t.Fatalf("link %+v", ev)
		}
	})
}

func TestDecodeFileOpsAllocs(t *testing.T) {
	raw := fileRec(kindFileLink, linkHard, 0, "/tmp/h", "/etc/shadow")
	var r record
	if n := testing.AllocsPerRun(100, func() { _ = decodeRecord(raw, &r) }); n != 0 {
		t.Errorf("%v allocations per decode, want 0", n)
	}
}
