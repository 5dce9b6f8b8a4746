package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	sdkaws "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/netnstest"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/sensor/isolate"
	sensorrespond "github.com/vigil-sec/vigil/sensor/respond"
	"github.com/vigil-sec/vigil/sensor/shipper"
)

// memStream keeps the records a shipper puts.
type memStream struct {
	mu   sync.Mutex
	recs [][]byte
}

func (s *memStream) Put(_ context.Context, _ string, records [][]byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recs = append(s.recs, records...)
	return nil
}

// TestHostResponseChain runs the whole response to one detection with a real
// sensor at the end: a miner exec → the detect handler → the response workflow
// (the CDK app's definition on stepfunctions-local, its tasks running the respond
// handler against dynalite) → an isolate task, which rings the sensor's task
// bell → the sensor's task runner, reading its bell, asks the tasks table,
// isolates its "host" in the kernel and reports → SUCCEEDED.
//
// The "host" is a cgroup of the test's own (the programs attach there, never to
// the root) and a network namespace holding a "backend" address and another
// one; probes run in both, so the machine running the test is never cut off.
func TestHostResponseChain(t *testing.T) {
	if testing.Short() {
		t.Skip("integration scenario")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces, cgroups and cgroup eBPF programs")
	}
	netnstest.Require(t)
	for _, tool := range []string{"bash", "timeout"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	root, err := isolate.CgroupRoot()
	if err != nil {
		t.Skipf("no cgroup v2 hierarchy: %v", err)
	}
	if err := isolate.MountBPFFS(isolate.BPFFSRoot); err != nil {
		t.Skipf("no bpffs: %v", err)
	}
	host := newIsolatedHost(t, root)
	host.expect(t, "before the detection", map[string]bool{"10.232.0.2": true, "10.232.0.3": true})

	ctx := context.Background()
	cb := newCloud(t)
	tasks, handler, sf, sm, pagerduty := cb.tasks, cb.handler, cb.sf, cb.sm, &cb.pagerduty

	// the sensor's task runner, reading its bell and asking the tasks table as
	// its own sensor id when it rang (else only at start and once an hour)
	runner := &sensorrespond.Runner{
		Source:    &sensorrespond.StoreSource{Store: tasks, SensorID: "i-0abc"},
		Bell:      cb.bells,
		SensorID:  "i-0abc",
		StatePath: filepath.Join(t.TempDir(), "respond.json"),
		Isolation: sensorrespond.Isolation{Backend: []string{"10.232.0.2"}, Resolvers: []string{}, Options: host.opts},
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runner.Run(runCtx, 300*time.Millisecond, time.Minute) }()
	t.Cleanup(func() { stop(); <-done })

	// the miner, shipped as a sensor batch
	stream := &memStream{}
	ship := shipper.New(shipper.Options{SensorID: "i-0abc", Stream: stream})
	at := time.Now().UTC().Truncate(time.Second)
	ev := event.Event{Type: event.NewProcess, PID: 11, User: "www-data", FilePath: "/tmp/.x/xmrig", CommandLine: "/tmp/.x/xmrig -o pool:3333",
		SensorID: "i-0abc", Hostname: "web-1", Tags: []string{"env:prod"}, TimeNanos: at.UnixNano(), ID: event.NewID(at)}
	ship.Add(&ev)
	if err := ship.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var in events.KinesisEvent
	for i, rec := range stream.recs {
		var er events.KinesisEventRecord
		er.EventSource, er.EventSourceArn = "aws:kinesis", "arn:aws:kinesis:us-east-1:123456789012:stream/vigil-events"
		er.Kinesis.Data, er.Kinesis.PartitionKey, er.Kinesis.SequenceNumber = rec, "i-0abc", fmt.Sprint(i+1)
		in.Records = append(in.Records, er)
	}
	if resp, err := handler.Handle(ctx, in); err != nil || len(resp.BatchItemFailures) != 0 {
		t.Fatalf("detect: %v %+v", err, resp)
	}

	var out *sfn.DescribeExecutionOutput
	waitFor(t, "the response execution to end", func() bool {
		list, err := sf.ListExecutions(ctx, &sfn.ListExecutionsInput{StateMachineArn: sm.StateMachineArn})
		if err != nil || len(list.Executions) == 0 {
			return false
		}
		out, err = sf.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: list.Executions[0].ExecutionArn})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status != sfntypes.ExecutionStatusRunning
	})
	if out.Status != sfntypes.ExecutionStatusSucceeded || reachedFail(t, sf, sdkaws.ToString(out.ExecutionArn)) {
		t.Fatalf("execution %s, or it reached a Fail state: %s", out.Status, sdkaws.ToString(out.Output))
	}

	list, err := tasks.ForSensor(ctx, "i-0abc", at.Add(-time.Hour))
	if err != nil || len(list) != 1 || list[0].Action != "isolate" || list[0].Status != task.Done {
		t.Fatalf("tasks %+v, %v", list, err)
	}
	var res struct {
		Isolated bool
		Allow    []string
	}
	if err := json.Unmarshal([]byte(list[0].Result), &res); err != nil || !res.Isolated || strings.Join(res.Allow, ",") != "10.232.0.2/32" {
		t.Fatalf("isolate result %s (%v)", list[0].Result, err)
	}
	host.expect(t, "isolated", map[string]bool{"10.232.0.2": true, "10.232.0.3": false})
	if n := len(pagerduty.all()); n != 1 {
		t.Fatalf("PagerDuty got %d events, want 1", n)
	}

	// an analyst rejoins the host through the same channel
	now := time.Now().UTC()
	if _, err := tasks.Create(ctx, task.Task{ID: "t-rejoin", SensorID: "i-0abc", Action: "rejoin", Status: task.Pending,
		Created: now, Updated: now, Deadline: now.Add(time.Minute), RequestedBy: "api"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rejoin task", func() bool {
		tk, err := tasks.Get(ctx, "t-rejoin")
		return err == nil && tk.Status == task.Done
	})
	host.expect(t, "rejoined", map[string]bool{"10.232.0.2": true, "10.232.0.3": true})
}

