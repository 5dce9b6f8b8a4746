package event

import (
	"fmt"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
)

// Column is one column of the lake table as Glue/Athena (Hive types) see it.
type Column struct {
	Name string
	Type string
}

// Columns returns the lake table's columns, derived from the Event schema: the
// Glue table in the CDK app and anything else describing the lake use this, never
// a second copy.
func Columns() []Column {
	fields := eventSchema.Fields()
	out := make([]Column, 0, len(fields))
	for _, f := range fields {
		out = append(out, Column{Name: f.Name(), Type: hiveType(f)})
	}
	return out
}

func hiveType(f parquet.Field) string {
	if !f.Leaf() {
		// the only groups are lists (LIST: a repeated group "list" of one "element")
		elem := f
		for !elem.Leaf() && len(elem.Fields()) == 1 {
			elem = elem.Fields()[0]
		}
		if !elem.Leaf() {
			panic(fmt.Sprintf("event: no Hive type for column %s (%s)", f.Name(), f.Type()))
		}
		return "array<" + hiveType(elem) + ">"
	}
	if lt := f.Type().LogicalType(); lt != nil {
		switch v := lt.Value.(type) {
		case *format.TimestampType:
			return "timestamp"
		case *format.StringType:
			return "string"
		case *format.IntType:
			if v.BitWidth <= 32 && v.IsSigned {
				return "int"
			}
			return "bigint" // unsigned 32 and 64 bit values: Hive has no unsigned types
		}
	}
	switch f.Type().Kind() {
	case parquet.ByteArray:
		return "string"
	case parquet.Int32:
		return "int"
	case parquet.Int64:
		return "bigint"
	case parquet.Boolean:
		return "boolean"
	case parquet.Double:
		return "double"
	}
	panic(fmt.Sprintf("event: no Hive type for column %s (%s)", f.Name(), f.Type()))
}
