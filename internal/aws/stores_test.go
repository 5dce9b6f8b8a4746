package aws

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	"github.com/vigil-sec/vigil/internal/api"
	"github.com/vigil-sec/vigil/internal/detect"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
)

func dynamo(t *testing.T) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
}

func TestSensorsHeartbeat(t *testing.T) {
	c := dynamo(t)
	st := &Sensors{Client: c, Table: testenv.CreateTable(t, c, testenv.SensorsTable)}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	hb := func(id string, at time.Time, version string, tags ...string) *event.Event {
		return &event.Event{SensorID: id, Hostname: "h-" + id, Type: event.SensorHeartbeat, TimeNanos: at.UnixNano(),
			SensorVersion: version, Tags: tags, UptimeSeconds: 60}
	}
	for _, ev := range []*event.Event{
		hb("a", t0, "1.0", "env:prod", "deployment:7"),
		hb("a", t0.Add(time.Minute), "1.1", "env:prod", "deployment:7"),
		hb("a", t0.Add(30*time.Second), "0.9", "env:prod"), // late: ignored
		hb("b", t0, "1.1", "env:dev"),
	} {
		if err := st.Heartbeat(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		tags []string
		want map[string]string // sensor → version
	}{
		{nil, map[string]string{"a": "1.1", "b": "1.1"}},
		{[]string{"env:prod"}, map[string]string{"a": "1.1"}},
		{[]string{"env:prod", "deployment:7"}, map[string]string{"a": "1.1"}},
		{[]string{"env:none"}, map[string]string{}},
	}
	for _, tc := range tests {
		got, err := st.List(ctx, tc.tags)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(tc.want) {
			t.Fatalf("tags %v: %d sensors, want %d", tc.tags, len(got), len(tc.want))
		}
		for _, sn := range got {
			if tc.want[sn.SensorID] != sn.Version {
				t.Errorf("tags %v: %s version %s, want %s", tc.tags, sn.SensorID, sn.Version, tc.want[sn.SensorID])
			}
			if sn.SensorID == "a" && !sn.LastSeen.Equal(t0.Add(time.Minute)) {
				t.Errorf("last seen %v", sn.LastSeen)
			}
		}
	}
	if sn, err := st.Get(ctx, "a"); err != nil || sn.Version != "1.1" || sn.Hostname != "h-a" {
		t.Errorf("get a: %+v %v", sn, err)
	}
	if _, err := st.Get(ctx, "nonexistent"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("get a sensor that never registered: %v, want not found", err)
	}
}

func TestTasks(t *testing.T) {
	c := dynamo(t)
	st := &Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable)}
	ctx := context.Background()
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tk := task.Task{ID: "t1", SensorID: "s1", Action: "isolate", Status: task.Pending, Created: now, Deadline: now.Add(5 * time.Minute)}
	if _, err := st.Create(ctx, tk); err != nil {
		t.Fatal(err)
	}
	again := tk
	again.Action = "kill"
	if got, err := st.Create(ctx, again); err != nil || got.Action != "isolate" {
		t.Fatalf("second create = %+v, %v; want the stored task unchanged", got, err)
	}
	if _, err := st.Create(ctx, task.Task{ID: "bad", SensorID: "s1", Action: "explode", Created: now, Deadline: now.Add(time.Minute)}); err == nil {
		t.Fatal("an invalid action was stored")
	}
	if _, err := st.Update(ctx, "t1", task.Running, "", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, "t1", task.Done, "isolated", now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(ctx, "t1", task.Failed, "late", now.Add(3*time.Second)); !errors.Is(err, ErrTaskFinal) {
		t.Fatalf("updating an ended task: %v, want ErrTaskFinal", err)
	}
	got, err := st.Get(ctx, "t1")
	if err != nil || got.Status != task.Done || got.Result != "isolated" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	if _, err := st.Get(ctx, "nope"); !errors.Is(err, ErrTaskNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
	list, err := st.ForSensor(ctx, "s1", now.Add(-time.Hour))
	if err != nil || len(list) != 1 || list[0].ID != "t1" {
		t.Fatalf("for sensor = %+v, %v", list, err)
	}
}

// TestTasksForSensorOrder checks ForSensor's since bound and oldest-first order
// hold for creation times within a second of each other, whole seconds included.
func TestTasksForSensorOrder(t *testing.T) {
	c := dynamo(t)
	st := &Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable)}
	ctx := context.Background()
	base := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	for id, at := range map[string]time.Duration{
		"t0":    0,
		"t0.5":  500 * time.Millisecond,
		"t1":    time.Second,
		"t1.25": 1250 * time.Millisecond,
		"t1.9":  1900 * time.Millisecond,
		"t2":    2 * time.Second,
	} {
		created := base.Add(at)
		if _, err := st.Create(ctx, task.Task{ID: id, SensorID: "s1", Action: "isolate", Status: task.Pending,
			Created: created, Deadline: created.Add(time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		since time.Duration
		want  string
	}{
		{-time.Second, "t0 t0.5 t1 t1.25 t1.9 t2"},
		{0, "t0 t0.5 t1 t1.25 t1.9 t2"},
		{time.Nanosecond, "t0.5 t1 t1.25 t1.9 t2"},
		{500 * time.Millisecond, "t0.5 t1 t1.25 t1.9 t2"},
		{time.Second, "t1 t1.25 t1.9 t2"},
		{1100 * time.Millisecond, "t1.25 t1.9 t2"},
		{2 * time.Second, "t2"},
		{2*time.Second + time.Nanosecond, ""},
	}
	for _, tc := range tests {
		list, err := st.ForSensor(ctx, "s1", base.Add(tc.since))
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, tk := range list {
			got = append(got, tk.ID)
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("since %v: got %q, want %q", tc.since, strings.Join(got, " "), tc.want)
		}
	}
}

func TestAPIKeys(t *testing.T) {
	c := dynamo(t)
	k := &APIKeys{Client: c, Table: testenv.CreateTable(t, c, testenv.APIKeysTable)}
	ctx := context.Background()
	if err := k.PutKey(ctx, "secret-1", api.Key{Org: "acme", Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	if err := k.PutKey(ctx, "secret-2", api.Key{Org: "acme", Name: "old", Revoked: true}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key     string
		ok      bool
		revoked bool
	}{{"secret-1", true, false}, {"secret-2", true, true}, {"wrong", false, false}}
	for _, tc := range tests {
		rec, ok, err := k.Lookup(ctx, tc.key)
		if err != nil || ok != tc.ok || rec.Revoked != tc.revoked || (ok && rec.Org != "acme") {
			t.Errorf("%s: %+v ok=%v err=%v", tc.key, rec, ok, err)
		}
	}

	// listing and revoking by id, org by org
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if err := k.PutKey(ctx, "vk_sensorsXYZ", api.Key{Org: "acme", Name: "sensors", Created: t0, Role: api.RoleSensor, SensorID: "s7"}); err != nil {
		t.Fatal(err)
	}
	if err := k.PutKey(ctx, "secret-3", api.Key{Org: "globex", Name: "ci"}); err != nil {
		t.Fatal(err)
	}
	list, err := k.ListKeys(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 3 || list[0].Name != "sensors" || !list[0].Created.Equal(t0) || list[0].Prefix != "vk_senso" ||
		list[0].ID != api.KeyID(HashKey("vk_sensorsXYZ")) || list[0].Revoked || list[0].Role != api.RoleSensor || list[0].SensorID != "s7" {
		t.Fatalf("acme's keys: %+v", list)
	}
	id := api.KeyID(HashKey("secret-1"))
	if _, err := k.RevokeKey(ctx, "globex", id); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("revoking another org's key: %v, want not found", err)
	}
	if _, err := k.RevokeKey(ctx, "acme", "0000000000000000"); !errors.Is(err, api.ErrNotFound) {
		t.Errorf("revoking an unknown id: %v, want not found", err)
	}
	rec, err := k.RevokeKey(ctx, "acme", id)
	if err != nil || !rec.Revoked || rec.Name != "ci" || rec.ID != id {
		t.Fatalf("revoke: %+v %v", rec, err)
	}
	if rec, ok, err := k.Lookup(ctx, "secret-1"); err != nil || !ok || !rec.Revoked || rec.Name != "ci" || rec.Role != "" {
		t.Errorf("after revoke: %+v ok=%v err=%v", rec, ok, err)
	}
	if list, _ := k.ListKeys(ctx, "globex"); len(list) != 1 || list[0].Revoked {
		t.Errorf("globex's keys: %+v", list)
	}
}

// TestBusPublish sends PutEvents through the SDK to a loopback endpoint that
// records the requests (there is no EventBridge emulator) and fails one entry once.
func TestBusPublish(t *testing.T) {
	var mu sync.Mutex
	var calls []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var in map[string]any
		if err := json.Unmarshal(body, &in); err != nil || r.Header.Get("X-Amz-Target") != "AWSEvents.PutEvents" {
			http.Error(w, "bad request", 400)
			return
		}
		mu.Lock()
		calls = append(calls, in)
		first := len(calls) == 1
		mu.Unlock()
		n := len(in["Entries"].([]any))
		entries := make([]map[string]any, n)
		failed := 0
		for i := range entries {
			entries[i] = map[string]any{"EventId": "e"}
		}
		if first {
			entries[0] = map[string]any{"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}
			failed = 1
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{"FailedEntryCount": failed, "Entries": entries})
	}))
	defer srv.Close()
	bus := &Bus{Client: eventbridge.NewFromConfig(testenv.AWSConfig(t, srv.URL)), BusName: "vigil"}
	var ds []detect.Detection
	for i := range 12 {
		ds = append(ds, det(i, "s1", "env:prod"))
	}
	if err := bus.Publish(context.Background(), ds); err != nil {
		t.Fatal(err)
	}
	// 10 + retry of 1 + 2
	if len(calls) != 3 {
		t.Fatalf("%d calls, want 3", len(calls))
	}
	e := calls[0]["Entries"].([]any)[0].(map[string]any)
	if e["Source"] != "vigil" || e["DetailType"] != "Detection" || e["EventBusName"] != "vigil" {
		t.Errorf("entry = %v", e)
	}
	var detail map[string]any
	if err := json.Unmarshal([]byte(e["Detail"].(string)), &detail); err != nil || detail["id"] != "d00" || detail["severity"] != "high" {
		t.Errorf("detail = %v (%v)", detail, err)
	}
	if got := len(calls[1]["Entries"].([]any)); got != 1 {
		t.Errorf("retry sent %d entries, want the failed one", got)
	}
}
