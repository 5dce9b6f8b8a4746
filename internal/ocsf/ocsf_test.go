package ocsf

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
)

// classSpec is what OCSF 1.1.0 requires of a class: its category, its activity ids,
// and its required attributes (beyond the base event's), with "a|b" meaning at
// least one of them.
type classSpec struct {
	category   float64
	activities []float64
	required   []string
}

var spec = map[float64]classSpec{
	1001: {1, []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 99}, []string{"actor", "device", "file"}},
	1007: {1, []float64{0, 1, 2, 3, 4, 5, 99}, []string{"actor", "device", "process"}},
	4001: {4, []float64{0, 1, 2, 3, 4, 5, 6, 99}, []string{"src_endpoint|dst_endpoint"}},
	2004: {2, []float64{0, 1, 2, 3, 99}, []string{"finding_info"}},
}

// base_event's required attributes.
var baseRequired = []string{"activity_id", "category_uid", "class_uid", "metadata", "severity_id", "time", "type_uid"}

// get returns the value at a dotted path; a null or empty string counts as
// absent, so a required attribute must carry a value.
func get(m map[string]any, path string) (any, bool) {
	var cur any = m
	for _, p := range strings.Split(path, ".") {
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[p]; !ok || cur == nil || cur == "" {
			return nil, false
		}
	}
	return cur, true
}

// validate checks a record's JSON form against the class it claims.
func validate(rec any) []error {
	raw, err := json.Marshal(rec)
	if err != nil {
		return []error{err}
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return []error{err}
	}
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, k := range baseRequired {
		if _, ok := m[k]; !ok {
			fail("missing required %s", k)
		}
	}
	class, _ := m["class_uid"].(float64)
	cs, ok := spec[class]
	if !ok {
		fail("class_uid %v is not one of the mapped classes", m["class_uid"])
		return errs
	}
	act, _ := m["activity_id"].(float64)
	if m["category_uid"] != cs.category {
		fail("category_uid %v, class %v belongs to %v", m["category_uid"], class, cs.category)
	}
	if !slices.Contains(cs.activities, act) {
		fail("activity_id %v not defined for class %v", act, class)
	}
	if m["type_uid"] != class*100+act {
		fail("type_uid %v, want class_uid*100+activity_id = %v", m["type_uid"], class*100+act)
	}
	if sev, _ := m["severity_id"].(float64); !slices.Contains([]float64{0, 1, 2, 3, 4, 5, 6, 99}, sev) {
		fail("severity_id %v", sev)
	}
	if t, _ := m["time"].(float64); t < 1e12 || t > 1e13 {
		fail("time %v is not milliseconds since the epoch", m["time"])
	}
	for _, p := range []string{"metadata.product.name", "metadata.product.vendor_name", "metadata.version"} {
		if _, ok := get(m, p); !ok {
			fail("missing required %s", p)
		}
	}
	if v, _ := get(m, "metadata.version"); v != "1.1.0" {
		fail("metadata.version %v", v)
	}
	for _, req := range cs.required {
		found := false
		for _, alt := range strings.Split(req, "|") {
			if _, ok := get(m, alt); ok {
				found = true
			}
		}
		if !found {
			fail("class %v: missing required %s", class, req)
		}
	}
	// objects' own requirements
	if _, ok := get(m, "device"); ok {
		if _, ok := get(m, "device.type_id"); !ok {
			fail("device.type_id is required")
		}
	}
	if a, ok := get(m, "actor"); ok {
		am := a.(map[string]any)
		if am["process"] == nil && am["user"] == nil && am["invoked_by"] == nil && am["session"] == nil {
			fail("actor needs one of process, user, invoked_by, session")
		}
	}
	for _, f := range []string{"file", "file_result"} {
		if _, ok := get(m, f); ok {
			for _, k := range []string{"name", "type_id"} {
				if _, ok := get(m, f+"."+k); !ok {
					fail("%s.%s is required", f, k)
				}
			}
		}
	}
	for _, ep := range []string{"src_endpoint", "dst_endpoint"} {
		if e, ok := get(m, ep); ok {
			em := e.(map[string]any)
			if em["ip"] == nil && em["hostname"] == nil && em["uid"] == nil && em["name"] == nil {
				fail("%s needs one of ip, hostname, uid, name", ep)
			}
		}
	}
	if class == 2004 {
		for _, k := range []string{"finding_info.uid", "finding_info.title"} {
			if _, ok := get(m, k); !ok {
				fail("%s is required", k)
			}
		}
		if _, ok := get(m, "finding_info.analytic"); ok {
			if _, ok := get(m, "finding_info.analytic.type_id"); !ok {
				fail("finding_info.analytic.type_id is required")
			}
		}
	}
	return errs
}

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func ev(typ string, f func(*event.Event)) event.Event {
	e := event.Event{SensorID: "s-1", Hostname: "web-1", Tags: []string{"env:prod"}, Type: typ, TimeNanos: t0.UnixNano(), ID: event.NewID(t0),
		PID: 4242, PPID: 1, UID: 1000, User: "deploy", FilePath: "/usr/bin/curl", CommandLine: "curl http://x",
		ParentFilePath: "/bin/bash", ParentCommandLine: "bash -c deploy", GrandparentPath: "/usr/sbin/sshd"}
	if f != nil {
		f(&e)
	}
	return e
}

