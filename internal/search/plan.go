package search

import (
	"bytes"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/vigil-sec/vigil/internal/event"
)

// plan is how a query reads a lake file: the columns its first pass reads
// and the bounds tests that skip row groups.
type plan struct {
	q       *Query
	root    *cond // nil: no condition
	columns []string
}

// alwaysRead are the columns every first pass reads: what Query.Match tests
// besides the condition.
var alwaysRead = []string{"event_type", "event_time", "sensor_id"}

func newPlan(q *Query) (*plan, error) {
	p := &plan{q: q}
	if q.Where == nil {
		return p, nil
	}
	root, err := condOf(q.Where)
	if err != nil {
		return nil, err
	}
	p.root = root
	var fs []*event.Field
	all := false
	root.walk(func(c *cond) {
		path := c.path
		if c.op == "is tagged" {
			path = "routing/tags"
		}
		if path == "" {
			return
		}
		f, err := event.Lookup(path)
		if err != nil {
			all = true // the engine compiled it: cannot happen
			return
		}
		fs = append(fs, f)
	})
	if cols, ok := event.ColumnsOf(fs...); ok && !all {
		p.columns = slices.Clone(alwaysRead)
		for _, c := range cols {
			if !slices.Contains(p.columns, c) {
				p.columns = append(p.columns, c)
			}
		}
	}
	return p, nil
}

// walk calls fn on c and every node under it.
func (c *cond) walk(fn func(*cond)) {
	fn(c)
	for _, r := range c.rules {
		r.walk(fn)
	}
}

// mayMatch reports whether row group g of lf may hold an event the query
// matches, by the bounds of its columns.
func (p *plan) mayMatch(lf *event.LakeFile, g int) bool {
	if lo, hi, ok := lf.Bounds(g, "event_time"); ok {
		if hi.Int64() < p.q.Since.UnixNano() || (!p.q.Until.IsZero() && lo.Int64() >= p.q.Until.UnixNano()) {
			return false
		}
	}
	if len(p.q.Sensors) > 0 && !anyInBounds(lf, g, "sensor_id", p.q.Sensors) {
		return false
	}
	if p.q.Where != nil && p.q.Where.Events != nil && !anyInBounds(lf, g, "event_type", p.q.Where.Events) {
		return false
	}
	return p.root == nil || p.root.mayMatch(lf, g)
}

// anyInBounds reports whether one of values lies within the bounds of a
// string column (true when the file keeps none).
func anyInBounds(lf *event.LakeFile, g int, column string, values []string) bool {
	lo, hi, ok := lf.Bounds(g, column)
	if !ok {
		return true
	}
	for _, v := range values {
		if inBounds(lo, hi, []byte(v)) {
			return true
		}
	}
	return false
}

func inBounds(lo, hi parquet.Value, v []byte) bool {
	return bytes.Compare(v, lo.ByteArray()) >= 0 && bytes.Compare(v, hi.ByteArray()) <= 0
}

// mayMatch is the bounds test of one node: false only when no row of the
// row group can satisfy it. Only case-sensitive is, in list and starts with
// on a string column read as it is stored are tested; other nodes may match.
func (c *cond) mayMatch(lf *event.LakeFile, g int) bool {
	switch {
	case c.not:
		return true
	case c.op == "and":
		for _, r := range c.rules {
			if !r.mayMatch(lf, g) {
				return false
			}
		}
		return true
	case c.op == "or":
		for _, r := range c.rules {
			if r.mayMatch(lf, g) {
				return true
			}
		}
		return false
	case c.fold || (c.op != "is" && c.op != "in list" && c.op != "starts with"):
		return true
	}
	col, ok := storedColumn(c.path)
	if !ok {
		return true
	}
	lo, hi, ok := lf.Bounds(g, col)
	if !ok {
		return true
	}
	switch c.op {
	case "is":
		return inBounds(lo, hi, []byte(c.value))
	case "in list":
		for _, v := range c.values {
			if inBounds(lo, hi, []byte(v)) {
				return true
			}
		}
		return false
	}
	// starts with v: some string in [lo, hi] has the prefix v
	v := []byte(c.value)
	l := lo.ByteArray()
	return bytes.Compare(hi.ByteArray(), v) >= 0 && bytes.Compare(l[:min(len(l), len(v))], v) <= 0
}

// storedColumn is the column a string path reads as it is stored, if any.
func storedColumn(path string) (string, bool) {
	f, err := event.Lookup(path)
	if err != nil || f.Kind != event.String || f.Derived != "" {
		return "", false
	}
	cols := f.Columns()
	if len(cols) != 1 {
		return "", false
	}
	leaf, ok := event.Schema().Lookup(cols[0])
	if !ok || !leaf.Node.Leaf() || leaf.Node.Type().Kind() != parquet.ByteArray {
		return "", false
	}
	return cols[0], true
}
