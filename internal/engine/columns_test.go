package engine

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/vigil-sec/vigil/internal/event"
)

// TestColumns checks the columns an engine of one rule of testdata/columns
// reads: those of engineKeyPaths (keys, below) and the rule's.
func TestColumns(t *testing.T) {
	keys := []string{"sensor_id", "event_type", "event_time", "event_id", "pid", "ppid"}
	tests := []struct {
		file string
		want []string // besides keys; nil: every column
	}{
		{"command_line.yaml", []string{"command_line"}},
		{"env.yaml", []string{"environment"}},
		{"derived.yaml", []string{"file_path", "ancestor_command_lines"}},
		{"with_child.yaml", []string{"user", "file_path", "command_line"}},
		{"count.yaml", []string{"hostname", "dest_port", "file_path", "command_line"}},
		{"suppression.yaml", []string{"file_path", "tty"}},
		{"suppression_function.yaml", nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join("testdata/columns", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(tc.file, data)
			if err != nil {
				t.Fatal(err)
			}
			eng, err := New([]*Rule{r})
			if err != nil {
				t.Fatal(err)
			}
			got := eng.Columns()
			if tc.want == nil {
				if got != nil {
					t.Fatalf("Columns() = %v, want nil (every column)", got)
				}
				return
			}
			var want []string
			for _, c := range event.Columns() { // in their order
				if slices.Contains(keys, c.Name) || slices.Contains(tc.want, c.Name) {
					want = append(want, c.Name)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("Columns() = %v, want %v", got, want)
			}
		})
	}
}
