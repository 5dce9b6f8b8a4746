package search

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/event"
)

// ErrUnsupported is returned (wrapped) for a query SQL cannot express.
var ErrUnsupported = errors.New("athena search")

// Tables names the lake's two Glue tables over the same files, each as
// database.table (quoted as needed).
type Tables struct {
	// BySensor is partitioned by dt, hr and sensor; its sensor partition is
	// injected (Athena takes its values from the query), so a query of it
	// names its sensors and reads only their files.
	BySensor string
	// AllSensors is partitioned by dt and hr only: a query that names no
	// sensor reads every sensor's files of its hours there.
	AllSensors string
}

// SQL compiles q to one Athena (Trino) statement over the lake's Glue tables:
// t.BySensor when q names sensors, t.AllSensors when it names none. It
// selects every column of the table in the shape EventFromRow reads (times as
// milliseconds since the epoch, lists as JSON), in time order. The WHERE
// clause holds the partition predicates first: dt and hr select the hours
// whose partitions may hold events of the time range (partitionHours), from
// q.Since to q.Until (now when zero), and sensor the sensors named. Every
// value is a literal with its quotes escaped. Paths and operators that have
// no SQL form are errors naming them.
func SQL(q Query, t Tables, now time.Time) (string, error) {
	table := t.BySensor
	if len(q.Sensors) == 0 {
		table = t.AllSensors
	}
	if table == "" {
		return "", fmt.Errorf("%w: no table for a query naming %d sensors (by sensor %q, all sensors %q)",
			ErrUnsupported, len(q.Sensors), t.BySensor, t.AllSensors)
	}
	until := q.Until
	if until.IsZero() {
		until = now
	}
	var where []string
	where = append(where, partitionSQL(partitionHours(q.Since, until)))
	if len(q.Sensors) > 0 {
		sensors := make([]string, len(q.Sensors))
		for i, s := range q.Sensors {
			sensors[i] = quote(strings.TrimPrefix(sensorDir(s), "sensor="))
		}
		where = append(where, `"sensor" IN (`+strings.Join(sensors, ", ")+")")
	}
	where = append(where, `"event_time" >= `+timestampSQL(q.Since), `"event_time" < `+timestampSQL(until))
	if len(q.Sensors) > 0 {
		ids := make([]string, len(q.Sensors))
		for i, s := range q.Sensors {
			ids[i] = quote(s)
		}
		where = append(where, `"sensor_id" IN (`+strings.Join(ids, ", ")+")")
	}
	if q.Where != nil {
		if q.Where.Events != nil {
			types := make([]string, len(q.Where.Events))
			for i, t := range q.Where.Events {
				types[i] = quote(t)
			}
			where = append(where, `"event_type" IN (`+strings.Join(types, ", ")+")")
		}
		root, err := condOf(q.Where)
		if err != nil {
			return "", err
		}
		s, err := root.sql()
		if err != nil {
			return "", err
		}
		where = append(where, s)
	}
	var b strings.Builder
	b.WriteString("SELECT ")
	for i, c := range event.Columns() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(selectSQL(c))
	}
	fmt.Fprintf(&b, "\nFROM %s\nWHERE %s\nORDER BY \"event_time\", \"event_id\"", table, strings.Join(where, "\n  AND "))
	if q.Limit > 0 {
		fmt.Fprintf(&b, "\nLIMIT %d", q.Limit)
	}
	return b.String(), nil
}

// selectSQL is the select item of a column, in the shape EventFromRow reads.
func selectSQL(c event.Column) string {
	switch {
	case c.Type == "timestamp":
		return fmt.Sprintf("CAST(round(to_unixtime(%s) * 1000) AS bigint) AS %s", ident(c.Name), ident(c.Name))
	case strings.HasPrefix(c.Type, "array<"):
		return fmt.Sprintf("json_format(CAST(%s AS JSON)) AS %s", ident(c.Name), ident(c.Name))
	}
	return ident(c.Name)
}

// partitionHours returns the first and last hour whose partitions may hold
// events of [since, until): a partition holds events of [hour-partitionSkew,
// hour+1h) (Query.mayHold), so the range starts at the hour of since and ends
// at the last hour that starts less than partitionSkew after until.
func partitionHours(since, until time.Time) (first, last time.Time) {
	return since.UTC().Truncate(time.Hour), until.UTC().Add(partitionSkew - time.Nanosecond).Truncate(time.Hour)
}

