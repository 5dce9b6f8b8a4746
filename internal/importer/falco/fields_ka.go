package falco

import (
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
	"github.com/vigil-sec/vigil/internal/importer"
)

// Fields of Falco's k8s_audit source (the k8saudit plugin's ka.* and jevt.*
// fields), read on K8S_AUDIT events (docs/kubernetes.md). A rule of source
// k8s_audit matches K8S_AUDIT events only.

const kaPrefix = "event/K8S_AUDIT/"

// kaStrings are the ka.* fields of one string value. A field missing from the
// audit event has no value in Falco (every comparison is false, != too); Vigil
// reads it as empty, so != also needs the value to be there.
var kaStrings = map[string]string{
	"ka.verb": "VERB", "ka.user.name": "USER", "ka.impuser.name": "IMPERSONATED_USER",
	"ka.target.resource": "RESOURCE", "ka.target.subresource": "SUBRESOURCE",
	"ka.target.namespace": "NAMESPACE", "ka.target.name": "NAME",
	"ka.uri": "REQUEST_URI", "ka.useragent": "USER_AGENT",
	"ka.auth.decision": "DECISION", "ka.auth.reason": "REASON",
	"ka.req.service.type": "SERVICE_TYPE", "ka.req.binding.role": "ROLE_REF",
}

// kaLists are the ka.* fields of several values: intersects holds when one value
// is in the set, in when there are values and every one is (as the k8saudit
// plugin compares list fields).
var kaLists = map[string]string{
	"ka.user.groups": "GROUPS", "ka.sourceips": "SOURCE_IPS",
	"ka.req.pod.volumes.hostpath": "HOST_PATHS", "ka.req.pod.containers.image": "IMAGES",
	"ka.req.pod.containers.image.repository": "IMAGE_REPOSITORIES",
	"ka.req.pod.containers.add_capabilities": "CAPABILITIES",
	"ka.req.binding.subjects":                "SUBJECTS",
	"ka.req.role.rules.verbs":                "RULE_VERBS", "ka.req.role.rules.resources": "RULE_RESOURCES",
}

// kaAllContainers are the list fields Vigil reads from every container of the pod
// (init and ephemeral ones too) where Falco reads the containers only.
var kaAllContainers = map[string]bool{
	"ka.req.pod.containers.image": true, "ka.req.pod.containers.image.repository": true,
	"ka.req.pod.containers.add_capabilities": true,
}

// kaFlags are the pod's booleans, 1 on K8S_AUDIT events when set true.
var kaFlags = map[string]string{
	"ka.req.pod.host_network": "HOST_NETWORK", "ka.req.pod.host_pid": "HOST_PID", "ka.req.pod.host_ipc": "HOST_IPC",
	"ka.req.pod.containers.privileged":          "PRIVILEGED",
	"ka.req.pod.initContainers.privileged":      "PRIVILEGED",
	"ka.req.pod.ephemeralContainers.privileged": "PRIVILEGED",
}

// kaPointers are the JSON pointers of jevt.value[…] that name a carried field.
var kaPointers = map[string]string{
	"/stage": "STAGE", "/verb": "VERB", "/user/username": "USER", "/impersonatedUser/username": "IMPERSONATED_USER",
	"/objectRef/apiGroup": "API_GROUP", "/objectRef/resource": "RESOURCE", "/objectRef/subresource": "SUBRESOURCE",
	"/objectRef/namespace": "NAMESPACE", "/objectRef/name": "NAME", "/requestURI": "REQUEST_URI",
	"/userAgent": "USER_AGENT",
	"/annotations/authorization.k8s.io~1decision": "DECISION", "/annotations/authorization.k8s.io~1reason": "REASON",
}

const kaNotKept = "Vigil's K8S_AUDIT events carry the audit event's fields of docs/kubernetes.md, not its whole JSON"

