// Package api is Vigil's HTTP API: one net/http handler served by the api Lambda
// function (behind API Gateway's HTTP API) and by `vigil local`.
//
//	GET  /v1/orgs/{org}/sensors[?tag=K:V]...              sensors carrying every tag
//	GET  /v1/orgs/{org}/detections[?tag=&sensor=&since=&limit=&cursor=]
//	GET  /v1/orgs/{org}/rules                               the rules in force
//	POST /v1/orgs/{org}/sensors/{id}/tasks                  {"action": "isolate", ...}
//	GET  /v1/orgs/{org}/sensors/{id}/tasks[?since=]         a sensor polls its tasks
//	GET  /v1/orgs/{org}/tasks/{id}
//	POST /v1/orgs/{org}/tasks/{id}/result                   {"status": "done", "result": "..."}
//
// Every request carries `Authorization: Bearer <key>`; keys are stored hashed.
// A missing, malformed or unknown key is 401, a revoked key or a key of another org
// 403. Errors are JSON objects {"error": "..."} with a 4xx status naming what is
// wrong. Lists page with an opaque `cursor` returned as `next_cursor`.
//
// A task is refused (400) when the sensor would refuse its process arguments: kill
// and snapshot need `args.pid`, and kill also `args.start_time` or
// `args.event_time`, since a pid can be reused.
package api