// isolatedHost is a network namespace with a "backend" (10.232.0.2) and another
// address (10.232.0.3) listening on a veth device, and a cgroup for its
// processes.
type isolatedHost struct {
	ns     *netnstest.Namespace
	cgroup string
	opts   isolate.Options
}

func newIsolatedHost(t *testing.T, cgroupRoot string) *isolatedHost {
	t.Helper()
	id := fmt.Sprint(os.Getpid())
	h := &isolatedHost{ns: netnstest.New(t, "vgl-chain"), cgroup: filepath.Join(cgroupRoot, "vigil-chain-test-"+id)}
	h.opts = isolate.Options{Cgroup: h.cgroup, PinDir: filepath.Join(isolate.BPFFSRoot, "vigil-chain-test-"+id, "isolate")}
	netnstest.Veth(t, netnstest.End{NS: h.ns, Name: "d0", Addrs: []string{"10.232.0.2/24", "10.232.0.3/24"}},
		netnstest.End{NS: h.ns, Name: "d1"})
	if err := os.Mkdir(h.cgroup, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		isolate.Rejoin(h.opts)
		os.Remove(filepath.Dir(h.opts.PinDir))
		for range 50 {
			if os.Remove(h.cgroup) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	// listeners in the namespace
	h.ns.Do(t, func() {
		for _, a := range []string{"10.232.0.2:7007", "10.232.0.3:7007"} {
			l, err := net.Listen("tcp", a)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		}
	})
	return h
}

// expect connects from a process in the host's cgroup and namespace to each
// address and checks whether it may.
func (h *isolatedHost) expect(t *testing.T, when string, want map[string]bool) {
	t.Helper()
	cg, err := os.Open(h.cgroup)
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	for addr, ok := range want {
		cmd := h.ns.Command("timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/"+addr+"/7007")
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(cg.Fd())}
		out, err := cmd.CombinedOutput()
		switch {
		case ok && err != nil:
			t.Fatalf("%s: connect to %s failed: %v: %s", when, addr, err, out)
		case !ok && err == nil:
			t.Fatalf("%s: connect to %s succeeded, want refused", when, addr)
		case !ok && !strings.Contains(string(out), "not permitted"):
			t.Fatalf("%s: connect to %s: %s, want refused by the kernel (EPERM)", when, addr, out)
		}
	}
}
