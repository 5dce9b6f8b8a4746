package event

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

func TestFieldColumns(t *testing.T) {
	tests := []struct {
		path string
		want []string
	}{
		{"event/COMMAND_LINE", []string{"command_line"}},
		{"event/FILE_NAME", []string{"file_path"}},
		{"routing/tags", []string{"tags"}},
		{"event/PROCESS_AGE", []string{"event_time", "process_start_time"}},
		{"event/VPID", []string{"pid", "vpid"}},
		{"event/HAS_TTY", []string{"tty"}},
		{"event/CONTAINER/IMAGE_TAG", []string{"container_image"}},
		{"event/ANCESTORS/3/FILE_NAME", []string{"ancestor_file_paths"}},
		{"event/ANCESTORS/*/USER", []string{"ancestor_users"}},
		{"event/ARGS/1", []string{"args"}},
		{"event/ENV/LD_PRELOAD", []string{"environment"}},
		{"event/K8S/POD_LABEL/app", []string{"k8s_pod_labels"}},
	}
	for _, tt := range tests {
		f, err := Lookup(tt.path)
		if err != nil {
			t.Fatal(err)
		}
		got := f.Columns()
		slices.Sort(got)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: columns %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestLakeFileProjection(t *testing.T) {
	at := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	w := NewFileWriter()
	evs := []Event{
		{Type: NewProcess, TimeNanos: at.UnixNano(), PID: 4, User: "root", CommandLine: "curl x"},
		{Type: FileOpen, TimeNanos: at.Add(time.Minute).UnixNano(), PID: 5, User: "bob", TargetPath: "/etc/shadow",
			Tags: []string{"a:b", "c:d"}, AncestorPIDs: []uint32{1, 4}, ProcessStartTime: at.UnixNano(), VPID: 3, DestPort: 65535, CgroupID: 1 << 63},
	}
	if err := w.Write(evs); err != nil {
		t.Fatal(err)
	}
	data, err := w.Close()
	if err != nil {
		t.Fatal(err)
	}
	lf, err := OpenLakeFile(data, 0)
	if err != nil {
		t.Fatal(err)
	}
	if lf.RowGroups() != 1 || lf.Rows(0) != 2 {
		t.Fatalf("%d row groups, %d rows", lf.RowGroups(), lf.Rows(0))
	}
	lo, hi, ok := lf.Bounds(0, "event_time")
	if !ok || lo.Int64() != evs[0].TimeNanos || hi.Int64() != evs[1].TimeNanos {
		t.Errorf("event_time bounds %v %v %v", lo, hi, ok)
	}
	lo, hi, ok = lf.Bounds(0, "user")
	if !ok || string(lo.ByteArray()) != "bob" || string(hi.ByteArray()) != "root" {
		t.Errorf("user bounds %v %v %v", lo, hi, ok)
	}
	if _, _, ok := lf.Bounds(0, "no_such_column"); ok {
		t.Error("bounds of a missing column")
	}
	got, err := lf.ReadRowGroup(nil, 0, []string{"pid", "user"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Event{{PID: 4, User: "root"}, {PID: 5, User: "bob"}}
	if len(got) != 2 || got[0].PID != want[0].PID || got[0].User != want[0].User || got[1].User != "bob" ||
		got[0].CommandLine != "" || got[0].Type != "" || got[1].TargetPath != "" {
		t.Errorf("projected rows %+v", got)
	}
	some, err := lf.ReadRowGroup(nil, 0, []string{"tags", "ancestor_pids", "process_start_time", "vpid", "dest_port", "cgroup_id"})
	if err != nil {
		t.Fatal(err)
	}
	wantSome := Event{Tags: evs[1].Tags, AncestorPIDs: evs[1].AncestorPIDs, ProcessStartTime: evs[1].ProcessStartTime,
		VPID: 3, DestPort: 65535, CgroupID: 1 << 63}
	if !reflect.DeepEqual(some[1], wantSome) || !reflect.DeepEqual(some[0], Event{}) {
		t.Errorf("projected lists and optionals:\n%+v\n%+v", some[0], some[1])
	}
	all, err := lf.ReadRowGroup(nil, 0, nil)
	if err != nil || len(all) != 2 || all[1].TargetPath != "/etc/shadow" || all[0].CommandLine != "curl x" {
		t.Errorf("all columns: %v %+v", err, all)
	}
}

func TestOpenLakeFileRefusesGarbage(t *testing.T) {
	for _, data := range [][]byte{nil, []byte("PAR1 not a parquet file at all PAR1")} {
		if _, err := OpenLakeFile(data, 0); !errors.Is(err, ErrNotParquet) {
			t.Errorf("%q: error %v, want ErrNotParquet", data, err)
		}
	}
}

// FuzzLakeFile reads untrusted bytes as a lake file: errors, never a panic.
func FuzzLakeFile(f *testing.F) {
	w := NewFileWriter()
	_ = w.Write([]Event{{Type: NewProcess, PID: 1, Tags: []string{"a:b"}, AncestorPIDs: []uint32{1}, ProcessStartTime: 5}})
	data, _ := w.Close()
	f.Add(data)
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := OpenLakeFile(data, 1000)
		if err != nil {
			return
		}
		for g := range lf.RowGroups() {
			lf.Bounds(g, "event_time")
			lf.Bounds(g, "tags")
			if _, err := lf.ReadRowGroup(nil, g, []string{"pid", "tags", "process_start_time"}); err != nil {
				continue
			}
			_, _ = lf.ReadRowGroup(nil, g, nil)
		}
	})
}