func TestMapEvents(t *testing.T) {
	tests := []struct {
		event    event.Event
		class    int32
		activity int32
	}{
		{ev(event.NewProcess, nil), 1007, 1},
		{ev(event.TerminateProcess, func(e *event.Event) { e.ExitCode = 3 }), 1007, 2},
		{ev(event.Ptrace, func(e *event.Event) { e.TargetPID = 77 }), 1007, 3},
		{ev(event.PrivilegeChange, func(e *event.Event) { e.NewUID = 0; e.Operation = "setuid" }), 1007, 5},
		{ev(event.FileOpen, func(e *event.Event) { e.TargetPath = "/etc/shadow"; e.FileFlags = "read" }), 1001, 2},
		{ev(event.FileOpen, func(e *event.Event) { e.TargetPath = "/tmp/x"; e.FileFlags = "write,create" }), 1001, 1},
		{ev(event.FileOpen, func(e *event.Event) { e.TargetPath = "/tmp/x"; e.FileFlags = "write" }), 1001, 3},
		{ev(event.FileDelete, func(e *event.Event) { e.TargetPath = "/var/log/auth.log" }), 1001, 4},
		{ev(event.FileRename, func(e *event.Event) { e.TargetPath = "/tmp/new"; e.OldTargetPath = "/tmp/old" }), 1001, 5},
		{ev(event.FileChmod, func(e *event.Event) { e.TargetPath = "/tmp/x"; e.FileMode = 0o4755 }), 1001, 7},
		{ev(event.NetworkConnect, func(e *event.Event) {
			e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "10.0.0.5", 40000, "203.0.113.9", 443
		}), 4001, 1},
		{ev(event.NetworkConnect, func(e *event.Event) { e.Protocol, e.DestIP, e.DestPort, e.ErrorCode = "tcp", "203.0.113.9", 443, 111 }), 4001, 4},
		{ev(event.NetworkAccept, func(e *event.Event) {
			e.Protocol, e.SourceIP, e.SourcePort, e.DestIP, e.DestPort = "tcp", "198.51.100.1", 5555, "10.0.0.5", 22
		}), 4001, 1},
		{ev(event.NetworkListen, func(e *event.Event) { e.Protocol, e.DestIP, e.DestPort = "tcp", "0.0.0.0", 4444 }), 4001, 99},
		{fdDupEvent(), 4001, 99},
	}
	m := &Mapper{ProductVersion: "1.2.0"}
	for _, tc := range tests {
		name := fmt.Sprintf("%s/%d", tc.event.Type, tc.activity)
		t.Run(name, func(t *testing.T) {
			rec, err := m.MapEvent(&tc.event)
			if err != nil {
				t.Fatal(err)
			}
			for _, err := range validate(rec) {
				t.Error(err)
			}
			raw, _ := json.Marshal(rec)
			var got struct {
				ClassUID   int32 `json:"class_uid"`
				ActivityID int32 `json:"activity_id"`
				Time       int64 `json:"time"`
				Device     Device
			}
			json.Unmarshal(raw, &got)
			if got.ClassUID != tc.class || got.ActivityID != tc.activity || got.Time != t0.UnixMilli() || got.Device.Hostname != "web-1" {
				t.Errorf("got %s", raw)
			}
		})
	}
	// spot checks of attribute content
	rec, _ := m.MapEvent(&tests[0].event)
	pa := rec.(*ProcessActivity)
	if pa.Process.File.Path != "/usr/bin/curl" || pa.Process.Name != "curl" || pa.Actor.Process.File.Path != "/bin/bash" ||
		pa.Process.User.Name != "deploy" || pa.Process.ParentProcess.PID != 1 || pa.Metadata.Product.Version != "1.2.0" {
		t.Errorf("process activity %+v", pa)
	}
	rec, _ = m.MapEvent(&tests[8].event)
	if fa := rec.(*FileSystemActivity); fa.File.Path != "/tmp/old" || fa.FileResult.Path != "/tmp/new" {
		t.Errorf("rename %+v", fa)
	}
	rec, _ = m.MapEvent(&tests[10].event)
	if na := rec.(*NetworkActivity); na.DstEndpoint.Port != 443 || na.SrcEndpoint.IP != "10.0.0.5" || na.ConnectionInfo.DirectionID != 2 {
		t.Errorf("network %+v", na)
	}
	hb := ev(event.SensorHeartbeat, nil)
	if _, err := m.MapEvent(&hb); !errors.Is(err, ErrUnmapped) {
		t.Errorf("heartbeat: %v", err)
	}
	noTarget := ev(event.FileOpen, nil)
	if _, err := m.MapEvent(&noTarget); err == nil {
		t.Error("file event without a target path mapped")
	}
}

