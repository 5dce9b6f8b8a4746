package enrich

import (
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// podsSeen records what the Enricher asks of its Pods.
type podsSeen struct{ calls [][2]string }

func (p *podsSeen) Fill(ev *event.Event, podUID, containerID string) {
	p.calls = append(p.calls, [2]string{podUID, containerID})
	ev.PodUID, ev.PodName = podUID, "pod-of-"+containerID[:4]
}

// TestEnricherPods: on a host whose runtime uses cgroup v1 only, a process's
// pod UID comes from /proc/<pid>/cgroup at exec and is kept with it: its
// later events and its children's are filled from the pod; host processes
// ask nothing.
func TestEnricherPods(t *testing.T) {
	const ctr = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	const uid = "0a1b2c3d-1111-2222-3333-444455556666"
	proc := newFakeProc(t)
	proc.add(100, "/usr/bin/containerd-shim", []string{"shim"}, 250)
	proc.write("100/cgroup", "1:name=systemd:/system.slice/containerd.service\n0::/\n")
	pods := &podsSeen{}
	e, err := New(Options{ProcRoot: proc.root, PasswdPath: "testdata/passwd", Pods: pods})
	if err != nil {
		t.Fatal(err)
	}
	proc.add(300, "/bin/sh", []string{"sh"}, 400)
	proc.write("300/cgroup", "1:name=systemd:/kubepods/besteffort/pod"+uid+"/"+ctr+"\n0::/\n")
	ev := event.Event{Type: event.NewProcess, PID: 300, PPID: 100, FilePath: "/bin/sh"}
	e.Enrich(&ev, false)
	if ev.ContainerID != ctr || ev.PodUID != uid || ev.PodName != "pod-of-3f5e" {
		t.Errorf("exec in a pod: container %q pod %q %q", ev.ContainerID, ev.PodUID, ev.PodName)
	}
	proc.remove(300)
	child := event.Event{Type: event.NewProcess, PID: 301, PPID: 300, FilePath: "/bin/id"}
	e.Enrich(&child, true)
	fe := event.Event{Type: event.FileOpen, PID: 300, PPID: 100, TargetPath: "/etc/passwd"}
	e.Enrich(&fe, false)
	for _, x := range []event.Event{child, fe} {
		if x.PodUID != uid || x.ContainerID != ctr {
			t.Errorf("%s of pid %d: pod %q container %q", x.Type, x.PID, x.PodUID, x.ContainerID)
		}
	}
	host := event.Event{Type: event.NetworkConnect, PID: 100}
	e.Enrich(&host, false)
	if host.PodUID != "" || len(pods.calls) != 3 {
		t.Errorf("host event: pod %q; calls %v", host.PodUID, pods.calls)
	}
}
