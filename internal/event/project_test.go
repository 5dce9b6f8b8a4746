package event

import (
	"reflect"
	"slices"
	"strings"
	"testing"
)

// projected returns a copy of evs with every field outside the columns cols
// zero, as a Decoder projected on cols reads them.
func projected(evs []Event, cols []string) []Event {
	out := normalized(evs)
	for i := range out {
		var keep Event
		for _, c := range cols {
			f, ok := columnIndex(c)
			if !ok {
				panic(c)
			}
			copyField(&keep, &out[i], f)
		}
		out[i] = keep
	}
	return out
}

// TestDecoderProject decodes the files of decodeCases one after the other with
// one projected Decoder, whose events are reused: Decode must give the
// columns of the projection and zeros elsewhere, whatever the file before
// held, and Complete the whole file.
func TestDecoderProject(t *testing.T) {
	cases := decodeCases(t)
	order := []string{"batch/filled", "batch/sample", "lake/mixed", "batch/storm", "parquet-go/plain strings",
		"batch/empty", "batch/mixed", "parquet-go/v1 small pages", "batch/sample", "parquet-go/v2 pages", "batch/filled"}
	for _, tc := range []struct {
		name string
		cols []string
	}{
		{"two columns", []string{"pid", "command_line"}},
		{"lists", []string{"event_type", "args", "environment", "ancestor_file_paths"}},
		{"one type", TypeColumns(SensorHeartbeat)},
		{"every column", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dec := NewDecoder() // the stream decoder refuses parquet-go's layouts
			if err := dec.Project(tc.cols); err != nil {
				t.Fatal(err)
			}
			if got := dec.Projection(); !slices.Equal(got, tc.cols) && (len(got) != 0 || len(tc.cols) != 0) {
				t.Fatalf("Projection() = %v, want %v", got, tc.cols)
			}
			for i, name := range order {
				want, err := Decode(nil, cases[name], 0)
				if err != nil {
					t.Fatal(err)
				}
				got, err := dec.Decode(cases[name], 0)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				wantProjected := want
				if tc.cols != nil {
					wantProjected = projected(want, tc.cols)
				}
				if d := diffEvents(got, wantProjected); d != "" {
					t.Fatalf("%s: Decode: %s", name, d)
				}
				if i%3 == 2 {
					continue // the next file without Complete
				}
				for range 2 {
					if got, err = dec.Complete(); err != nil {
						t.Fatalf("%s: Complete: %v", name, err)
					}
					if d := diffEvents(got, want); d != "" {
						t.Fatalf("%s: Complete: %s", name, d)
					}
				}
			}
		})
	}
}

// TestDecoderProjectRefuses checks that an unknown column is an error naming
// it, which leaves the projection as it was.
func TestDecoderProjectRefuses(t *testing.T) {
	dec := NewDecoder()
	if err := dec.Project([]string{"pid"}); err != nil {
		t.Fatal(err)
	}
	err := dec.Project([]string{"command_line", "no_such_column"})
	if err == nil || !strings.Contains(err.Error(), `"no_such_column"`) {
		t.Fatalf("Project(no_such_column) = %v, want an error naming it", err)
	}
	if got := dec.Projection(); !slices.Equal(got, []string{"pid"}) {
		t.Fatalf("after the error, Projection() = %v, want [pid]", got)
	}
}

// TestTypeColumns checks the columns of an event type against its fields.
func TestTypeColumns(t *testing.T) {
	for _, tc := range []struct {
		typ         Type
		has, hasNot []string
	}{
		{SensorHeartbeat, []string{"event/SENSOR_VERSION", "event/DROPS", "routing/hostname", "routing/event_id"}, []string{"event/COMMAND_LINE", "event/STATS/EXEC"}},
		{HostStats, []string{"event/STATS/EXEC", "routing/sensor_id"}, []string{"event/SENSOR_VERSION", "event/ENVIRONMENT"}},
		{NewProcess, []string{"event/COMMAND_LINE", "event/ENVIRONMENT"}, []string{"event/STATS/EXEC"}},
	} {
		cols := TypeColumns(tc.typ)
		for _, paths := range [][]string{tc.has, tc.hasNot} {
			for _, p := range paths {
				f, err := Lookup(p)
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range f.Columns() {
					if slices.Contains(cols, c) != slices.Contains(tc.has, p) {
						t.Errorf("%s: TypeColumns has %s (%s): %v, want %v", tc.typ, c, p, slices.Contains(cols, c), slices.Contains(tc.has, p))
					}
				}
			}
		}
	}
}

// copyField copies the top-level field i of src to dst.
func copyField(dst, src *Event, i int) {
	reflect.ValueOf(dst).Elem().Field(i).Set(reflect.ValueOf(src).Elem().Field(i))
}
