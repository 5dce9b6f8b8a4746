package event

import "testing"

func TestColumns(t *testing.T) {
	cols := Columns()
	got := map[string]string{}
	for _, c := range cols {
		got[c.Name] = c.Type
	}
	want := map[string]string{
		"sensor_id": "string", "tags": "array<string>", "event_time": "timestamp", "pid": "bigint",
		"exit_code": "int", "dest_port": "bigint", "cgroup_id": "bigint", "ptrace_request": "bigint",
		"command_line": "string", "ancestor_pids": "array<bigint>", "ancestor_file_paths": "array<string>",
		"process_start_time": "timestamp",
	}
	for name, typ := range want {
		if got[name] != typ {
			t.Errorf("column %s: type %q, want %q", name, got[name], typ)
		}
	}
	if len(cols) != len(eventSchema.Fields()) {
		t.Errorf("%d columns for %d schema fields", len(cols), len(eventSchema.Fields()))
	}
}
