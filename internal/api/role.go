package api

import (
	"context"
	"net/http"
	"strings"
)

// Role is what an API key may do.
type Role string

// Roles, each allowed what the one before it is, except sensor:
//
//	viewer     reads: sensors, detections, rules, tasks
//	responder  also starts tasks and changes a detection's status, assignee and comments
//	admin      also manages keys (and rules, where a route changes them)
//	sensor     only fetches its own sensor's tasks and reports their results
//	k8s-audit  only posts its cluster's Kubernetes audit events (the API
//	           server's audit webhook); its sensor_id names the cluster
const (
	RoleViewer    Role = "viewer"
	RoleResponder Role = "responder"
	RoleAdmin     Role = "admin"
	RoleSensor    Role = "sensor"
	RoleK8sAudit  Role = "k8s-audit"
)

// Roles lists the roles a key may have.
var Roles = []Role{RoleViewer, RoleResponder, RoleAdmin, RoleSensor, RoleK8sAudit}

// DefaultRole is the role of a key created without one: the least that works.
const DefaultRole = RoleViewer

// EffectiveRole is the role a key's stored role grants. A key stored before keys
// had roles has none and keeps doing what every key could then: admin.
func EffectiveRole(r Role) Role {
	if r == "" {
		return RoleAdmin
	}
	return r
}

// CheckRole refuses an unknown role and a sensor id given to any role but
// sensor, or missing for it.
func CheckRole(r Role, sensorID string) error {
	valid := false
	for _, x := range Roles {
		valid = valid || x == r
	}
	switch {
	case !valid:
		names := make([]string, len(Roles))
		for i, x := range Roles {
			names[i] = string(x)
		}
		return badRequest("role %q: want one of %s", r, strings.Join(names, ", "))
	case r == RoleSensor && sensorID == "":
		return badRequest("sensor_id is required for role sensor: the one sensor the key fetches tasks for")
	case r == RoleK8sAudit:
		if err := CheckCluster(sensorID); err != nil {
			return badRequest("sensor_id of a k8s-audit key names its cluster: %v", err)
		}
	case r != RoleSensor && sensorID != "":
		return badRequest("sensor_id %q: only a key of role sensor is bound to a sensor", sensorID)
	}
	return nil
}

// rank orders the human roles; sensor ranks with none of them.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleResponder:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Identity is who a request comes from: the key's org, name and role (and, for
// a sensor key, its sensor).
type Identity struct {
	Org      string
	Name     string
	Role     Role
	SensorID string
}

type identityKey struct{}

// WithIdentity returns ctx admitting its request as id: the API then checks no
// key, only that the path's org is id's and that id's role allows the route.
// Whoever serves the API calls it once it has authenticated the request some
// other way (API Gateway's authorizer, see Lambda); nothing a client sends sets it.
func WithIdentity(ctx context.Context, id Identity) context.Context {
	id.Role = EffectiveRole(id.Role)
	return context.WithValue(ctx, identityKey{}, id)
}

// AdmittedName is the name changes are recorded under for a request admitted
// with WithOrg (a dashboard session, vigil local's control socket).
const AdmittedName = "local"

// WithOrg returns ctx admitting its request for org as an admin named
// AdmittedName: the API then checks no key, only that the path's org is org.
// The server's owner calls it once it has authenticated the request some other
// way (a dashboard session cookie, a peer on a socket only the owner can reach);
// nothing a client sends sets it.
func WithOrg(ctx context.Context, org string) context.Context {
	return WithIdentity(ctx, Identity{Org: org, Name: AdmittedName, Role: RoleAdmin})
}

// IdentityFrom returns the identity the API admitted the request in ctx as.
func IdentityFrom(ctx context.Context) (Identity, bool) {
	id, ok := ctx.Value(identityKey{}).(Identity)
	return id, ok
}

func forbidden(format string, args ...any) error {
	e := badRequest(format, args...).(*httpError)
	e.status = http.StatusForbidden
	return e
}

// need wraps h so that only identities of role min or above reach it; a sensor
// key reaches it only when sensorOK.
func (s *Server) need(min Role, sensorOK bool, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, _ := IdentityFrom(r.Context())
		if id.Role == RoleSensor && sensorOK {
			h(w, r)
			return
		}
		if id.Role.rank() < min.rank() {
			what := "a " + string(min) + " key"
			switch min {
			case RoleAdmin:
				what = "an admin key"
			case RoleViewer:
				what = "a viewer, responder or admin key"
			}
			s.fail(w, r, forbidden("API key %s has role %s: %s needs %s", id.Name, id.Role, r.Pattern, what))
			return
		}
		h(w, r)
	}
}

// ownSensor refuses a sensor key acting for another sensor than its own.
func ownSensor(r *http.Request, sensorID string) error {
	id, _ := IdentityFrom(r.Context())
	if id.Role == RoleSensor && id.SensorID != sensorID {
		return forbidden("API key %s is bound to sensor %s, not %s", id.Name, id.SensorID, sensorID)
	}
	return nil
}