// TestMapEventUnmapped checks every event MapEvent cannot map gives an error
// wrapping ErrUnmapped that says why.
func TestMapEventUnmapped(t *testing.T) {
	tests := []struct {
		name  string
		event event.Event
		want  string
	}{
		{"heartbeat", ev(event.SensorHeartbeat, nil), "ocsf: SENSOR_HEARTBEAT: no OCSF mapping"},
		{"dns", ev(event.DNSRequest, func(e *event.Event) { e.DomainName = "example.com" }), "ocsf: DNS_REQUEST: no OCSF mapping"},
		{"file without target", ev(event.FileOpen, nil), "has no target path"},
		{"delete without target", ev(event.FileDelete, nil), "has no target path"},
		{"connect without address", ev(event.NetworkConnect, nil), "has no address"},
		{"accept without address", ev(event.NetworkAccept, nil), "has no address"},
		{"dup of a unix socket", ev(event.FDDup, func(e *event.Event) { e.Protocol, e.FDNumber = "unix", 1 }), "has no address"},
		{"socket made", ev(event.SocketCreate, func(e *event.Event) { e.SocketDomain, e.SocketType = "AF_PACKET", "SOCK_RAW" }),
			"ocsf: SOCKET_CREATE: no OCSF mapping"},
	}
	m := &Mapper{}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := m.MapEvent(&tc.event)
			if rec != nil || !errors.Is(err, ErrUnmapped) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, %v; want an error wrapping ErrUnmapped saying %q", rec, err, tc.want)
			}
		})
	}
}

func TestMapDetection(t *testing.T) {
	e := ev(event.NewProcess, func(e *event.Event) { e.FilePath = "/tmp/xmrig" })
	d := detect.Detection{ID: "abc123", Rule: "cryptominer", Name: "cryptocurrency_miner_detected", Severity: "critical", Category: "malware", Time: t0, Event: e}
	f := (&Mapper{}).MapDetection(&d)
	for _, err := range validate(f) {
		t.Error(err)
	}
	if f.SeverityID != SeverityCritical || f.TypeUID != 200401 || f.FindingInfo.UID != "abc123" || f.FindingInfo.Analytic.Name != "cryptominer" ||
		f.Evidences[0].Process.File.Path != "/tmp/xmrig" || f.Device.Hostname != "web-1" {
		t.Errorf("finding %+v", f)
	}
}

