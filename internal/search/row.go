package search

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/vigil-sec/vigil/internal/event"
)

// rowField is where a result column goes in an Event.
type rowField struct {
	index     int
	timestamp bool // milliseconds since the epoch, stored as nanoseconds
}

var rowFields = func() map[string]rowField {
	m := map[string]rowField{}
	types := map[string]string{}
	for _, c := range event.Columns() {
		types[c.Name] = c.Type
	}
	t := reflect.TypeFor[event.Event]()
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("parquet"), ",")
		m[name] = rowField{index: i, timestamp: types[name] == "timestamp"}
	}
	return m
}()

// EventFromRow builds an event from a result row of a statement SQL made:
// columns are the result's column names, values their text (nil: SQL null,
// read as the zero value). Unknown columns and values that do not fit their
// field are errors naming the column.
func EventFromRow(columns []string, values []*string) (event.Event, error) {
	var e event.Event
	if len(columns) != len(values) {
		return e, fmt.Errorf("row of %d values for %d columns", len(values), len(columns))
	}
	v := reflect.ValueOf(&e).Elem()
	for i, col := range columns {
		rf, ok := rowFields[col]
		if !ok {
			return e, fmt.Errorf("column %q is not a lake column", col)
		}
		if values[i] == nil {
			continue
		}
		if err := setValue(v.Field(rf.index), *values[i], rf.timestamp); err != nil {
			return e, fmt.Errorf("column %s: %w", col, err)
		}
	}
	return e, nil
}

func setValue(f reflect.Value, s string, timestamp bool) error {
	switch f.Kind() {
	case reflect.String:
		f.SetString(s)
	case reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || f.OverflowInt(n) {
			return fmt.Errorf("%q is not a %s", s, f.Type())
		}
		if timestamp {
			n *= 1_000_000
		}
		f.SetInt(n)
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		// bigint holds a uint64 above math.MaxInt64 as its negative image
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(s, 10, 64)
			if uerr != nil {
				return fmt.Errorf("%q is not a %s", s, f.Type())
			}
			n = int64(u)
		}
		if f.Kind() != reflect.Uint64 && (n < 0 || f.OverflowUint(uint64(n))) {
			return fmt.Errorf("%q is not a %s", s, f.Type())
		}
		f.SetUint(uint64(n))
	case reflect.Slice:
		p := reflect.New(f.Type())
		if err := json.Unmarshal([]byte(s), p.Interface()); err != nil {
			return fmt.Errorf("want a JSON list of %s: %w", f.Type().Elem(), err)
		}
		f.Set(p.Elem())
	default:
		return fmt.Errorf("no reader for %s", f.Type())
	}
	return nil
}
