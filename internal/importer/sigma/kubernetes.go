package sigma

import "github.com/vigil-sec/vigil/internal/event"

// k8sAuditFields are the fields of Sigma's Kubernetes audit rules (logsource
// product kubernetes, service audit): the audit event's JSON keys, dotted, as
// K8S_AUDIT events carry them (docs/kubernetes.md). apiGroup, hostPath and
// capabilities are the bare names SigmaHQ's rules use for objectRef.apiGroup, the
// pod's hostPath volumes and the capabilities its containers add.
var k8sAuditFields = map[string]target{
	"verb":                      pathTarget{"event/K8S_AUDIT/VERB"},
	"stage":                     pathTarget{"event/K8S_AUDIT/STAGE"},
	"user.username":             pathTarget{"event/K8S_AUDIT/USER"},
	"user.groups":               pathTarget{"event/K8S_AUDIT/GROUPS"},
	"impersonatedUser.username": pathTarget{"event/K8S_AUDIT/IMPERSONATED_USER"},
	"objectRef.apiGroup":        pathTarget{"event/K8S_AUDIT/API_GROUP"},
	"apiGroup":                  pathTarget{"event/K8S_AUDIT/API_GROUP"},
	"objectRef.resource":        pathTarget{"event/K8S_AUDIT/RESOURCE"},
	"objectRef.subresource":     pathTarget{"event/K8S_AUDIT/SUBRESOURCE"},
	"objectRef.namespace":       pathTarget{"event/K8S_AUDIT/NAMESPACE"},
	"objectRef.name":            pathTarget{"event/K8S_AUDIT/NAME"},
	"requestURI":                pathTarget{"event/K8S_AUDIT/REQUEST_URI"},
	"sourceIPs":                 pathTarget{"event/K8S_AUDIT/SOURCE_IPS"},
	"userAgent":                 pathTarget{"event/K8S_AUDIT/USER_AGENT"},
	"responseStatus.code":       pathTarget{"event/K8S_AUDIT/RESPONSE_CODE"},
	"annotations.authorization.k8s.io/decision": pathTarget{"event/K8S_AUDIT/DECISION"},
	"annotations.authorization.k8s.io/reason":   pathTarget{"event/K8S_AUDIT/REASON"},
	"hostPath":     pathTarget{"event/K8S_AUDIT/HOST_PATHS"},
	"capabilities": pathTarget{"event/K8S_AUDIT/CAPABILITIES"},
}

// k8sAudit is the log source of Kubernetes audit rules: K8S_AUDIT events.
var k8sAudit = category{types: []string{event.K8sAudit}, fields: k8sAuditFields}
