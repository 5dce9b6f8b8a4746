package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/dashboard"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
)

var (
	_ api.DetectionStore     = (*Store)(nil)
	_ api.KeyStore           = (*Store)(nil)
	_ api.KeyManager         = (*Store)(nil)
	_ dashboard.KeyStore     = (*Store)(nil)
	_ dashboard.SessionStore = (*Store)(nil)
	_ api.TaskStore          = (*Tasks)(nil)
	_ detect.DetectionStore  = (*Store)(nil)
	_ detect.SensorRegistry  = (*Store)(nil)
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func det(id, sensor string, at time.Duration, tags ...string) detect.Detection {
	return detect.Detection{ID: id, Rule: "r", Name: "r", Severity: "low", Time: t0.Add(at),
		Event: event.Event{SensorID: sensor, Hostname: "h", Tags: tags, Type: event.NewProcess, TimeNanos: t0.Add(at).UnixNano(), ID: "e-" + id}}
}

func open(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func ids(t *testing.T, docs []json.RawMessage) string {
	t.Helper()
	var out []string
	for _, d := range docs {
		var x struct{ ID string }
		if err := json.Unmarshal(d, &x); err != nil {
			t.Fatal(err)
		}
		out = append(out, x.ID)
	}
	return strings.Join(out, ",")
}

func TestStoreClaimIdempotentAndDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	ds := []detect.Detection{det("a", "s1", 0), det("b", "s1", time.Second), det("a", "s1", 0)}
	got, err := s.Claim(ctx, ds)
	if err != nil || len(got) != 2 {
		t.Fatalf("claim = %d, %v; want 2 new", len(got), err)
	}
	// stored but not published: a retry publishes again
	if got, _ = s.Claim(ctx, ds[:1]); len(got) != 1 {
		t.Fatalf("unpublished detection not handed out again: %d", len(got))
	}
	if err := s.MarkPublished(ctx, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if got, _ = s.Claim(ctx, ds); len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("claim after publish = %v, want only b", got)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = open(t, dir)
	defer s.Close()
	if got, _ = s.Claim(ctx, ds); len(got) != 1 || got[0].ID != "b" {
		t.Fatalf("after reopen claim = %v, want only b", got)
	}
	docs, next, err := s.List(ctx, api.DetectionQuery{})
	if err != nil || next != "" || ids(t, docs) != "b,a" {
		t.Fatalf("list = %s %q %v, want b,a", ids(t, docs), next, err)
	}
}

func TestStoreListFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	s := open(t, t.TempDir())
	defer s.Close()
	var ds []detect.Detection
	for i, id := range []string{"d0", "d1", "d2", "d3", "d4", "d5"} {
		sensor, tag := "s1", "env:prod"
		if i%2 == 1 {
			sensor, tag = "s2", "env:dev"
		}
		ds = append(ds, det(id, sensor, time.Duration(i)*time.Minute, tag))
	}
	if _, err := s.Claim(ctx, ds); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    api.DetectionQuery
		want []string // pages
	}{
		{api.DetectionQuery{Limit: 4}, []string{"d5,d4,d3,d2", "d1,d0"}},
		{api.DetectionQuery{Limit: 2}, []string{"d5,d4", "d3,d2", "d1,d0"}},
		{api.DetectionQuery{Limit: 6}, []string{"d5,d4,d3,d2,d1,d0"}},
		{api.DetectionQuery{Tag: "env:prod", Limit: 2}, []string{"d4,d2", "d0"}},
		{api.DetectionQuery{SensorID: "s2"}, []string{"d5,d3,d1"}},
		{api.DetectionQuery{Since: t0.Add(3 * time.Minute), Limit: 2}, []string{"d5,d4", "d3"}},
		{api.DetectionQuery{Tag: "nope"}, []string{""}},
	}
	for _, tc := range tests {
		q := tc.q
		for i, want := range tc.want {
			docs, next, err := s.List(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(t, docs); got != want {
				t.Errorf("%+v page %d = %q, want %q", tc.q, i, got, want)
			}
			if last := i == len(tc.want)-1; last != (next == "") {
				t.Errorf("%+v page %d: next cursor %q", tc.q, i, next)
			}
			q.Cursor = next
		}
	}
	for _, c := range []string{"!!", "e30", "eyJhZnRlciI6MX0"} {
		if _, _, err := s.List(ctx, api.DetectionQuery{Cursor: c}); !errors.Is(err, api.ErrBadCursor) {
			t.Errorf("cursor %q: err = %v, want ErrBadCursor", c, err)
		}
	}
}

func TestStoreHeartbeatOnlyNewer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	hb := func(sensor string, at time.Duration, version string, tags ...string) {
		t.Helper()
		ev := event.Event{SensorID: sensor, Hostname: "host-" + sensor, Type: event.SensorHeartbeat, Tags: tags,
			TimeNanos: t0.Add(at).UnixNano(), SensorVersion: version, UptimeSeconds: uint64(at / time.Second), Drops: 3}
		if err := s.Heartbeat(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	hb("s1", time.Minute, "v2", "env:prod")
	hb("s1", 0, "v1", "env:old") // older: ignored
	hb("s2", 0, "v1", "env:dev")
	s.Close()
	s = open(t, dir)
	defer s.Close()
	list, err := s.SensorStore().List(ctx, nil)
	if err != nil || len(list) != 2 {
		t.Fatalf("sensors = %v, %v", list, err)
	}
	if sn := list[0]; sn.SensorID != "s1" || sn.Version != "v2" || sn.Tags[0] != "env:prod" || !sn.LastSeen.Equal(t0.Add(time.Minute)) || sn.Uptime != 60 || sn.Drops != 3 || sn.Hostname != "host-s1" {
		t.Errorf("s1 = %+v", sn)
	}
	if list, _ = s.SensorStore().List(ctx, []string{"env:dev"}); len(list) != 1 || list[0].SensorID != "s2" {
		t.Errorf("by tag = %+v", list)
	}
}

func TestStoreTasks(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	ts := s.TaskStore()
	mk := func(id string, at time.Duration) task.Task {
		return task.Task{ID: id, SensorID: "s1", Action: "isolate", Status: task.Pending,
			Created: t0.Add(at), Updated: t0.Add(at), Deadline: t0.Add(at + time.Hour)}
	}
	if _, err := ts.Create(ctx, mk("t2", time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Create(ctx, mk("t1", 0)); err != nil {
		t.Fatal(err)
	}
	again := mk("t1", 5*time.Minute)
	if got, err := ts.Create(ctx, again); err != nil || !got.Created.Equal(t0) {
		t.Fatalf("second create = %+v, %v; want the stored task", got, err)
	}
	if _, err := ts.Create(ctx, task.Task{ID: "bad"}); err == nil {
		t.Error("invalid task accepted")
	}
	if _, err := ts.Update(ctx, "t1", task.Done, "isolated", t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Update(ctx, "t1", task.Failed, "late", t0.Add(3*time.Minute)); !errors.Is(err, api.ErrConflict) {
		t.Errorf("second final update: err = %v, want ErrConflict", err)
	}
	if _, err := ts.Get(ctx, "nope"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("get unknown: err = %v", err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	ts = s.TaskStore()
	got, err := ts.Get(ctx, "t1")
	if err != nil || got.Status != task.Done || got.Result != "isolated" {
		t.Fatalf("t1 after reopen = %+v, %v", got, err)
	}
	list, _ := ts.ForSensor(ctx, "s1", t0)
	if len(list) != 2 || list[0].ID != "t1" || list[1].ID != "t2" {
		t.Errorf("for sensor = %+v", list)
	}
	if list, _ = ts.ForSensor(ctx, "s1", t0.Add(30*time.Second)); len(list) != 1 {
		t.Errorf("since: %+v", list)
	}
}

func TestStoreKeysHashed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if err := s.PutKey(ctx, "vk_secret", api.Key{Org: "local", Name: "local"}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, StoreFile))
	if strings.Contains(string(raw), "vk_secret") {
		t.Fatal("the key is stored in clear")
	}
	s = open(t, dir)
	defer s.Close()
	if k, ok, _ := s.Lookup(ctx, "vk_secret"); !ok || k.Org != "local" || !s.HasKey("local", "local") {
		t.Fatalf("lookup = %+v %v", k, ok)
	}
	if _, ok, _ := s.Lookup(ctx, "other"); ok {
		t.Fatal("unknown key found")
	}
	if n, err := s.RevokeKeys("local", "local"); n != 1 || err != nil {
		t.Fatal(n, err)
	}
	if k, _, _ := s.Lookup(ctx, "vk_secret"); !k.Revoked {
		t.Error("not revoked")
	}
}

// TestStoreKeysListRevoke lists keys with their ids, prefixes and last use,
// revokes one by id (ending the sessions opened with it) and finds it all again
// after a reopen.
func TestStoreKeysListRevoke(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2026, 11, 22, 10, 20, 0, 0, time.UTC)
	s := open(t, dir)
	s.Now = func() time.Time { return now }
	for i, name := range []string{"local", "ci", "ci"} {
		if err := s.PutKey(ctx, fmt.Sprintf("vk_key%d-secret", i), api.Key{Org: "local", Name: name, Created: now.Add(time.Duration(i) * time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutKey(ctx, "vk_acme", api.Key{Org: "acme", Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	id1 := api.KeyID(HashKey("vk_key1-secret"))
	for h, se := range map[string]dashboard.Session{
		"s-key1": {Org: "local", KeyID: id1, Created: now, Seen: now, Expires: now.Add(time.Hour)},
		"s-link": {Org: "local", Created: now, Seen: now, Expires: now.Add(time.Hour)},
		"s-old":  {Org: "local", Created: now, Seen: now, Expires: now.Add(-time.Minute)},
	} {
		if err := s.PutSession(ctx, h, se); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Lookup(ctx, "vk_key0-secret"); err != nil { // used now: last used 10:00
		t.Fatal(err)
	}
	if err := s.TouchSession(ctx, "s-link", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RevokeKey(ctx, "acme", id1); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("revoking another org's key: %v", err)
	}
	k, err := s.RevokeKey(ctx, "local", id1)
	if err != nil || !k.Revoked || k.Name != "ci" || k.ID != id1 {
		t.Fatalf("revoke = %+v, %v", k, err)
	}
	check := func(s *Store) {
		t.Helper()
		list, err := s.ListKeys(ctx, "local")
		if err != nil || len(list) != 3 {
			t.Fatalf("list = %+v, %v", list, err)
		}
		want := []struct {
			name     string
			revoked  bool
			lastUsed time.Time
		}{{"local", false, now.Truncate(time.Hour)}, {"ci", true, time.Time{}}, {"ci", false, time.Time{}}}
		for i, w := range want {
			k := list[i]
			if k.Name != w.name || k.Revoked != w.revoked || !k.LastUsed.Equal(w.lastUsed) || k.Prefix != fmt.Sprintf("vk_key%d-", i) ||
				k.ID != api.KeyID(HashKey(fmt.Sprintf("vk_key%d-secret", i))) || !k.Created.Equal(now.Add(time.Duration(i)*time.Minute)) {
				t.Errorf("key %d = %+v, want %+v", i, k, w)
			}
		}
		if _, ok, _ := s.Session(ctx, "s-key1"); ok {
			t.Error("the revoked key's session is still open")
		}
		if se, ok, _ := s.Session(ctx, "s-link"); !ok || !se.Seen.Equal(now.Add(time.Minute)) {
			t.Errorf("the login link's session: %+v %v", se, ok)
		}
	}
	check(s)
	if err := s.EndSession(ctx, "s-link"); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Session(ctx, "s-link"); ok {
		t.Error("an ended session is still open")
	}
	if err := s.PutSession(ctx, "s-link", dashboard.Session{Org: "local", Created: now, Seen: now.Add(time.Minute), Expires: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	s.Now = func() time.Time { return now }
	check(s)
	if err := s.compact(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, StoreFile))
	if strings.Contains(string(raw), "s-old") || strings.Contains(string(raw), "s-key1") {
		t.Errorf("compaction kept an expired or ended session:\n%s", raw)
	}
	s = open(t, dir)
	defer s.Close()
	s.Now = func() time.Time { return now }
	check(s)
	if n, err := s.EndSessions("local"); n != 1 || err != nil {
		t.Errorf("end sessions: %d %v", n, err)
	}
}

func TestStoreTornLineAndLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := OpenStore(dir); !errors.Is(err, ErrLocked) {
		t.Errorf("second open: err = %v, want ErrLocked", err)
	}
	if _, err := s.Claim(ctx, []detect.Detection{det("a", "s1", 0)}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	f, _ := os.OpenFile(filepath.Join(dir, StoreFile), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"detection":{"id":"b","time_id":"2026`) // a crash mid-write
	f.Close()
	s = open(t, dir)
	if got, err := s.Claim(ctx, []detect.Detection{det("c", "s1", time.Second)}); err != nil || len(got) != 1 {
		t.Fatalf("claim after torn line: %v %v", got, err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	docs, _, _ := s.List(ctx, api.DetectionQuery{})
	if got := ids(t, docs); got != "c,a" {
		t.Errorf("after torn line = %q, want c,a", got)
	}

	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, StoreFile), []byte("{\"detection\":{\"id\":\"a\"}}\nnot json\n{\"task\":null}\n"), 0o600)
	if _, err := OpenStore(bad); err == nil || !strings.Contains(err.Error(), StoreFile+":2") {
		t.Errorf("corrupt middle line: err = %v, want it named with its line", err)
	}
}

// TestStoreCorruptLine checks a record that does not load, before the last line,
// is refused with an error naming its line and wrapping the cause.
func TestStoreCorruptLine(t *testing.T) {
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	tests := []struct {
		name string
		line string
		as   any // a target for errors.As, or nil
		want string
	}{
		{"not JSON", "not json", &syntaxErr, "invalid character"},
		{"wrong type", `{"detection":{"id":5}}`, &typeErr, "cannot unmarshal number"},
		{"no id", `{"detection":{"time_id":"x"}}`, nil, "detection without id"},
		{"empty record", `{}`, nil, "empty record"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			data := "{\"detection\":{\"id\":\"a\"}}\n" + tc.line + "\n{\"task\":null}\n"
			if err := os.WriteFile(filepath.Join(dir, StoreFile), []byte(data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := OpenStore(dir)
			if err == nil || !strings.Contains(err.Error(), StoreFile+":2: ") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want line 2 named and %q", err, tc.want)
			}
			if tc.as != nil && !errors.As(err, tc.as) {
				t.Errorf("err = %v does not wrap a %T", err, tc.as)
			}
		})
	}
}

func TestStoreCompacts(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	for i := range 1200 {
		ev := event.Event{SensorID: "s1", Type: event.SensorHeartbeat, TimeNanos: t0.Add(time.Duration(i) * time.Second).UnixNano()}
		if err := s.Heartbeat(ctx, &ev); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	raw, _ := os.ReadFile(filepath.Join(dir, StoreFile))
	if n := strings.Count(string(raw), "\n"); n != 1 {
		t.Errorf("log has %d lines after compaction, want 1", n)
	}
	list, _ := s.Sensors(ctx, nil)
	if len(list) != 1 || !list[0].LastSeen.Equal(t0.Add(1199*time.Second)) {
		t.Errorf("after compaction: %+v", list)
	}
}

// TestStoreTriageDurable: a detection's triage and a key's role survive a
// restart and a compaction of the log, and lists filter by status.
func TestStoreTriageDurable(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	if _, err := s.Claim(ctx, []detect.Detection{det("a", "s1", 0), det("b", "s1", time.Second)}); err != nil {
		t.Fatal(err)
	}
	for _, who := range []string{"alice", "bob"} {
		if _, _, err := s.UpdateTriage(ctx, "a", func(tr *api.Triage) error {
			tr.Status, tr.Assignee = api.StatusAcknowledged, who
			tr.History = append(tr.History, api.Change{By: who, Field: "assignee", To: who})
			tr.Version++
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	refused := errors.New("refused")
	if _, _, err := s.UpdateTriage(ctx, "a", func(tr *api.Triage) error { tr.Status = api.StatusResolved; return refused }); !errors.Is(err, refused) {
		t.Fatalf("a change's error: %v", err)
	}
	if _, _, err := s.UpdateTriage(ctx, "zz", func(*api.Triage) error { return nil }); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("an unknown detection: %v", err)
	}
	if err := s.PutKey(ctx, "k", api.Key{Org: "o", Name: "s1", Role: api.RoleSensor, SensorID: "s1"}); err != nil {
		t.Fatal(err)
	}
	check := func(s *Store, when string) {
		t.Helper()
		_, tr, err := s.GetDetection(ctx, "a")
		if err != nil || tr.Status != api.StatusAcknowledged || tr.Assignee != "bob" || len(tr.History) != 2 || tr.Version != 2 {
			t.Fatalf("%s: %+v %v", when, tr, err)
		}
		if _, tr, _ := s.GetDetection(ctx, "b"); tr.Status != api.StatusNew || tr.History == nil {
			t.Fatalf("%s: untouched b: %+v", when, tr)
		}
		docs, _, err := s.List(ctx, api.DetectionQuery{Status: api.StatusAcknowledged})
		if err != nil || ids(t, docs) != "a" || !strings.Contains(string(docs[0]), `"status":"acknowledged"`) || !strings.Contains(string(docs[0]), `"assignee":"bob"`) {
			t.Fatalf("%s: listed %s %v", when, docs, err)
		}
		if k, ok, _ := s.Lookup(ctx, "k"); !ok || k.Role != api.RoleSensor || k.SensorID != "s1" {
			t.Fatalf("%s: key %+v", when, k)
		}
	}
	check(s, "before a restart")
	s.Close()
	s = open(t, dir)
	check(s, "after a restart")
	if err := s.compact(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s = open(t, dir)
	defer s.Close()
	check(s, "after compaction")
}
