package container

import "strings"

// PodUID returns the UID of the Kubernetes pod in a cgroup path, or "" if the
// path is not under the kubelet's kubepods cgroup. The kubelet names a pod's
// cgroup after its UID, by QoS class:
//
//	systemd driver   /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod<uid>.slice/...
//	                 /kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod<uid>.slice/...
//	                 /kubepods.slice/kubepods-pod<uid>.slice/...   (guaranteed)
//	cgroupfs driver  /kubepods/burstable/pod<uid>/<container id>
//	                 /kubepods/besteffort/pod<uid>/..., /kubepods/pod<uid>/...
//
// The systemd driver writes the UID's dashes as underscores (a dash separates
// a slice's parents in its name); PodUID gives the UID with dashes, as the
// API server has it. The innermost pod cgroup wins (a kubelet in a container,
// as kind runs one, nests a node's kubepods under the outer one's).
func PodUID(cgroupPath string) string {
	if !strings.Contains(cgroupPath, "kubepods") {
		return ""
	}
	p := strings.TrimSuffix(cgroupPath, "/")
	for p != "" {
		i := strings.LastIndexByte(p, '/')
		if uid := podUIDOf(p[i+1:]); uid != "" {
			return uid
		}
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return ""
}

// podUIDOf returns the pod UID one cgroup directory name holds, or "".
func podUIDOf(name string) string {
	var uid string
	if s, ok := strings.CutSuffix(name, ".slice"); ok {
		i := strings.LastIndex(s, "-pod")
		if i < 0 || !strings.Contains(s[:i], "kubepods") {
			return ""
		}
		uid = strings.ReplaceAll(s[i+len("-pod"):], "_", "-")
	} else if s, ok := strings.CutPrefix(name, "pod"); ok {
		uid = s
	}
	if !isPodUID(uid) {
		return ""
	}
	return uid
}

// isPodUID accepts a UID as the API server makes it (a UUID, 36 characters)
// and as the kubelet makes a static pod's (32 hex digits of its config hash).
func isPodUID(s string) bool {
	if len(s) != 36 && len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || c == '-' && len(s) == 36) {
			return false
		}
	}
	return true
}
