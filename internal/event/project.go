package event

import (
	"fmt"
	"slices"
	"strings"
)

// A Decoder may read only some of a batch's columns (Project): the detect
// function reads the columns its rules read, and the rest of a batch only when
// a rule matched one of its events (Complete). Most batches match nothing, and
// the columns no rule reads (environment variables, hashes, namespaces) are
// most of a batch's bytes.

// leafColumnIndex maps each leaf, by index in leaves, to its top-level lake
// column's index in Columns' order (the order of Event's fields).
var leafColumnIndex = func() []int {
	byName := make(map[string]int, len(fields))
	for i := range fields {
		byName[columnName(i)] = i
	}
	out := make([]int, len(leaves))
	for l := range leaves {
		i, ok := byName[leaves[l].path[0]]
		if !ok {
			panic(fmt.Sprintf("event: leaf %s has no top-level field", strings.Join(leaves[l].path, ".")))
		}
		out[l] = i
	}
	return out
}()

// columnIndex returns the index of the top-level lake column name.
func columnIndex(name string) (int, bool) {
	for i := range fields {
		if columnName(i) == name {
			return i, true
		}
	}
	return 0, false
}

// Project makes Decode read only the top-level lake columns named (as
// Field.Columns names them) and leave every other field of its events zero
// until Complete reads them. No columns, nil, reads every column. An unknown
// column is an error, and the projection is left as it was.
func (d *Decoder) Project(columns []string) error {
	if len(columns) == 0 {
		d.only, d.projected = columnSet{}, false
		return nil
	}
	var set columnSet
	for _, c := range columns {
		i, ok := columnIndex(c)
		if !ok {
			return fmt.Errorf("project: unknown column %q", c)
		}
		set.add(i)
	}
	d.only, d.projected = set, true
	return nil
}

// Projection returns the columns Decode reads, in Columns' order; nil when it
// reads every column.
func (d *Decoder) Projection() []string {
	if !d.projected {
		return nil
	}
	var out []string
	for i := range fields {
		if d.only.has(i) {
			out = append(out, columnName(i))
		}
	}
	return slices.Clip(out)
}

// wants reports whether the leaf at index l in leaves is read by Decode.
func (d *Decoder) wants(l int) bool { return !d.projected || d.only.has(leafColumnIndex[l]) }

// Complete reads the columns of the last batch Decode left out into its
// events (which Decode returned, and which it returns again), so that they
// hold the whole batch; the batch's bytes must not have changed. After a
// Decode that read every column, or a second Complete, it only returns the
// events. An error leaves the events as Decode left them, but for the columns
// read before it.
func (d *Decoder) Complete() (out []Event, err error) {
	last := &d.last
	if last.done {
		return last.evs, nil
	}
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%w: malformed file: %v", ErrNotParquet, r)
		}
	}()
	last.done = true
	rest := func(l int) bool { return !d.wants(l) }
	for _, m := range last.byCol {
		if rest(m.leaf) {
			d.dirty[m.leaf] = true
		}
	}
	if err := d.cols.readFile(last.evs, last.data, last.md, last.f, last.byCol, rest); err != nil {
		return nil, err
	}
	return last.evs, nil
}

// TypeColumns returns the top-level lake columns of every field of events of
// type t (every one of Fields that applies to it), in the order of Event's
// fields.
func TypeColumns(t Type) []string {
	var fs []*Field
	for i := range Fields {
		if f := &Fields[i]; f.AppliesTo(t) {
			fs = append(fs, f)
		}
	}
	cols, _ := ColumnsOf(fs...) // Fields' columns are all told apart (TestFieldColumns)
	return cols
}
