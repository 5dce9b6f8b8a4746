// Package api is Vigil's HTTP API: one net/http handler served by the api Lambda
// function (behind API Gateway's HTTP API) and by `vigil local`.
//
//	GET  /v1/orgs/{org}/sensors[?tag=K:V]...              sensors carrying every tag
//	GET  /v1/orgs/{org}/detections[?tag=&sensor=&status=&since=&limit=&cursor=]
//	GET  /v1/orgs/{org}/detections/{id}                     with status, assignee, comments, history
//	PATCH /v1/orgs/{org}/detections/{id}                    {"status": "resolved", "assignee": "alice"}
//	POST /v1/orgs/{org}/detections/{id}/comments            {"text": "..."}
//	GET  /v1/orgs/{org}/detections/{id}/context[?minutes=]  its process tree and their events (search.go)
//	GET  /v1/orgs/{org}/rules                               the rules in force
//	POST /v1/orgs/{org}/events/search                       {"where": "<detection node>", "since": "1h", ...} → {"id"}
//	GET  /v1/orgs/{org}/events/search/{id}[?cursor=]        its state and a page of events
//	POST /v1/orgs/{org}/sensors/{id}/tasks                  {"action": "isolate", ...}
//	GET  /v1/orgs/{org}/sensors/{id}/tasks[?since=]         a sensor polls its tasks
//	GET  /v1/orgs/{org}/tasks/{id}
//	POST /v1/orgs/{org}/tasks/{id}/result                   {"status": "done", "result": "..."}
//	GET  /v1/orgs/{org}/keys                                the org's API keys (id, prefix, name, created, last_used, revoked)
//	POST /v1/orgs/{org}/keys                                {"name": "ci"} → the record and "key", shown this once
//	DELETE /v1/orgs/{org}/keys/{id}                         revokes the key with id
//
// Every request carries `Authorization: Bearer <key>`; keys are stored hashed
// (HashKey), listed by an id (KeyID, the hash's first 16 hex digits) and a prefix
// (KeyPrefix) that tell them apart without revealing them. A missing, malformed
// or unknown key is 401, a revoked key, a key of another org or one whose Role
// does not allow the route 403; so is a path whose {org}, as routed, is not the
// key's (an escaped slash, "acme%2Fx", is org "acme/x"). Errors are JSON objects
// {"error": "..."} with a 4xx status naming what is wrong, a path no route has
// (404) and a method its routes do not take (405, with Allow) too; a body over
// MaxBody is 413. Lists page with an
// opaque `cursor` returned as `next_cursor`. The keys routes need a KeyManager
// (Server.KeyAdmin) and answer 501 without one; only admin keys may use them.
//
// Roles (Role): viewer reads; responder also starts tasks and changes detections'
// triage; admin also manages keys; sensor only fetches and reports its own
// sensor's tasks. A key stored without a role acts as admin (EffectiveRole).
// Every task, status change and comment records the key's name.
//
// A request may instead reach the handler already admitted (WithIdentity, WithOrg):
// by API Gateway's Lambda authorizer (see Lambda and Authorizer), by the
// dashboard once it has checked a session cookie and, for state-changing
// methods, its CSRF token (internal/dashboard's API wrapper), or by `vigil
// local`'s control socket. The handler then checks no key, only that the path's
// org is the admitted one and that its role allows the route (WithIdentity;
// WithOrg admits an admin named AdmittedName). Nothing a client sends sets it.
//
// A task is refused (400) when the sensor would refuse its process arguments: kill
// and snapshot need `args.pid`, and kill also `args.start_time` or
// `args.event_time`, since a pid can be reused.
package api