// partitionSQL selects the dt and hr partitions of the hours from..until.
func partitionSQL(from, until time.Time) string {
	from, until = from.UTC(), until.UTC()
	d1, h1 := quote(from.Format("2006-01-02")), quote(from.Format("15"))
	d2, h2 := quote(until.Format("2006-01-02")), quote(until.Format("15"))
	if d1 == d2 {
		return fmt.Sprintf(`"dt" = %s AND "hr" BETWEEN %s AND %s`, d1, h1, h2)
	}
	return fmt.Sprintf(`(("dt" = %s AND "hr" >= %s) OR ("dt" > %s AND "dt" < %s) OR ("dt" = %s AND "hr" <= %s))`, d1, h1, d1, d2, d2, h2)
}

func timestampSQL(t time.Time) string {
	return "TIMESTAMP " + quote(t.UTC().Format("2006-01-02 15:04:05.000"))
}

// ident is a quoted identifier: some columns (user) are reserved words.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// quote is a SQL string literal of s: quotes doubled, so that nothing in s
// ends the literal.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// likeQuote is a LIKE pattern literal matching s literally around the
// wildcards pre and post (escape character \).
func likeQuote(pre, s, post string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return quote(pre+r.Replace(s)+post) + ` ESCAPE '\'`
}

// sqlErr is the error of a node without a SQL form.
func (c *cond) sqlErr(format string, args ...any) error {
	return fmt.Errorf("%w: where line %d: "+format+" has no SQL form", append([]any{ErrUnsupported, c.line}, args...)...)
}

func (c *cond) sql() (string, error) {
	s, err := c.sqlNode()
	if err != nil {
		return "", err
	}
	if c.not {
		return "NOT (" + s + ")", nil
	}
	return s, nil
}

func (c *cond) sqlNode() (string, error) {
	switch c.op {
	case "and", "or":
		parts := make([]string, len(c.rules))
		for i, r := range c.rules {
			s, err := r.sql()
			if err != nil {
				return "", err
			}
			parts[i] = s
		}
		return "(" + strings.Join(parts, " "+strings.ToUpper(c.op)+" ") + ")", nil
	case "is tagged":
		return c.listTest(ident("tags"), func(x string) string { return c.strTest(x, "is", c.tag) }), nil
	}
	expr, kind, err := c.column()
	if err != nil {
		return "", err
	}
	switch kind {
	case event.StringList:
		switch c.op {
		case "exists":
			return "cardinality(" + expr + ") > 0", nil
		case "length of":
			return c.cmpSQL("cardinality(" + expr + ")")
		}
		var err error
		s := c.listTest(expr, func(x string) string {
			var s string
			s, err = c.scalarSQL(x, event.String)
			return s
		})
		return s, err
	}
	return c.scalarSQL(expr, kind)
}

// listTest is true when some item x of list satisfies test(x).
func (c *cond) listTest(list string, test func(x string) string) string {
	return "any_match(" + list + ", x -> " + test("x") + ")"
}

// scalarSQL tests the string or number expr.
func (c *cond) scalarSQL(expr string, kind event.Kind) (string, error) {
	switch c.op {
	case "is", "contains", "starts with", "ends with":
		if kind == event.Number {
			n, err := strconv.ParseInt(c.value, 0, 64)
			if err != nil {
				return "", c.sqlErr("value %q", c.value)
			}
			return fmt.Sprintf("%s = %d", expr, n), nil
		}
		return c.strTest(expr, c.op, c.value), nil
	case "exists":
		if kind == event.Number {
			return expr + " <> 0", nil
		}
		return expr + " <> ''", nil
	case "is greater than", "is lower than":
		n, err := strconv.ParseInt(c.value, 0, 64)
		if err != nil {
			return "", c.sqlErr("value %q", c.value)
		}
		return fmt.Sprintf("%s %s %d", expr, cmpOps[c.op], n), nil
	case "length of":
		return c.cmpSQL("length(" + expr + ")")
	case "matches":
		re := c.re
		if c.fold {
			re = "(?i)" + re
		}
		return "regexp_like(" + expr + ", " + quote(re) + ")", nil
	case "cidr":
		parts := make([]string, len(c.values))
		for i, p := range c.values {
			parts[i] = "contains(" + quote(p) + ", TRY_CAST(" + expr + " AS IPADDRESS))"
		}
		return "coalesce(" + strings.Join(parts, " OR ") + ", false)", nil
	case "in list":
		items := make([]string, len(c.values))
		for i, v := range c.values {
			if kind == event.Number {
				n, err := strconv.ParseInt(v, 0, 64)
				if err != nil {
					return "", c.sqlErr("in list item %q", v)
				}
				items[i] = strconv.FormatInt(n, 10)
				continue
			}
			if c.fold {
				v = strings.ToLower(v)
			}
			items[i] = quote(v)
		}
		if c.fold && kind == event.String {
			expr = "lower(" + expr + ")"
		}
		return expr + " IN (" + strings.Join(items, ", ") + ")", nil
	}
	return "", c.sqlErr("op %s", c.op)
}

