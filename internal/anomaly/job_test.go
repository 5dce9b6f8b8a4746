package anomaly

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// memLake is a lake and model store in memory, with ETags.
type memLake struct {
	mu    sync.Mutex
	objs  map[string][]byte
	etags map[string]string
	gets  int
	n     int
}

func newMemLake() *memLake { return &memLake{objs: map[string][]byte{}, etags: map[string]string{}} }

func (l *memLake) List(_ context.Context, prefix string) ([]string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var keys []string
	for k := range l.objs {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys, nil
}

func (l *memLake) Get(ctx context.Context, key string) ([]byte, error) {
	d, _, err := l.GetIfNoneMatch(ctx, key, "")
	return d, err
}

func (l *memLake) GetIfNoneMatch(_ context.Context, key, etag string) ([]byte, string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.gets++
	d, ok := l.objs[key]
	if !ok {
		return nil, "", fmt.Errorf("get %s: %w", key, fs.ErrNotExist)
	}
	if etag != "" && etag == l.etags[key] {
		return nil, etag, nil
	}
	return d, l.etags[key], nil
}

func (l *memLake) Put(_ context.Context, key string, data []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	l.objs[key] = append([]byte(nil), data...)
	l.etags[key] = fmt.Sprintf(`"%d"`, l.n)
	return nil
}

// putEvents writes evs as one lake file per day and sensor group.
func putEvents(t *testing.T, l *memLake, name string, evs []event.Event) {
	t.Helper()
	byDay := map[string][]event.Event{}
	for _, e := range evs {
		day := time.Unix(0, e.TimeNanos).UTC().Format(time.DateOnly)
		byDay[day] = append(byDay[day], e)
	}
	enc := event.NewEncoder()
	for day, evs := range byDay {
		data, err := enc.Encode(evs)
		if err != nil {
			t.Fatal(err)
		}
		l.Put(context.Background(), "events/dt="+day+"/hr=00/sensor=x/"+name+".parquet", data)
	}
}

func TestJobTrainsOnWindow(t *testing.T) {
	l := newMemLake()
	now := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	// In the window: a day of prod (3 sensors) over two day partitions. Outside: old events.
	putEvents(t, l, "prod", hostEvents(1, "prod", 3, 1440, now.Add(-48*time.Hour), 1))
	putEvents(t, l, "old", hostEvents(2, "prod", 3, 100, now.Add(-5*24*time.Hour), 1))
	l.Put(context.Background(), "events/dt=2026-11-21/hr=00/sensor=y/bad.parquet", []byte("PAR1 not really"))
	l.Put(context.Background(), "events/dt=2026-11-21/hr=00/sensor=y/notes.txt", []byte("ignored"))

	j := &Job{Lake: l, Out: l, Days: 2, Now: func() time.Time { return now },
		Options: TrainOptions{GroupBy: "env", Params: Params{Trees: 20, Contamination: 0.001, Seed: 1}}}
	s, err := j.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if s.Key != DefaultModelKey || s.Rows != 3*1440 || s.Files != 2 || s.BadFiles != 1 || len(s.Errors) != 1 ||
		!strings.Contains(s.Errors[0], "bad.parquet") || len(s.Groups) != 1 || s.Groups[0] != "prod" {
		t.Errorf("summary %+v", s)
	}
	m, err := Decode(l.objs[DefaultModelKey])
	if err != nil {
		t.Fatal(err)
	}
	if !m.TrainedAt.Equal(now) || m.Global.Rows != 3*1440 || m.Params.Trees != 20 {
		t.Errorf("model: trained %v, rows %d, params %+v", m.TrainedAt, m.Global.Rows, m.Params)
	}

	// Nothing in the window: an error naming the problem, nothing written.
	empty := newMemLake()
	j.Lake, j.Out = empty, empty
	if _, err := j.Run(context.Background()); !errors.Is(err, ErrNoRows) {
		t.Errorf("empty lake: %v", err)
	}
	if len(empty.objs) != 0 {
		t.Error("a model was written from no rows")
	}
}

func TestJobFromEnv(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	j, err := JobFromEnv(env())
	if err != nil || j.Days != 7 || j.Key != "" || j.Options.GroupBy != "env" || j.Options.Params.Contamination != 0.001 {
		t.Errorf("defaults: %+v, %v", j, err)
	}
	j, err = JobFromEnv(env("VIGIL_TRAIN_DAYS", "3", "VIGIL_MODEL_KEY", "models/x.json", "VIGIL_LAKE_PREFIX", "vigil",
		"VIGIL_ANOMALY_GROUP_BY", "-", "VIGIL_ANOMALY_CONTAMINATION", "0", "VIGIL_ANOMALY_TREES", "50", "VIGIL_ANOMALY_SEED", "9"))
	if err != nil || j.Days != 3 || j.Key != "models/x.json" || j.Prefix != "vigil/" || j.Options.GroupBy != "" ||
		j.Options.Params != (Params{Trees: 50, Seed: 9}) {
		t.Errorf("set: %+v, %v", j, err)
	}
	for _, bad := range [][]string{
		{"VIGIL_TRAIN_DAYS", "0"}, {"VIGIL_TRAIN_DAYS", "week"}, {"VIGIL_ANOMALY_CONTAMINATION", "0.7"},
		{"VIGIL_ANOMALY_CONTAMINATION", "-0.1"}, {"VIGIL_ANOMALY_CONTAMINATION", "NaN"},
		{"VIGIL_ANOMALY_TREES", "-3"}, {"VIGIL_ANOMALY_TREES", "10001"}, {"VIGIL_ANOMALY_TREES", "many"},
		{"VIGIL_ANOMALY_SEED", "x"},
	} {
		// The error names the variable and the value it was given.
		want := fmt.Sprintf("%s=%q", bad[0], bad[1])
		if _, err := JobFromEnv(env(bad...)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want an error containing %s", want, err, want)
		}
	}
}

func TestLiveCachesByETag(t *testing.T) {
	l := newMemLake()
	now := t0
	live := &Live{Source: l, Key: DefaultModelKey, MaxAge: time.Minute, Now: func() time.Time { return now }}
	ctx := context.Background()

	if sc, err := live.Scorer(ctx); sc != nil || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no model yet: %v, %v", sc, err)
	}
	sc := trainedScorer(t)
	data, _ := sc.Models.Encode()
	l.Put(ctx, DefaultModelKey, data)
	if got, err := live.Scorer(ctx); got != nil || err != nil {
		t.Fatalf("within MaxAge of the last check: %v, %v; want no new check", got, err)
	}
	now = now.Add(time.Minute)
	first, err := live.Scorer(ctx)
	if err != nil || first == nil {
		t.Fatalf("load: %v", err)
	}
	gets := l.gets
	for range 10 {
		if s, _ := live.Scorer(ctx); s != first {
			t.Fatal("scorer changed within MaxAge")
		}
	}
	if l.gets != gets {
		t.Errorf("%d reads within MaxAge", l.gets-gets)
	}
	now = now.Add(time.Minute)
	if s, err := live.Scorer(ctx); s != first || err != nil {
		t.Error("unchanged object reloaded")
	}
	// A corrupt upload keeps the last good model and says why.
	l.Put(ctx, DefaultModelKey, []byte(`{"version":1,"kind":"host_activity"}`))
	now = now.Add(time.Minute)
	if s, err := live.Scorer(ctx); s != first || !errors.Is(err, ErrBadModel) {
		t.Errorf("corrupt model: %v, %v", s, err)
	}
	// A new model replaces it.
	l.Put(ctx, DefaultModelKey, data)
	now = now.Add(time.Minute)
	if s, err := live.Scorer(ctx); s == first || s == nil || err != nil {
		t.Errorf("new model not loaded: %v", err)
	}
}
