package snapshot

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/sensor/kill"
)

const marker = "VIGIL-SNAPSHOT-MARKER-7f3a"

// victim starts a shell that holds marker in its memory and waits on its stdin.
func victim(t *testing.T) *exec.Cmd {
	t.Helper()
	cmd := exec.Command("sh", "-c", "read x; echo "+marker)
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// untar returns an archive's files.
func untar(t *testing.T, data []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	tr := tar.NewReader(bytes.NewReader(data))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		out[h.Name] = b
	}
}

func TestSnapshot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (or CAP_SYS_PTRACE) to read another process's memory")
	}
	cmd := victim(t)
	st, err := kill.ReadStat(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	snap, err := Take(context.Background(), Options{PID: cmd.Process.Pid, StartTime: st.StartTime})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(snap.Tar)
	if snap.SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatal("SHA256 is not the archive's")
	}
	files := untar(t, snap.Tar)
	for _, name := range []string{"manifest.json", "proc/maps", "proc/cmdline", "proc/status", "fds.txt", "net/tcp", "net/udp", "exe"} {
		if _, ok := files[name]; !ok {
			t.Errorf("archive lacks %s", name)
		}
	}
	if _, ok := files["TRUNCATED.txt"]; ok || snap.Manifest.Truncated {
		t.Error("truncated without a bound")
	}
	exePath, _ := os.Readlink("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/exe")
	if exe, _ := os.ReadFile(exePath); !bytes.Equal(files["exe"], exe) {
		t.Errorf("exe is not %s", exePath)
	}
	if !strings.Contains(string(files["fds.txt"]), "0 -> pipe:[") {
		t.Errorf("fds.txt: %s", files["fds.txt"])
	}
	found := false
	for name, data := range files {
		if strings.HasPrefix(name, "memory/") && bytes.Contains(data, []byte(marker)) {
			found = true
		}
	}
	if !found {
		t.Error("no memory region holds the marker the process has in memory")
	}
	var m Manifest
	if err := json.Unmarshal(files["manifest.json"], &m); err != nil || m.PID != cmd.Process.Pid || m.StartTime != st.StartTime || len(m.Regions) == 0 {
		t.Fatalf("manifest %+v %v", m, err)
	}
	for _, e := range m.Files {
		s := sha256.Sum256(files[e.Name])
		if e.SHA256 != hex.EncodeToString(s[:]) {
			t.Errorf("manifest hash of %s is wrong", e.Name)
		}
	}

	if _, err := Take(context.Background(), Options{PID: cmd.Process.Pid, StartTime: st.StartTime + 1}); !errors.Is(err, kill.ErrNotSameProcess) {
		t.Errorf("another process's start time: %v", err)
	}
}

func TestSnapshotBounded(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (or CAP_SYS_PTRACE) to read another process's memory")
	}
	cmd := victim(t)
	const bound = 300 << 10
	snap, err := Take(context.Background(), Options{PID: cmd.Process.Pid, MaxBytes: bound})
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Tar) > bound {
		t.Fatalf("archive of %d bytes, bound %d", len(snap.Tar), bound)
	}
	files := untar(t, snap.Tar)
	note, ok := files["TRUNCATED.txt"]
	if !ok || !snap.Manifest.Truncated || !strings.Contains(string(note), "truncated") {
		t.Fatalf("no truncation marker: %v %q", snap.Manifest.Truncated, note)
	}
	if _, ok := files["manifest.json"]; !ok {
		t.Fatal("manifest left out")
	}
	if _, ok := files["proc/maps"]; !ok {
		t.Fatal("small files must come before memory is cut")
	}
}

// reusePid starts a process (sleep) with pid, which must be free, and returns it,
// or nil if another process took the pid first. The kernel gives the pid after
// ns_last_pid to the next process (root only).
func reusePid(t *testing.T, pid int) *exec.Cmd {
	t.Helper()
	for range 20 {
		if err := os.WriteFile("/proc/sys/kernel/ns_last_pid", []byte(strconv.Itoa(pid-1)), 0); err != nil {
			t.Logf("cannot choose the next pid: %v", err)
			return nil
		}
		cmd := exec.Command("sleep", "61")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if cmd.Process.Pid == pid {
			t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
			return cmd
		}
		cmd.Process.Kill()
		cmd.Wait()
	}
	return nil
}

// TestSnapshotProcessExits: a process that exits while it is captured, its pid
// left free or given to another process, gives an error, not an archive of what
// is left or of the other process.
func TestSnapshotProcessExits(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (or CAP_SYS_PTRACE) to read another process's memory")
	}
	for _, reuse := range []bool{false, true} {
		t.Run(fmt.Sprintf("pid reused %v", reuse), func(t *testing.T) {
			cmd := victim(t)
			pid := cmd.Process.Pid
			st, err := kill.ReadStat(pid)
			if err != nil {
				t.Fatal(err)
			}
			var other *exec.Cmd
			t.Cleanup(func() { afterPin = nil })
			afterPin = func() {
				cmd.Process.Kill()
				cmd.Wait() // reaped: the pid is free for another process
				if reuse {
					other = reusePid(t, pid)
				}
			}
			snap, err := Take(context.Background(), Options{PID: pid, StartTime: st.StartTime})
			if snap != nil {
				m := snap.Manifest
				t.Fatalf("Take archived pid %d (%s): %d files, errors %q; want ErrGone", m.PID, m.Comm, len(m.Files), m.Errors)
			}
			if !errors.Is(err, kill.ErrGone) {
				t.Fatalf("Take: %v, want ErrGone", err)
			}
			if reuse && other == nil {
				t.Skip("the pid could not be given to another process")
			}
		})
	}
}

// TestSnapshotPinsTheProcess: files are read through the directory opened for
// the process; once it exited they cannot be read there, though another process
// now has its pid.
func TestSnapshotPinsTheProcess(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to choose the next pid")
	}
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	p, err := pin(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if st, err := p.stat(); err != nil || st.Comm != "sleep" {
		t.Fatalf("stat of the pinned process: %+v, %v", st, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	other := reusePid(t, cmd.Process.Pid)
	if _, err := p.stat(); !errors.Is(err, kill.ErrGone) {
		t.Fatalf("stat after the exit: %v, want ErrGone", err)
	}
	if got, err := p.readFile("cmdline"); err == nil {
		t.Fatalf("cmdline read after the process exited: %q", got)
	}
	if other == nil {
		t.Skip("the pid could not be given to another process")
	}
	// The new process's arguments appear once its exec has set up its stack,
	// which can be just after Start returns.
	var got []byte
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if got, _ = os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", other.Process.Pid)); len(got) > 0 {
			break
		}
	}
	if !strings.Contains(string(got), "61") {
		t.Fatalf("the pid's new process has cmdline %q", got)
	}
}
