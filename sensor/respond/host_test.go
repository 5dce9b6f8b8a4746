package respond

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	vaws "github.com/vigil-sec/vigil/internal/aws"
	"github.com/vigil-sec/vigil/internal/task"
	"github.com/vigil-sec/vigil/internal/testenv"
	"github.com/vigil-sec/vigil/sensor/isolate"
	"github.com/vigil-sec/vigil/sensor/kill"
)

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: acts on other processes and the kernel")
	}
}

// TestSnapshotAndKillTasks snapshots a test process into S3 (s3rver), checks
// the downloaded archive's hash against the reported one, then kills it.
func TestSnapshotAndKillTasks(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	endpoint := testenv.S3(t)
	client := s3.NewFromConfig(testenv.S3Config(t, endpoint), func(o *s3.Options) { o.UsePathStyle = true })
	testenv.CreateBucket(t, client, "vigil-lake")
	lake := vaws.NewS3(testenv.S3Config(t, endpoint), vaws.S3Options{Bucket: "vigil-lake", PathStyle: true})

	victim := exec.Command("sleep", "300")
	if err := victim.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { victim.Process.Kill(); victim.Wait() })
	st, err := kill.ReadStat(victim.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	pid, start := strconv.Itoa(victim.Process.Pid), strconv.FormatUint(st.StartTime, 10)

	src := &memSource{tasks: map[string]*task.Task{
		"t-snap": newTask("t-snap", "snapshot", map[string]string{"pid": pid, "start_time": start}),
	}}
	r := &Runner{Source: src, SensorID: "i-0abc", StatePath: filepath.Join(t.TempDir(), "state.json"), Lake: lake}
	if _, err := r.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	snap := src.tasks["t-snap"]
	var res struct {
		Key, SHA256 string
		Bytes       int
		Truncated   bool
	}
	if snap.Status != task.Done || json.Unmarshal([]byte(snap.Result), &res) != nil {
		t.Fatalf("snapshot task %s: %s", snap.Status, snap.Result)
	}
	if res.Key != "artifacts/i-0abc/t-snap/snapshot.tar" || res.Truncated {
		t.Fatalf("result %s", snap.Result)
	}
	got := testenv.GetObject(t, client, "vigil-lake", res.Key)
	sum := sha256.Sum256(got)
	if hex.EncodeToString(sum[:]) != res.SHA256 || len(got) != res.Bytes {
		t.Fatalf("downloaded %d bytes with SHA-256 %x; reported %d bytes, %s", len(got), sum, res.Bytes, res.SHA256)
	}

	// a kill meant for another process with this pid is refused
	src.tasks["t-wrong"] = newTask("t-wrong", "kill", map[string]string{"pid": pid, "start_time": strconv.FormatUint(st.StartTime+7, 10)})
	src.tasks["t-kill"] = newTask("t-kill", "kill", map[string]string{"pid": pid, "start_time": start})
	if _, err := r.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if w := src.tasks["t-wrong"]; w.Status != task.Failed {
		t.Fatalf("kill with the wrong start time: %s %s", w.Status, w.Result)
	}
	k := src.tasks["t-kill"]
	var kres struct {
		Procs []kill.Proc
	}
	if k.Status != task.Done || json.Unmarshal([]byte(k.Result), &kres) != nil || len(kres.Procs) != 1 || kres.Procs[0].Exit != "killed by SIGKILL" {
		t.Fatalf("kill task %s: %s", k.Status, k.Result)
	}
	victim.Wait()
	if ws := victim.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("victim ended %v", victim.ProcessState)
	}
}

// TestIsolateTaskSurvivesRestartAndReboot drives isolate and rejoin through the
// runner against a cgroup of the test's own (never the root): the pins carry the
// isolation across a new runner, and after the pins are gone (a reboot) Restore
// re-applies it from the state file. Reachability itself is proven in
// sensor/isolate's namespace test.
func TestIsolateTaskSurvivesRestartAndReboot(t *testing.T) {
	needRoot(t)
	ctx := context.Background()
	root, err := isolate.CgroupRoot()
	if err != nil {
		t.Skipf("no cgroup v2 hierarchy: %v", err)
	}
	if err := isolate.MountBPFFS(isolate.BPFFSRoot); err != nil {
		t.Skipf("no bpffs: %v", err)
	}
	cg := filepath.Join(root, fmt.Sprintf("vigil-respond-test-%d", os.Getpid()))
	if err := os.Mkdir(cg, 0o755); err != nil {
		t.Fatal(err)
	}
	opts := isolate.Options{Cgroup: cg, PinDir: filepath.Join(isolate.BPFFSRoot, fmt.Sprintf("vigil-respond-test-%d", os.Getpid()), "isolate")}
	t.Cleanup(func() {
		isolate.Rejoin(opts)
		os.Remove(filepath.Dir(opts.PinDir))
		os.Remove(cg)
	})
	iso := Isolation{Backend: []string{"10.231.0.2", "https://127.0.0.1:8443"}, Allow: []string{"10.9.0.0/16"}, Resolvers: []string{"10.231.0.53"}, Options: opts}
	state := filepath.Join(t.TempDir(), "state.json")
	src := &memSource{tasks: map[string]*task.Task{"t-iso": newTask("t-iso", "isolate", map[string]string{"allow": "192.0.2.1"})}}
	r := &Runner{Source: src, StatePath: state, Isolation: iso}
	if _, err := r.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := src.tasks["t-iso"]; got.Status != task.Done {
		if strings.Contains(got.Result, "operation not permitted") || strings.Contains(got.Result, "not supported") {
			t.Skipf("the kernel refuses cgroup eBPF programs: %s", got.Result)
		}
		t.Fatalf("isolate: %s %s", got.Status, got.Result)
	}
	want := []string{"10.9.0.0/16", "10.231.0.2/32", "10.231.0.53/32", "127.0.0.1/32", "192.0.2.1/32"}
	check := func(when string) {
		t.Helper()
		st, err := isolate.Current(opts)
		if err != nil || !st.Isolated {
			t.Fatalf("%s: not isolated: %+v %v", when, st, err)
		}
		var got []string
		for _, p := range st.Allow {
			got = append(got, p.String())
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("%s: allow %v, want %v", when, got, want)
		}
	}
	check("after the task")

	// a restarted sensor finds the isolation in place and leaves it so
	r2 := &Runner{Source: src, StatePath: state, Isolation: iso}
	if err := r2.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a restart")

	// a reboot clears bpffs: the state file brings the isolation back
	if _, err := isolate.Rejoin(opts); err != nil {
		t.Fatal(err)
	}
	r3 := &Runner{Source: src, StatePath: state, Isolation: iso}
	if err := r3.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a reboot")

	src.tasks["t-rejoin"] = newTask("t-rejoin", "rejoin", nil)
	if _, err := r3.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	if got := src.tasks["t-rejoin"]; got.Status != task.Done {
		t.Fatalf("rejoin: %s %s", got.Status, got.Result)
	}
	if st, _ := isolate.Current(opts); st.Isolated {
		t.Fatal("still isolated after rejoin")
	}
	// and it stays joined across a restart
	if err := (&Runner{Source: src, StatePath: state, Isolation: iso}).Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if st, _ := isolate.Current(opts); st.Isolated {
		t.Fatal("isolated again after rejoin and restart")
	}
}
