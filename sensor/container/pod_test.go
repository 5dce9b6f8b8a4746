package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPodUID runs every case of testdata/kubepods.txt: the kubelet's cgroup
// layouts (systemd and cgroupfs drivers, each QoS class, containerd, cri-o
// and docker scopes, static pods), with the container id and pod UID each
// must give.
func TestPodUID(t *testing.T) {
	cases := readCases(t, "testdata/kubepods.txt", 4)
	for _, c := range cases {
		name, path, wantID, wantPod := c[0], c[1], c[2], c[3]
		t.Run(name, func(t *testing.T) {
			want := Info{ContainerID: wantID, PodUID: wantPod}
			if got := PathInfo(path); got != want {
				t.Errorf("PathInfo(%q) = %+v, want %+v", path, got, want)
			}
			if got := InfoFromProcCgroup([]byte("0::" + path + "\n")); got != want {
				t.Errorf("InfoFromProcCgroup(0::%s) = %+v, want %+v", path, got, want)
			}
		})
	}
	if len(cases) < 15 {
		t.Fatalf("only %d cases read", len(cases))
	}
}

// TestInfoFromProcCgroupHybrid reads a pod's container from the v1
// hierarchies of a hybrid host whose v2 hierarchy holds every process in
// its root.
func TestInfoFromProcCgroupHybrid(t *testing.T) {
	data, err := os.ReadFile("testdata/proc_cgroup_kubepods_hybrid.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := Info{ContainerID: "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a",
		PodUID: "0a1b2c3d-1111-2222-3333-444455556666"}
	if got := InfoFromProcCgroup(data); got != want {
		t.Errorf("InfoFromProcCgroup = %+v, want %+v", got, want)
	}
	// A pod's own cgroup (no container) still names the pod.
	pod := "0::/kubepods/burstable/pod0a1b2c3d-1111-2222-3333-444455556666\n"
	if got := InfoFromProcCgroup([]byte(pod)); got.PodUID != want.PodUID || got.ContainerID != "" {
		t.Errorf("pod cgroup: %+v", got)
	}
}

// TestResolverInfo resolves cgroup ids of a directory tree shaped like a
// node's kubepods hierarchy (systemd driver) to container and pod.
func TestResolverInfo(t *testing.T) {
	root := t.TempDir()
	const id = "3f5e2b9c8d7a6f1e0b4c2d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a"
	pod := filepath.Join(root, "kubepods.slice", "kubepods-besteffort.slice",
		"kubepods-besteffort-pod0a1b2c3d_1111_2222_3333_444455556666.slice")
	ctr := filepath.Join(pod, "cri-containerd-"+id+".scope")
	if err := os.MkdirAll(ctr, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := NewResolver(Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	want := Info{ContainerID: id, PodUID: "0a1b2c3d-1111-2222-3333-444455556666"}
	if got := r.Info(ino(t, ctr)); got != want {
		t.Errorf("container cgroup: %+v, want %+v", got, want)
	}
	if got := r.Info(ino(t, pod)); got != (Info{PodUID: want.PodUID}) {
		t.Errorf("pod cgroup: %+v", got)
	}
	if got := r.Info(ino(t, root)); got != (Info{}) {
		t.Errorf("root: %+v", got)
	}
}

func FuzzPodUID(f *testing.F) {
	f.Add("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0a1b2c3d_1111_2222_3333_444455556666.slice/x.scope")
	f.Add("/kubepods/pod0a1b2c3d-1111-2222-3333-444455556666/")
	f.Add("kubepods")
	f.Fuzz(func(t *testing.T, p string) {
		uid := PodUID(p)
		if uid != "" && (!isPodUID(uid) || !strings.Contains(strings.ReplaceAll(p, "_", "-"), uid)) {
			t.Fatalf("PodUID(%q) = %q", p, uid)
		}
	})
}