func init() {
	for f, p := range kaStrings {
		handlers[f] = func(k *cmpCtx) (*importer.Node, error) { return k.kaStr(kaPrefix + p) }
		outputFields[f] = kaPrefix + p
	}
	for f, p := range kaLists {
		handlers[f] = func(k *cmpCtx) (*importer.Node, error) { return k.kaList(kaPrefix + p) }
		outputFields[f] = kaPrefix + p
	}
	for f, p := range kaFlags {
		handlers[f] = func(k *cmpCtx) (*importer.Node, error) { return k.kaFlag(kaPrefix + p) }
		outputFields[f] = kaPrefix + p
	}
	handlers["ka.response.code"] = func(k *cmpCtx) (*importer.Node, error) { return k.kaCode(kaPrefix + "RESPONSE_CODE") }
	outputFields["ka.response.code"] = kaPrefix + "RESPONSE_CODE"
	indexed["jevt.value"] = func(k *cmpCtx) (*importer.Node, error) {
		if k.arg == "/responseStatus/code" {
			return k.kaCode(kaPrefix + "RESPONSE_CODE")
		}
		p, ok := kaPointers[k.arg]
		if !ok {
			return nil, k.fail("field jevt.value[%s] is not supported: %s (the pointers Vigil reads: %s)", k.arg, kaNotKept, strings.Join(sortedKeys(kaPointers), ", "))
		}
		return k.kaStr(kaPrefix + p)
	}
	handlers["jevt.rawtime"] = func(k *cmpCtx) (*importer.Node, error) { return k.kaRawtime() }
	indexed["ka.uri.param"] = func(k *cmpCtx) (*importer.Node, error) {
		return nil, k.fail("field %s is not supported: Vigil keeps the request URI as text (ka.uri), its query parameters are not decoded", k.x.field)
	}
	for _, f := range []string{"ka.req.configmap.name", "ka.req.configmap.obj", "ka.req.role.rules", "ka.req.service.ports",
		"ka.resp.name", "ka.response.reason", "ka.auditid", "ka.stage", "jevt.obj", "jevt.time", "jevt.time.iso8601", "jevt.value"} {
		notCarried[f] = kaNotKept
	}
	notCarriedPrefix["ka."] = kaNotKept
	notCarriedPrefix["jevt."] = kaNotKept
}

// onAudit checks that the comparison is translated for K8S_AUDIT events: ka.*
// fields belong to rules of source k8s_audit.
func (k *cmpCtx) onAudit() error {
	if k.t != event.K8sAudit {
		return k.fail("field %s is a field of the k8s_audit source (rules with source: k8s_audit), not of %s events", k.x.field, k.t)
	}
	return nil
}

// kaStr translates a comparison on a string field of the audit event.
func (k *cmpCtx) kaStr(p string) (*importer.Node, error) {
	if err := k.onAudit(); err != nil {
		return nil, err
	}
	switch k.x.op {
	case "intersects":
		return nil, k.fail("operator intersects applies to list fields; %s has one value (use in)", k.x.field)
	case "!=":
		n, err := k.str(p)
		if err != nil {
			return nil, err
		}
		return importer.And(importer.Leaf(importer.OpExists, p, nil), n), nil
	}
	return k.str(p)
}

// kaList translates a comparison on a list field of the audit event: intersects
// (one value in the set), in (values, every one in the set), exists.
func (k *cmpCtx) kaList(p string) (*importer.Node, error) {
	if err := k.onAudit(); err != nil {
		return nil, err
	}
	if kaAllContainers[k.x.field] {
		k.note(approxNote, "%s is read from every container of the pod, init and ephemeral containers too", k.x.field)
	}
	switch k.x.op {
	case "exists":
		return importer.Leaf(importer.OpExists, p, nil), nil
	case "intersects":
		return k.str(p)
	case "in":
		vals, err := k.vals()
		if err != nil {
			return nil, err
		}
		if len(vals) == 0 {
			return importer.False(), nil
		}
		other := &importer.Node{Op: importer.OpMatches, Path: p, Re: "^(?:" + complementRegexp(vals) + ")$"}
		return importer.And(importer.Leaf(importer.OpExists, p, nil), importer.Negate(other)), nil
	}
	return nil, k.fail("%s is a list: it takes in (every value in the set), intersects (one value in the set) or exists, not %s", k.x.field, k.x.op)
}

