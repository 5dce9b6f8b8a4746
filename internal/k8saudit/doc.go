// Package k8saudit decodes the Kubernetes API server's audit log
// (audit.k8s.io/v1 Event objects) into K8S_AUDIT events.
//
// The API server writes audit events as JSON lines to a log file (and EKS
// sends those lines to CloudWatch Logs), and POSTs them as an EventList to its
// audit webhook backend. Decode takes all of these: one Event, one EventList,
// or JSON lines of either, pretty-printed or not. An error names the line the
// bad value starts on and the field (user.groups, stageTimestamp,
// requestObject.spec.hostNetwork, ...).
//
// The request object's security-relevant parts are read for the resources that
// carry them, on create, update and patch: a pod (or the pod template of a
// Deployment, DaemonSet, StatefulSet, ReplicaSet, ReplicationController, Job or
// CronJob): privileged containers, hostPath volumes, the host's network, pid
// and ipc namespaces, added capabilities, images; a Service's type; a Role's or
// ClusterRole's rules; a RoleBinding's or ClusterRoleBinding's role and
// subjects. Objects of other resources (custom resources included) are not
// read, so their shape cannot make an event fail.
package k8saudit
