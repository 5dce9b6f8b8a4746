// Package container tells which container a process runs in, from its cgroup.
//
// Container runtimes put each container in a cgroup whose directory name holds
// the container's 64-hex-digit id:
//
//	docker (cgroupfs driver)   /docker/<id>
//	docker (systemd driver)    /system.slice/docker-<id>.scope
//	containerd / Kubernetes    /kubepods/burstable/pod<uid>/<id>
//	                           /kubepods.slice/.../cri-containerd-<id>.scope
//	cri-o                      /kubepods.slice/.../crio-<id>.scope
//	podman                     /machine.slice/libpod-<id>.scope (rootless: under user@<uid>.service)
//	nerdctl / containerd       /default/<id>, nerdctl-<id>.scope
//
// ID parses such a path (the innermost id wins; conmon's own scope, crio-conmon-
// and libpod-conmon-, is not a container). A Resolver maps the cgroup v2 id the
// kernel reports for an event (the inode number of the cgroup's directory) to its
// path under the cgroup2 mount, found in /proc/self/mountinfo (/sys/fs/cgroup on a
// unified host, /sys/fs/cgroup/unified on a hybrid one), and caches the answer.
// On hybrid hosts a runtime may use only the v1 hierarchies, leaving every
// process in the v2 root; FromProcCgroup reads any hierarchy of
// /proc/<pid>/cgroup for that case.
//
// PodUID reads the Kubernetes pod's UID from the same path (the kubelet's
// kubepods hierarchy, systemd and cgroupfs drivers, every QoS class); Info
// and PathInfo give the container id and pod UID together, and the Resolver
// caches both per cgroup id.
package container