// kaFlag translates a comparison on one of the pod's booleans: Vigil records true
// (1) and reads false and unset alike (0), so only true is asked for.
func (k *cmpCtx) kaFlag(p string) (*importer.Node, error) {
	if err := k.onAudit(); err != nil {
		return nil, err
	}
	list := strings.Contains(k.x.field, "ontainers.")
	if list {
		k.note(approxNote, "%s is read as whether any container of the pod is privileged, init and ephemeral containers included", k.x.field)
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	switch op := k.x.op; {
	case op == "exists":
		return nil, k.fail("%s exists is not supported: Vigil does not tell false from unset", k.x.field)
	case op == "intersects" || op == "in" && !list || (op == "=" || op == "==") && !list:
		if len(vals) == 0 {
			return importer.False(), nil
		}
		for _, v := range vals {
			if !strings.EqualFold(v, "true") {
				return nil, k.fail("%s compared with %q: Vigil records true only (false and unset are alike)", k.x.field, v)
			}
		}
		return importer.Leaf(importer.OpIs, p, int64(1)), nil
	case op == "in":
		return nil, k.fail("%s in (…) asks that every container be privileged, which Vigil does not record (use intersects)", k.x.field)
	}
	return nil, k.fail("operator %s does not apply to %s (use intersects (true))", k.x.op, k.x.field)
}

// kaCode translates a comparison on the response's status code, a string in Falco
// and a number on Vigil's events (0 when the event has none).
func (k *cmpCtx) kaCode(p string) (*importer.Node, error) {
	if err := k.onAudit(); err != nil {
		return nil, err
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	has := importer.Leaf(importer.OpExists, p, nil)
	switch k.x.op {
	case "exists":
		return has, nil
	case "startswith":
		if len(vals) != 1 || len(vals[0]) == 0 || len(vals[0]) > 3 {
			return nil, k.fail("%s startswith takes the first one to three digits of a status code, not %q", k.x.field, strings.Join(vals, ","))
		}
		pre, err := strconv.ParseInt(vals[0], 10, 64)
		if err != nil || pre < 0 {
			return nil, k.fail("%s is a status code, %q is not the start of one", k.x.field, vals[0])
		}
		scale := int64(1)
		for range 3 - len(vals[0]) {
			scale *= 10
		}
		lo, hi := pre*scale, (pre+1)*scale
		return importer.And(importer.Leaf(importer.OpGreater, p, lo-1), importer.Leaf(importer.OpLower, p, hi)), nil
	case "=", "==", "in", "!=":
		nums, err := k.intsOf(vals)
		if err != nil {
			return nil, err
		}
		n, err := k.numOp(p, nums)
		if err != nil {
			return nil, err
		}
		if k.x.op == "!=" {
			return importer.And(has, n), nil
		}
		return n, nil
	}
	return nil, k.fail("operator %s does not apply to %s (use =, !=, in, startswith or exists)", k.x.op, k.x.field)
}

// kaRawtime is jevt.rawtime, the event's time, which every audit event has:
// exists holds, = 0 never (k8s_audit_always_true, k8s_audit_never_true).
func (k *cmpCtx) kaRawtime() (*importer.Node, error) {
	if err := k.onAudit(); err != nil {
		return nil, err
	}
	vals, err := k.vals()
	if err != nil {
		return nil, err
	}
	switch {
	case k.x.op == "exists":
		k.note(falcoNote, "%s is true: every audit event has a time", k.s.quote(k.x))
		return importer.True(), nil
	case (k.x.op == "=" || k.x.op == "==") && len(vals) == 1 && vals[0] == "0":
		k.note(falcoNote, "%s is false: every audit event has a time", k.s.quote(k.x))
		return importer.False(), nil
	}
	return nil, k.fail("jevt.rawtime: only exists and = 0 are supported (Vigil does not compare event times in rules)")
}

// complementRegexp is an RE2 body that matches exactly the strings that are not
// in set: built on the trie of the set, a string is outside it when it ends at a
// node that ends no item, goes on with a character no item has there, or goes on
// below a child outside that child's items.
func complementRegexp(set []string) string {
	type trie struct {
		end  bool
		kids map[rune]*trie
	}
	root := &trie{kids: map[rune]*trie{}}
	for _, s := range set {
		n := root
		for _, r := range s {
			c := n.kids[r]
			if c == nil {
				c = &trie{kids: map[rune]*trie{}}
				n.kids[r] = c
			}
			n = c
		}
		n.end = true
	}
	var walk func(n *trie) string
	walk = func(n *trie) string {
		var alts []string
		if !n.end {
			alts = append(alts, "")
		}
		runes := make([]rune, 0, len(n.kids))
		for r := range n.kids {
			runes = append(runes, r)
		}
		sort.Slice(runes, func(i, j int) bool { return runes[i] < runes[j] })
		var class strings.Builder
		for _, r := range runes {
			if r < 0x80 && strings.ContainsRune(`\\]^-[`, r) {
				class.WriteByte('\\')
			}
			class.WriteRune(r)
		}
		if len(runes) == 0 {
			alts = append(alts, "(?s:.+)")
		} else {
			alts = append(alts, "[^"+class.String()+"](?s:.*)")
		}
		for _, r := range runes {
			alts = append(alts, regexp.QuoteMeta(string(r))+"(?:"+walk(n.kids[r])+")")
		}
		return strings.Join(alts, "|")
	}
	return walk(root)
}