var cmpOps = map[string]string{"is": "=", "is greater than": ">", "is lower than": "<"}

func (c *cond) cmpSQL(expr string) (string, error) {
	n, err := strconv.ParseInt(c.value, 0, 64)
	if err != nil {
		return "", c.sqlErr("value %q", c.value)
	}
	op := "="
	if c.compare != "" {
		op = cmpOps[c.compare]
	}
	return fmt.Sprintf("%s %s %d", expr, op, n), nil
}

// strTest compares the string expr with v by op, folding case as the node
// says.
func (c *cond) strTest(expr, op, v string) string {
	if c.fold {
		expr, v = "lower("+expr+")", strings.ToLower(v)
	}
	switch op {
	case "contains":
		return "strpos(" + expr + ", " + quote(v) + ") > 0"
	case "starts with":
		return expr + " LIKE " + likeQuote("", v, "%")
	case "ends with":
		return expr + " LIKE " + likeQuote("%", v, "")
	}
	return expr + " = " + quote(v)
}

// column is the SQL expression of the node's path and the kind of value it
// yields.
func (c *cond) column() (string, event.Kind, error) {
	f, err := event.Lookup(c.path)
	if err != nil {
		return "", 0, err
	}
	// positions and any ancestor: the ancestry and argument lists
	if rest, ok := strings.CutPrefix(c.path, "event/ANCESTORS/"); ok {
		pos, name, _ := strings.Cut(rest, "/")
		col := ident(map[string]string{"FILE_PATH": "ancestor_file_paths", "FILE_NAME": "ancestor_file_paths",
			"COMMAND_LINE": "ancestor_command_lines", "USER": "ancestor_users", "PROCESS_ID": "ancestor_pids"}[name])
		if pos == "*" {
			return col, event.StringList, nil
		}
		n, _ := strconv.Atoi(pos)
		if name == "PROCESS_ID" {
			return fmt.Sprintf("coalesce(element_at(%s, %d), 0)", col, n+1), event.Number, nil
		}
		expr := fmt.Sprintf("coalesce(element_at(%s, %d), '')", col, n+1)
		if name == "FILE_NAME" {
			expr = baseSQL(expr)
		}
		return expr, event.String, nil
	}
	if rest, ok := strings.CutPrefix(c.path, "event/ARGS/"); ok {
		n, _ := strconv.Atoi(rest)
		return fmt.Sprintf("coalesce(element_at(%s, %d), '')", ident("args"), n+1), event.String, nil
	}
	cols := f.Columns()
	if len(cols) != 1 || f.Keyed() {
		return "", 0, c.sqlErr("path %s", c.path)
	}
	col := ident(cols[0])
	switch {
	case f.Derived == "" && hiveTypes[cols[0]] == "timestamp":
		return "", 0, c.sqlErr("path %s (a time: search by since and until)", c.path)
	case f.Derived == "" && optional[cols[0]]:
		return "coalesce(" + col + ", 0)", f.Kind, nil
	case f.Derived == "":
		return col, f.Kind, nil
	case strings.HasSuffix(c.path, "/FILE_NAME"):
		return baseSQL(col), event.String, nil
	case c.path == "event/HAS_TTY":
		return "IF(" + col + " <> '', 1, 0)", event.Number, nil
	}
	return "", 0, c.sqlErr("path %s", c.path)
}

// hiveTypes are the table's column types by name.
var hiveTypes = func() map[string]string {
	m := map[string]string{}
	for _, c := range event.Columns() {
		m[c.Name] = c.Type
	}
	return m
}()

// optional are the columns that hold null for a zero value.
var optional = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range event.Schema().Fields() {
		m[f.Name()] = f.Optional()
	}
	return m
}()

// baseSQL is the last element of the slash-separated path expr.
func baseSQL(expr string) string {
	return "regexp_extract(" + expr + ", '[^/]*$')"
}
