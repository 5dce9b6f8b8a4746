package aws

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/engine"
	"github.com/vigil-sec/vigil/internal/testenv"
)

var _ engine.State = (*RuleState)(nil)

func TestRuleState(t *testing.T) {
	c := dynamo(t)
	st := &RuleState{Client: c, Table: testenv.CreateTable(t, c, testenv.RuleStateTable)}
	ctx := context.Background()
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

	if _, ok, err := st.Marker(ctx, "m", t0); ok || err != nil {
		t.Fatalf("absent marker: ok=%v err=%v", ok, err)
	}
	if err := st.Mark(ctx, "m", t0, time.Minute); err != nil {
		t.Fatal(err)
	}
	if exp, ok, err := st.Marker(ctx, "m", t0.Add(59*time.Second)); !ok || err != nil || !exp.Equal(t0.Add(time.Minute)) {
		t.Fatalf("live marker: %v %v %v", exp, ok, err)
	}
	if _, ok, _ := st.Marker(ctx, "m", t0.Add(61*time.Second)); ok {
		t.Fatal("expired marker still set")
	}

	steps := []struct {
		at   time.Duration
		want int64
	}{{0, 1}, {10 * time.Second, 2}, {59 * time.Second, 3}, {60 * time.Second, 1}, {90 * time.Second, 2}}
	for _, s := range steps {
		n, err := st.Incr(ctx, "c", t0.Add(s.at), time.Minute)
		if err != nil || n != s.want {
			t.Fatalf("incr at +%v = %d, %v; want %d (fixed windows from the first increment)", s.at, n, err, s.want)
		}
	}
	if err := st.Reset(ctx, "c"); err != nil {
		t.Fatal(err)
	}
	if n, _ := st.Incr(ctx, "c", t0.Add(91*time.Second), time.Minute); n != 1 {
		t.Fatalf("after reset: %d", n)
	}

	// concurrent increments in one window are all counted
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := st.Incr(ctx, "busy", t0, time.Hour); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n, _ := st.Incr(ctx, "busy", t0, time.Hour); n != 21 {
		t.Fatalf("after 20 concurrent increments: %d, want 21", n)
	}
}
