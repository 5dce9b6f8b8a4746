package respond

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
)

// countingSource counts the Pending calls of the source it wraps, and fails
// them while failing is set.
type countingSource struct {
	TaskSource
	polls   atomic.Int64
	failing atomic.Bool
}

func (c *countingSource) Pending(ctx context.Context) ([]task.Task, error) {
	c.polls.Add(1)
	if c.failing.Load() {
		return nil, errors.New("api unreachable")
	}
	return c.TaskSource.Pending(ctx)
}

// valueBell is a bell whose value and failure a test sets.
type valueBell struct {
	seq int64
	err error
}

func (b *valueBell) Seq(context.Context, string) (int64, error) { return b.seq, b.err }

// TestRunnerBell runs rounds of a runner with a bell and says, round by round,
// whether the API is asked.
func TestRunnerBell(t *testing.T) {
	type round struct {
		name      string
		seq       int64
		bellErr   bool
		apiDown   bool
		advance   time.Duration
		unreport  bool // a result waits to be reported
		wantPolls int64
	}
	rounds := []round{
		{name: "first round asks", wantPolls: 1},
		{name: "bell unchanged", advance: 30 * time.Second, wantPolls: 1},
		{name: "bell rang", seq: 1, advance: 30 * time.Second, wantPolls: 2},
		{name: "unchanged again", seq: 1, advance: 30 * time.Second, wantPolls: 2},
		{name: "bell unreadable: ask", seq: 1, bellErr: true, advance: 30 * time.Second, wantPolls: 3},
		{name: "unreadable still: ask", seq: 1, bellErr: true, advance: 30 * time.Second, wantPolls: 4},
		{name: "read again, unchanged", seq: 1, advance: 30 * time.Second, wantPolls: 4},
		{name: "rang but the API fails", seq: 2, apiDown: true, advance: 30 * time.Second, wantPolls: 5},
		{name: "failed poll is retried", seq: 2, advance: 30 * time.Second, wantPolls: 6},
		{name: "settled", seq: 2, advance: 30 * time.Second, wantPolls: 6},
		{name: "a result waits", seq: 2, unreport: true, advance: 30 * time.Second, wantPolls: 7},
		{name: "the full interval passed", seq: 2, advance: time.Hour, wantPolls: 8},
		{name: "and not again at once", seq: 2, advance: 30 * time.Second, wantPolls: 8},
	}
	mem := &memSource{tasks: map[string]*task.Task{}}
	src := &countingSource{TaskSource: mem}
	bell := &valueBell{}
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	r := &Runner{Source: src, Bell: bell, SensorID: "s-1", StatePath: filepath.Join(t.TempDir(), "respond.json"),
		Now: func() time.Time { return now }}
	var w bellWatch
	ctx := context.Background()
	for _, rd := range rounds {
		now = now.Add(rd.advance)
		bell.seq, bell.err = rd.seq, nil
		if rd.bellErr {
			bell.err = errors.New("dynamodb unreachable")
		}
		src.failing.Store(rd.apiDown)
		if rd.unreport {
			mem.mu.Lock()
			mem.tasks["t-old"] = newTask("t-old", "kill", nil)
			mem.mu.Unlock()
			r.mu.Lock()
			r.state.Tasks["t-old"] = &taskRecord{Action: "kill", Status: task.Done, Started: now, Ended: now}
			r.mu.Unlock()
		}
		r.round(ctx, &w)
		if got := src.polls.Load(); got != rd.wantPolls {
			t.Fatalf("%s: %d polls of the API so far, want %d", rd.name, got, rd.wantPolls)
		}
	}
}

// TestRunnerBellDynamoDB runs a runner whose tasks and bell are the stack's
// tables in a DynamoDB emulator: a task created through the tasks store rings
// the bell, and the runner asks for its tasks and runs it at the next round,
// and not before.
func TestRunnerBellDynamoDB(t *testing.T) {
	c := dynamodb.NewFromConfig(testenv.AWSConfig(t, testenv.DynamoDB(t)))
	bells := &vaws.TaskBells{Client: c, Table: testenv.CreateTable(t, c, testenv.TaskBellsTable)}
	tasks := &vaws.Tasks{Client: c, Table: testenv.CreateTable(t, c, testenv.TasksTable), Bells: bells}
	src := &countingSource{TaskSource: &StoreSource{Store: tasks, SensorID: "s-1"}}
	var ran atomic.Int64
	r := &Runner{Source: src, Bell: bells, SensorID: "s-1", StatePath: filepath.Join(t.TempDir(), "respond.json"),
		Actions: map[string]Action{"kill": func(context.Context, task.Task) (string, error) { ran.Add(1); return `{"killed":1}`, nil }}}
	ctx := context.Background()
	var w bellWatch
	r.round(ctx, &w)
	r.round(ctx, &w)
	if got := src.polls.Load(); got != 1 {
		t.Fatalf("%d polls with no task created, want 1 (the first round)", got)
	}
	now := time.Now()
	other := task.Task{ID: "t-other", SensorID: "s-2", Action: "kill", Args: map[string]string{"pid": "1"}, Status: task.Pending, Created: now, Deadline: now.Add(time.Minute)}
	if _, err := tasks.Create(ctx, other); err != nil {
		t.Fatal(err)
	}
	r.round(ctx, &w)
	if got := src.polls.Load(); got != 1 {
		t.Fatalf("another sensor's task made this one ask: %d polls, want 1", got)
	}
	mine := other
	mine.ID, mine.SensorID = "t-mine", "s-1"
	if _, err := tasks.Create(ctx, mine); err != nil {
		t.Fatal(err)
	}
	// the bell is read eventually consistently: a real table may answer the
	// old value for a moment, the emulator answers the new one
	r.round(ctx, &w)
	if got := src.polls.Load(); got != 2 || ran.Load() != 1 {
		t.Fatalf("after a task was created: %d polls, %d tasks run; want 2 and 1", got, ran.Load())
	}
	got, err := tasks.Get(ctx, "t-mine")
	if err != nil || got.Status != task.Done {
		t.Fatalf("task after the round: %+v, %v; want done", got, err)
	}
	r.round(ctx, &w)
	if got := src.polls.Load(); got != 2 {
		t.Fatalf("%d polls once the task ran, want 2", got)
	}
}
