// Package respond is the core of the response workflow's task handler (the respond
// Lambda function behind the Step Functions state machine): it creates sensor
// tasks, reports their status to the workflow's wait-and-check loop, expires them at
// their deadline, and notifies (PagerDuty Events v2) when the workflow says so.
//
// The workflow calls one function for every step with the whole execution state;
// `request.op` says what to do:
//
//	{"request": {"op": "create_task", "action": "isolate"}, "sensor_id": "...",
//	 "detection": {...}, "deadline_seconds": 300,
//	 "kill_tree": false}                                      → {"task_id", "deadline"}
//	{"request": {"op": "check_task", "action": "isolate"},
//	 "isolate_task": {"task_id": "...", ...}}                → {"status": "pending|done|failed|expired"}
//	{"request": {"op": "notify"}, "detection": {...}}         → {"notified": true}
//
// kill and snapshot tasks name the detection's process: "pid" (the event's
// PROCESS_ID) and "event_time" (its routing/event_time). A kill task also gets
// "tree": "true" when kill_tree is true (the rule's kill action says
// descendants: true), so the sensor kills the process's descendants too.
//
// Task ids derive from the detection id and the action, so a retried step finds
// the task it created before instead of creating a second one.
package respond