// TestValidate checks that the validator catches what it claims to: each fault
// planted in a good finding is reported, alone and together, and nothing else is.
func TestValidate(t *testing.T) {
	e := ev(event.NewProcess, nil)
	d := detect.Detection{ID: "abc123", Rule: "cryptominer", Name: "cryptocurrency_miner_detected", Severity: "critical", Time: t0, Event: e}
	good := (&Mapper{}).MapDetection(&d)
	badTypeUID := func(f *DetectionFinding) { f.TypeUID = 2004 }
	noTitle := func(f *DetectionFinding) { f.FindingInfo.Title = "" }
	noVendor := func(f *DetectionFinding) { f.Metadata.Product.VendorName = "" }
	const (
		typeUIDMsg = "type_uid 2004, want class_uid*100+activity_id = 200401"
		titleMsg   = "finding_info.title is required"
		vendorMsg  = "missing required metadata.product.vendor_name"
	)
	tests := []struct {
		name   string
		faults []func(*DetectionFinding)
		want   []string
	}{
		{"good", nil, nil},
		{"type_uid", []func(*DetectionFinding){badTypeUID}, []string{typeUIDMsg}},
		{"title", []func(*DetectionFinding){noTitle}, []string{titleMsg}},
		{"vendor", []func(*DetectionFinding){noVendor}, []string{vendorMsg}},
		{"all three", []func(*DetectionFinding){badTypeUID, noTitle, noVendor}, []string{typeUIDMsg, titleMsg, vendorMsg}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			bad := *good
			for _, plant := range tc.faults {
				plant(&bad)
			}
			var got []string
			for _, err := range validate(bad) {
				got = append(got, err.Error())
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				raw, _ := json.Marshal(bad)
				t.Errorf("validator reported %q, want %q\n%s", got, want, raw)
			}
		})
	}
}

func TestParquet(t *testing.T) {
	m := &Mapper{ProductVersion: "1.2.0"}
	var b Batch
	for _, e := range []event.Event{
		ev(event.NewProcess, nil),
		ev(event.FileOpen, func(e *event.Event) { e.TargetPath = "/etc/passwd"; e.FileFlags = "read" }),
		ev(event.NetworkConnect, func(e *event.Event) { e.DestIP, e.DestPort = "203.0.113.9", 443 }),
	} {
		rec, err := m.MapEvent(&e)
		if err != nil {
			t.Fatal(err)
		}
		if err := b.Add(rec); err != nil {
			t.Fatal(err)
		}
	}
	d := detect.Detection{ID: "d1", Rule: "r", Name: "n", Severity: "high", Time: t0, Event: ev(event.NewProcess, nil)}
	b.Add(m.MapDetection(&d))

	check := func(name string, data []byte, columns []string) {
		t.Helper()
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var have []string
		for _, c := range f.Schema().Columns() {
			have = append(have, strings.Join(c, "."))
		}
		for _, c := range columns {
			if !slices.Contains(have, c) {
				t.Errorf("%s: no column %s in %v", name, c, have)
			}
		}
	}
	roundTrip := func(name string, write func(*bytes.Buffer) error, read func([]byte) (any, error), want any, columns []string) {
		t.Helper()
		var buf bytes.Buffer
		if err := write(&buf); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		check(name, buf.Bytes(), columns)
		got, err := read(buf.Bytes())
		if err != nil {
			t.Fatalf("%s: read back: %v", name, err)
		}
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s: round trip\n got %s\nwant %s", name, gj, wj)
		}
	}
	base := []string{"class_uid", "category_uid", "activity_id", "type_uid", "severity_id", "time", "metadata.product.name", "metadata.product.vendor_name", "metadata.version"}
	roundTrip("process", func(w *bytes.Buffer) error { return WriteParquet(w, b.Process) },
		func(data []byte) (any, error) {
			return parquet.Read[ProcessActivity](bytes.NewReader(data), int64(len(data)))
		},
		b.Process, append(base, "actor.process.pid", "process.cmd_line", "process.file.path", "device.hostname"))
	roundTrip("file", func(w *bytes.Buffer) error { return WriteParquet(w, b.File) },
		func(data []byte) (any, error) {
			return parquet.Read[FileSystemActivity](bytes.NewReader(data), int64(len(data)))
		},
		b.File, append(base, "file.path", "file.type_id"))
	roundTrip("network", func(w *bytes.Buffer) error { return WriteParquet(w, b.Network) },
		func(data []byte) (any, error) {
			return parquet.Read[NetworkActivity](bytes.NewReader(data), int64(len(data)))
		},
		b.Network, append(base, "dst_endpoint.ip", "dst_endpoint.port"))
	roundTrip("finding", func(w *bytes.Buffer) error { return WriteParquet(w, b.Findings) },
		func(data []byte) (any, error) {
			return parquet.Read[DetectionFinding](bytes.NewReader(data), int64(len(data)))
		},
		b.Findings, append(base, "finding_info.uid", "finding_info.title", "finding_info.analytic.name"))

	if k := LakeKey("vigil_process", "eu-west-1", "123456789012", t0, "f1"); k != "ext/vigil_process/region=eu-west-1/accountId=123456789012/eventDay=20261122/f1.parquet" {
		t.Errorf("lake key %s", k)
	}
}
