// Package kube gives events of processes in Kubernetes pods their pod's
// context: name, namespace, labels, service account, node, and the
// container's name and image.
//
// A Client lists the node's pods from the kubelet's /pods endpoint: the
// authenticated port (https://<node>:10250, a bearer service account token,
// the serving certificate verified against the cluster CA) or the read-only
// port (http://<node>:10255, where a cluster still enables it; no token is
// sent in the clear). The answer, a v1 PodList, is read into a few fields
// of its own (ParsePodList); k8s.io/api is not linked into the sensor.
//
// A Cache keeps the pods by UID and their containers by runtime id, bounded
// (CacheOptions.MaxPods; pods the kubelet no longer lists go first), and
// fills events from memory: Fill never waits for the kubelet. An event whose
// pod or container the cache does not hold yet carries its pod UID (from its
// cgroup, sensor/container) and asks Run for a list; Run lists at most once
// per MinInterval, and every Resync.
package kube
