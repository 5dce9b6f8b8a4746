package aws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// TestTaskBells creates tasks through Tasks with a bell table and reads the
// bells as a sensor does: a created task rings its sensor's bell once, a task
// created again (a retried step) rings it again, other sensors' bells stay.
func TestTaskBells(t *testing.T) {
	c := dynamo(t)
	bells := &TaskBells{Client: c, Table: testenv.CreateTable(t, c, testenv.TaskBellsTable)}
	st := &Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable), Bells: bells}
	ctx := context.Background()
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	mk := func(id, sensor string) task.Task {
		return task.Task{ID: id, SensorID: sensor, Action: "kill", Status: task.Pending, Created: now, Deadline: now.Add(time.Minute)}
	}
	steps := []struct {
		name   string
		create task.Task
		want   map[string]int64 // sensor → seq after the step
	}{
		{"no task yet", task.Task{}, map[string]int64{"s1": 0, "s2": 0}},
		{"first task of s1", mk("t1", "s1"), map[string]int64{"s1": 1, "s2": 0}},
		{"second task of s1", mk("t2", "s1"), map[string]int64{"s1": 2, "s2": 0}},
		{"t1 created again", mk("t1", "s1"), map[string]int64{"s1": 3, "s2": 0}},
		{"first task of s2", mk("t3", "s2"), map[string]int64{"s1": 3, "s2": 1}},
	}
	for _, s := range steps {
		if s.create.ID != "" {
			if _, err := st.Create(ctx, s.create); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		for sensor, want := range s.want {
			got, err := bells.Seq(ctx, sensor)
			if err != nil || got != want {
				t.Errorf("%s: seq of %s = %d, %v; want %d", s.name, sensor, got, err, want)
			}
		}
	}

	// a bell that cannot be rung fails the creation, which rings it when retried
	st.Bells = &TaskBells{Client: c, Table: "no-such-table"}
	if _, err := st.Create(ctx, mk("t4", "s2")); err == nil || !strings.Contains(err.Error(), "no-such-table") {
		t.Fatalf("create with a missing bell table: %v, want an error naming the table", err)
	}
	st.Bells = bells
	if _, err := st.Create(ctx, mk("t4", "s2")); err != nil {
		t.Fatal(err)
	}
	if got, err := bells.Seq(ctx, "s2"); err != nil || got != 2 {
		t.Fatalf("seq of s2 after the retry = %d, %v; want 2", got, err)
	}
	if err := bells.Ring(ctx, "", now); err == nil {
		t.Fatal("a bell was rung for no sensor")
	}
}
